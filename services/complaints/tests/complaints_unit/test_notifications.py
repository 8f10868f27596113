"""Messages to complainants: queued with the change, delivered by an adapter, retried with backoff."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from grms_complaints.adapters.channels import SmtpAdapter, SmtpConfig
from grms_complaints.domain.model import RejectionReason, Status
from grms_complaints.domain.notifications import DeliveryStatus, NotificationKind, backoff
from grms_complaints.domain.sla import SlaPolicy
from grms_complaints.entrypoints.notification_dispatcher import NotificationDispatcher
from grms_complaints.service_layer import handlers
from grms_kit.errors import FailedPrecondition
from grms_kit.testing import free_port

from .conftest import AGENCY, EMAIL, OFFICER, PHONE, PINS, filed
from .fakes import FakeUnitOfWork
from .test_lifecycle import to


async def run_here(fn: Any, *args: Any, **kwargs: Any) -> Any:
    """What Database.run does, without the thread: the handlers are synchronous."""
    return fn(*args, **kwargs)


def test_replies_resolutions_and_rejections_are_queued_with_the_change(uow: FakeUnitOfWork, sla: SlaPolicy) -> None:
    f = to(uow, sla, Status.RESOLVED)
    queued = uow.notifications.for_ticket(f.complaint.ticket_id)
    assert [n.kind for n in queued] == [NotificationKind.REPLY, NotificationKind.RESOLVED]
    assert queued[0].text == f"Tanggapan atas pengaduan {f.complaint.ticket_id}: Sudah kami tambal."
    assert "10 hari kerja" in queued[1].text and all(n.status is DeliveryStatus.PENDING for n in queued)

    spam = filed(uow, sla).complaint.ticket_id
    handlers.reject_complaint(
        handlers.RejectComplaint(spam, RejectionReason.NOT_ELIGIBLE, f"Hubungi {PHONE} untuk info"),
        uow=uow,
        actor=OFFICER,
    )
    [rejected] = uow.notifications.for_ticket(spam)
    assert rejected.kind is NotificationKind.REJECTED and "tidak memenuhi kriteria" in rejected.text
    assert PHONE not in rejected.text and "[nomor telepon disembunyikan]" in rejected.text


def test_a_refused_change_queues_nothing(uow: FakeUnitOfWork, sla: SlaPolicy) -> None:
    t = to(uow, sla, Status.ASSIGNED).complaint.ticket_id
    with pytest.raises(FailedPrecondition):
        handlers.respond_to_complaint(t, "Belum mulai dikerjakan", uow=uow, actor=AGENCY)  # not in progress yet
    assert uow.notifications.for_ticket(t) == []


def test_backoff_doubles_up_to_an_hour_then_gives_up(uow: FakeUnitOfWork, sla: SlaPolicy) -> None:
    assert [backoff(n) for n in (1, 2, 3)] == [dt.timedelta(seconds=s) for s in (30, 60, 120)]
    assert backoff(20) == dt.timedelta(hours=1)
    t = to(uow, sla, Status.RESPONDED).complaint.ticket_id
    [claimed] = handlers.claim_notifications(10, uow=uow, with_email=False)
    assert handlers.claim_notifications(10, uow=uow, with_email=False) == []  # held by the lease
    n = handlers.notification_failed(claimed.notification.id, "connection refused", uow=uow, max_attempts=2)
    assert n.status is DeliveryStatus.PENDING and n.next_attempt_at == uow.clock.now() + dt.timedelta(seconds=30)
    uow.clock.advance(dt.timedelta(seconds=30))
    [again] = handlers.claim_notifications(10, uow=uow, with_email=False)
    n = handlers.notification_failed(again.notification.id, "connection refused", uow=uow, max_attempts=2)
    assert (n.status, n.attempts, n.next_attempt_at) == (DeliveryStatus.FAILED, 2, None)
    uow.clock.advance(dt.timedelta(days=1))
    assert handlers.claim_notifications(10, uow=uow, with_email=False) == []
    assert uow.notifications.for_ticket(t)[0].last_error == "connection refused"


def test_the_address_is_read_only_for_e_mail_and_the_read_is_logged(uow: FakeUnitOfWork, sla: SlaPolicy) -> None:
    to(uow, sla, Status.RESPONDED)
    [delivery] = handlers.claim_notifications(10, uow=uow, with_email=True)
    assert delivery.email == EMAIL
    assert [e["actor"] for e in uow.complainants.access_log] == ["notification-dispatcher"]


async def test_the_dispatcher_logs_without_smtp_and_retries_a_failing_smtp(uow: FakeUnitOfWork, sla: SlaPolicy) -> None:
    f = to(uow, sla, Status.RESPONDED)
    down = SmtpAdapter(
        SmtpConfig(host="127.0.0.1", port=free_port(), sender="laporgub@jatengprov.go.id", starttls=False, timeout=2)
    )
    failing = NotificationDispatcher(lambda: uow, run=run_here, smtp=down)
    assert await failing.tick() == 1
    [n] = uow.notifications.for_ticket(f.complaint.ticket_id)
    assert (n.status, n.attempts) == (DeliveryStatus.PENDING, 1) and "Connection" in n.last_error
    uow.clock.advance(dt.timedelta(seconds=30))
    logging_only = NotificationDispatcher(lambda: uow, run=run_here)
    assert await logging_only.tick() == 1
    [n] = uow.notifications.for_ticket(f.complaint.ticket_id)
    assert (n.status, n.delivered_via, n.sent_at) == (DeliveryStatus.SENT, "log", uow.clock.now())
    tracked = handlers.track_complaint(f.complaint.ticket_id, f.pin, uow=uow, pins=PINS)
    assert [m.delivered_via for m in tracked.notifications] == ["log"]
