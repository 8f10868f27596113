"""The complainant's rating at closure, and the auto-close of resolved complaints nobody answers."""

from __future__ import annotations

import datetime as dt

import pytest
from grms_complaints.adapters.calendar import sla_policy
from grms_complaints.domain.model import ComplaintRated, MessageKind, Status
from grms_complaints.domain.sla import JAKARTA, DeadlineKind, SlaPolicy
from grms_complaints.service_layer import handlers
from grms_kit.errors import FailedPrecondition, InvalidArgument, NotFound

from .conftest import PINS
from .fakes import FakeUnitOfWork
from .test_lifecycle import to

# Resolved on Friday 9 May 2025 (16:00 WIB): Monday 12 May is Waisak, Tuesday 13 May cuti
# bersama, so the 10th working day after is Tuesday 27 May; it closes at midnight WIB after it.
AUTO_CLOSE_DUE = dt.datetime(2025, 5, 28, 0, 0, tzinfo=JAKARTA).astimezone(dt.UTC)


def rate(uow: FakeUnitOfWork, ticket: str, pin: str, score: int, comment: str = "") -> None:
    handlers.rate_complaint(handlers.RateComplaint(ticket, pin, score, comment), uow=uow, pins=PINS)


def test_the_complainant_rates_once_and_a_resolved_complaint_closes(uow: FakeUnitOfWork, sla: SlaPolicy) -> None:
    f = to(uow, sla, Status.RESOLVED)
    t = f.complaint.ticket_id
    with pytest.raises(NotFound):
        rate(uow, t, "00000000", 5)
    with pytest.raises(InvalidArgument) as bad:
        rate(uow, t, f.pin, 6, "x" * 1001)
    assert {v.field for v in bad.value.violations} == {"score", "comment"}
    rate(uow, t, f.pin, 4, "  Cepat ditangani, terima kasih  ")
    stored = uow.complaints.rows[t]
    assert stored.status is Status.CLOSED
    assert stored.rating is not None and (stored.rating.score, stored.rating.comment) == (
        4,
        "Cepat ditangani, terima kasih",
    )
    assert not [d for d in stored.deadlines if d.is_open]  # the auto-close clock stopped
    assert isinstance(uow.published[-1], ComplaintRated)
    with pytest.raises(FailedPrecondition, match="rated already"):
        rate(uow, t, f.pin, 1)


def test_no_rating_before_resolution_and_a_closed_complaint_can_be_rated(uow: FakeUnitOfWork, sla: SlaPolicy) -> None:
    early = to(uow, sla, Status.RESPONDED)
    with pytest.raises(FailedPrecondition):
        rate(uow, early.complaint.ticket_id, early.pin, 3)
    closed = to(uow, sla, Status.CLOSED)
    rate(uow, closed.complaint.ticket_id, closed.pin, 2)
    stored = uow.complaints.rows[closed.complaint.ticket_id]
    assert stored.status is Status.CLOSED and stored.rating is not None and stored.rating.score == 2


def test_a_resolved_complaint_closes_itself_after_ten_working_days_exactly_once(
    uow: FakeUnitOfWork, sla: SlaPolicy
) -> None:
    t = to(uow, sla, Status.RESOLVED).complaint.ticket_id
    [auto_close] = [d for d in uow.complaints.rows[t].deadlines if d.kind is DeadlineKind.AUTO_CLOSE]
    assert auto_close.due_at == AUTO_CLOSE_DUE
    uow.clock.set(AUTO_CLOSE_DUE - dt.timedelta(minutes=1))
    assert handlers.scan_sla(100, uow=uow) == 0
    assert uow.complaints.rows[t].status is Status.RESOLVED
    uow.clock.set(AUTO_CLOSE_DUE)
    assert handlers.scan_sla(100, uow=uow) == 1
    stored = uow.complaints.rows[t]
    assert stored.status is Status.CLOSED
    assert [m.text for m in stored.messages if m.kind is MessageKind.NOTE] == [
        "Ditutup otomatis: pelapor tidak menanggapi penyelesaian"
    ]
    version = stored.version
    uow.clock.advance(dt.timedelta(days=30))
    assert handlers.scan_sla(100, uow=uow) == 0  # nothing left to do: the deadline was met in the same save
    assert uow.complaints.rows[t].version == version
    assert not [e for e in uow.published if type(e).__name__ == "SlaStepReached"]  # never warned or escalated


def test_reopening_in_time_stops_the_auto_close(uow: FakeUnitOfWork, sla: SlaPolicy) -> None:
    f = to(uow, sla, Status.RESOLVED)
    t = f.complaint.ticket_id
    handlers.reopen_complaint(handlers.ReopenComplaint(t, f.pin, "Masih berlubang"), uow=uow, pins=PINS, sla=sla)
    uow.clock.set(AUTO_CLOSE_DUE + dt.timedelta(days=1))
    handlers.scan_sla(100, uow=uow)
    assert uow.complaints.rows[t].status is Status.IN_PROGRESS


def test_the_number_of_days_is_a_setting(uow: FakeUnitOfWork) -> None:
    sla = sla_policy([dt.date(2025, 5, 13)], auto_close_days=1)
    t = to(uow, sla, Status.RESOLVED).complaint.ticket_id
    # Friday 9 May → the first working day after is Wednesday 14 May (Waisak, cuti bersama).
    uow.clock.set(dt.datetime(2025, 5, 15, 0, 0, tzinfo=JAKARTA).astimezone(dt.UTC))
    handlers.scan_sla(100, uow=uow)
    assert uow.complaints.rows[t].status is Status.CLOSED
