"""Integration events are built from an allowlist: no identity ever, no text of confidential complaints."""

from __future__ import annotations

import datetime as dt

from grms.complaints.v1 import events_pb2
from grms_complaints.adapters.wire import event_id_for, event_to_message
from grms_complaints.domain.model import Status
from grms_complaints.domain.sla import SlaPolicy
from grms_complaints.service_layer import handlers

from .conftest import AGENCY, NAME, NIK, OFFICER, PHONE, PINS, filed
from .fakes import FakeUnitOfWork

EVENTS = [
    events_pb2.ComplaintReceived,
    events_pb2.ComplaintAssigned,
    events_pb2.ComplaintResponded,
    events_pb2.ComplaintResolved,
    events_pb2.ComplaintReopened,
    events_pb2.ComplaintSlaWarning,
    events_pb2.ComplaintSlaBreached,
]


def test_no_event_type_has_a_field_for_the_complainant() -> None:
    for event in EVENTS:
        fields = {f.name for f in event.DESCRIPTOR.fields}
        assert not fields & {"name", "nik", "phone", "email", "complainant", "reporter_ref", "description"}, event


def _walk(uow: FakeUnitOfWork, sla: SlaPolicy, **flags: bool) -> list[bytes]:
    f = filed(uow, sla, title=f"Pungli di kelurahan, saya {NAME} NIK {NIK}", **flags)
    t = f.complaint.ticket_id
    handlers.verify_complaint(t, uow=uow, actor=OFFICER)
    handlers.assign_complaint(handlers.AssignComplaint(t, "DINKES"), uow=uow, actor=OFFICER, sla=sla)
    handlers.start_work(t, uow=uow, actor=AGENCY)
    handlers.respond_to_complaint(t, f"Kami hubungi {NAME} di {PHONE}.", uow=uow, actor=AGENCY)
    handlers.reopen_complaint(handlers.ReopenComplaint(t, f.pin, "Belum selesai"), uow=uow, pins=PINS, sla=sla)
    uow.clock.advance(dt.timedelta(days=30))
    handlers.scan_sla(100, uow=uow)
    assert uow.complaints.rows[t].status is Status.IN_PROGRESS
    return [event_to_message(e)[0].SerializeToString() for e in uow.published]


def test_confidential_complaints_leave_no_text_in_events(uow: FakeUnitOfWork, sla: SlaPolicy) -> None:
    payloads = _walk(uow, sla, confidential=True)
    assert len(payloads) >= 6
    for payload in payloads:
        for text in ("Pungli", "Kami hubungi", NIK, NAME, PHONE):
            assert text.encode() not in payload


def test_public_complaints_carry_redacted_text_only(uow: FakeUnitOfWork, sla: SlaPolicy) -> None:
    payloads = _walk(uow, sla)
    received = events_pb2.ComplaintReceived.FromString(payloads[0])
    assert received.title.startswith("Pungli di kelurahan") and NIK not in received.title
    assert all(NIK.encode() not in p and PHONE.encode() not in p for p in payloads)


def test_sla_event_ids_are_deterministic(uow: FakeUnitOfWork, sla: SlaPolicy) -> None:
    _walk(uow, sla)
    ids = [event_to_message(e)[2] for e in uow.published]
    assert ids[:4] == [None] * 4  # ordinary facts get a fresh random id in the outbox
    sla_ids = [i for i in ids if i is not None]
    assert sla_ids and len(sla_ids) == len(set(sla_ids))
    ticket = uow.published[0].complaint.ticket_id
    assert event_id_for(f"{ticket}:follow_up:1:escalate:1") in sla_ids  # the reopened round
