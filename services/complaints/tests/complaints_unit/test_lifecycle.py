"""The complaint's state machine, flags and identity handling, run through the real handlers on fakes."""

from __future__ import annotations

import pytest
from grms_complaints.domain.model import (
    ComplaintAssigned,
    ComplaintFiled,
    ComplaintReopened,
    ComplaintResolved,
    ComplaintResponded,
    Location,
    MessageKind,
    RejectionReason,
    Status,
)
from grms_complaints.domain.sla import SLA_KINDS, DeadlineKind, SlaPolicy
from grms_complaints.service_layer import handlers
from grms_kit.errors import FailedPrecondition, InvalidArgument, NotFound, PermissionDenied, Unauthenticated
from grms_kit.identity import ANONYMOUS, Identity, Role

from .conftest import AGENCY, NAME, NIK, OFFICER, PINS, file_cmd, filed
from .fakes import FakeUnitOfWork


def to(uow: FakeUnitOfWork, sla: SlaPolicy, status: Status) -> handlers.FiledComplaint:
    """A complaint walked along the happy path up to `status`."""
    f = filed(uow, sla)
    t = f.complaint.ticket_id
    steps = [
        (Status.VERIFIED, lambda: handlers.verify_complaint(t, uow=uow, actor=OFFICER)),
        (
            Status.ASSIGNED,
            lambda: handlers.assign_complaint(handlers.AssignComplaint(t, "DINKES"), uow=uow, actor=OFFICER, sla=sla),
        ),
        (Status.IN_PROGRESS, lambda: handlers.start_work(t, uow=uow, actor=AGENCY)),
        (Status.RESPONDED, lambda: handlers.respond_to_complaint(t, "Sudah kami tambal.", uow=uow, actor=AGENCY)),
        (Status.RESOLVED, lambda: handlers.resolve_complaint(t, uow=uow, actor=OFFICER, sla=sla)),
        (Status.CLOSED, lambda: handlers.close_complaint(t, uow=uow, actor=OFFICER)),
    ]
    if status is Status.REJECTED:
        handlers.reject_complaint(
            handlers.RejectComplaint(t, RejectionReason.SPAM, "Iklan, bukan aduan"), uow=uow, actor=OFFICER
        )
        return f
    for reached, step in steps:
        if status is Status.RECEIVED:
            break
        step()
        if reached is status:
            break
    assert uow.complaints.rows[t].status is status
    return f


def test_the_happy_path_raises_its_events_and_meets_its_clocks(uow: FakeUnitOfWork, sla: SlaPolicy) -> None:
    f = to(uow, sla, Status.RESOLVED)
    stored = uow.complaints.rows[f.complaint.ticket_id]
    assert [type(e) for e in uow.published] == [
        ComplaintFiled,
        ComplaintAssigned,
        ComplaintResponded,
        ComplaintResolved,
    ]
    assert {d.kind for d in stored.deadlines if d.met_at} == SLA_KINDS
    assert [d.kind for d in stored.deadlines if d.is_open] == [DeadlineKind.AUTO_CLOSE]
    assert stored.first_response_minutes == 0 and stored.resolution_minutes == 0
    assert [m.kind for m in stored.messages] == [MessageKind.REPLY]


# Every state, and what may be done in it (the rest must be refused naming the state).
ACTIONS = ["verify", "assign", "start_work", "respond", "resolve", "close", "reject", "reopen"]
ALLOWED = {
    Status.RECEIVED: {"verify", "reject"},
    Status.VERIFIED: {"assign", "reject"},
    Status.ASSIGNED: {"assign", "start_work"},  # assign = re-route
    Status.IN_PROGRESS: {"assign", "respond"},
    Status.RESPONDED: {"resolve", "reopen"},
    Status.RESOLVED: {"close", "reopen"},
    Status.CLOSED: set(),
    Status.REJECTED: set(),
}
TARGET = {
    "verify": Status.VERIFIED,
    "assign": Status.ASSIGNED,
    "start_work": Status.IN_PROGRESS,
    "respond": Status.RESPONDED,
    "resolve": Status.RESOLVED,
    "close": Status.CLOSED,
    "reject": Status.REJECTED,
    "reopen": Status.IN_PROGRESS,
}


def act(action: str, f: handlers.FiledComplaint, uow: FakeUnitOfWork, sla: SlaPolicy) -> None:
    t = f.complaint.ticket_id
    if action == "verify":
        handlers.verify_complaint(t, uow=uow, actor=OFFICER)
    elif action == "assign":
        handlers.assign_complaint(
            handlers.AssignComplaint(t, "DPUBMCK", "Jalan provinsi, wewenang DPU"), uow=uow, actor=OFFICER, sla=sla
        )
    elif action == "start_work":
        handlers.start_work(t, uow=uow, actor=OFFICER)
    elif action == "respond":
        handlers.respond_to_complaint(t, "Sedang kami tangani.", uow=uow, actor=OFFICER)
    elif action == "resolve":
        handlers.resolve_complaint(t, uow=uow, actor=OFFICER, sla=sla)
    elif action == "close":
        handlers.close_complaint(t, uow=uow, actor=OFFICER)
    elif action == "reject":
        handlers.reject_complaint(
            handlers.RejectComplaint(t, RejectionReason.NOT_OUR_AUTHORITY, "Wewenang Kota Semarang"),
            uow=uow,
            actor=OFFICER,
        )
    else:
        handlers.reopen_complaint(handlers.ReopenComplaint(t, f.pin, "Lubang muncul lagi"), uow=uow, pins=PINS, sla=sla)


@pytest.mark.parametrize(("status", "action"), [(s, a) for s in ALLOWED for a in ACTIONS if a in ALLOWED[s]], ids=str)
def test_every_allowed_transition(uow: FakeUnitOfWork, sla: SlaPolicy, status: Status, action: str) -> None:
    f = to(uow, sla, status)
    act(action, f, uow, sla)
    assert uow.complaints.rows[f.complaint.ticket_id].status is TARGET[action]


@pytest.mark.parametrize(
    ("status", "action"), [(s, a) for s in ALLOWED for a in ACTIONS if a not in ALLOWED[s]], ids=str
)
def test_every_forbidden_transition_names_the_current_state(
    uow: FakeUnitOfWork, sla: SlaPolicy, status: Status, action: str
) -> None:
    f = to(uow, sla, status)
    before = uow.complaints.rows[f.complaint.ticket_id]
    with pytest.raises(FailedPrecondition, match=f"it is {status.value}"):
        act(action, f, uow, sla)
    assert uow.complaints.rows[f.complaint.ticket_id] == before


def test_rerouting_needs_a_reason_and_keeps_the_chain(uow: FakeUnitOfWork, sla: SlaPolicy) -> None:
    f = to(uow, sla, Status.ASSIGNED)
    t = f.complaint.ticket_id
    with pytest.raises(InvalidArgument, match="reason"):
        handlers.assign_complaint(handlers.AssignComplaint(t, "DPUBMCK"), uow=uow, actor=OFFICER, sla=sla)
    handlers.assign_complaint(handlers.AssignComplaint(t, "DPUBMCK", "Jalan provinsi"), uow=uow, actor=OFFICER, sla=sla)
    stored = uow.complaints.rows[t]
    assert [(a.agency_code, a.reason) for a in stored.assignments] == [("DINKES", ""), ("DPUBMCK", "Jalan provinsi")]
    assert [d.kind for d in stored.deadlines].count(DeadlineKind.FOLLOW_UP) == 1  # the clock was not restarted
    last = uow.published[-1]
    assert isinstance(last, ComplaintAssigned) and last.previous_agency_code == "DINKES"


def test_assigning_to_an_agency_not_in_the_reference_copy_is_refused(uow: FakeUnitOfWork, sla: SlaPolicy) -> None:
    f = to(uow, sla, Status.VERIFIED)
    with pytest.raises(FailedPrecondition, match="not known"):
        handlers.assign_complaint(
            handlers.AssignComplaint(f.complaint.ticket_id, "DISPERKIM"), uow=uow, actor=OFFICER, sla=sla
        )


def test_reopen_needs_the_pin_and_restarts_the_agency_clocks(uow: FakeUnitOfWork, sla: SlaPolicy) -> None:
    f = to(uow, sla, Status.RESOLVED)
    t = f.complaint.ticket_id
    with pytest.raises(NotFound):
        handlers.reopen_complaint(handlers.ReopenComplaint(t, "00000000", "Belum beres"), uow=uow, pins=PINS, sla=sla)
    handlers.reopen_complaint(handlers.ReopenComplaint(t, f.pin, "Belum beres"), uow=uow, pins=PINS, sla=sla)
    stored = uow.complaints.rows[t]
    assert stored.reopen_count == 1 and isinstance(uow.published[-1], ComplaintReopened)
    open_rounds = {(d.kind, d.round) for d in stored.deadlines if d.is_open}
    assert open_rounds == {(DeadlineKind.FOLLOW_UP, 1), (DeadlineKind.RESOLUTION, 1)}


def test_staff_may_only_tighten_the_flags(uow: FakeUnitOfWork, sla: SlaPolicy) -> None:
    f = filed(uow, sla)
    t = f.complaint.ticket_id
    tighten = handlers.TightenConfidentiality
    handlers.tighten_confidentiality(tighten(t, confidential=True), uow=uow, actor=OFFICER)
    assert uow.complaints.rows[t].confidential and not uow.complaints.rows[t].anonymous
    for loosen in (tighten(t, confidential=False), tighten(t, anonymous=True, confidential=False)):
        with pytest.raises(PermissionDenied, match="confidential can only be relaxed by the complainant"):
            handlers.tighten_confidentiality(loosen, uow=uow, actor=OFFICER)
    handlers.tighten_confidentiality(tighten(t, anonymous=True), uow=uow, actor=OFFICER)
    handlers.tighten_confidentiality(tighten(t, anonymous=True, confidential=True), uow=uow, actor=OFFICER)
    assert uow.complaints.rows[t].anonymous and uow.complaints.rows[t].confidential
    with pytest.raises(PermissionDenied):
        handlers.tighten_confidentiality(tighten(t, anonymous=True), uow=uow, actor=AGENCY)


def test_filing_validates_every_field_and_stores_nothing_when_wrong(uow: FakeUnitOfWork, sla: SlaPolicy) -> None:
    from grms_complaints.domain.model import Complainant

    bad = file_cmd(
        government_code="99",
        description="",
        location=Location(latitude=52.37, longitude=4.89),
        complainant=Complainant(reporter_ref="", name="S", nik="12345", phone="+31 20 555 0101"),
    )
    with pytest.raises(InvalidArgument) as info:
        handlers.file_complaint(bad, uow=uow, pins=PINS, sla=sla)
    assert {v.field for v in info.value.violations} == {
        "complainant.name",
        "complainant.nik",
        "complainant.phone",
        "description",
        "location.latitude",
        "location.longitude",
    }
    with pytest.raises(InvalidArgument) as info:
        handlers.file_complaint(file_cmd(location=None), uow=uow, pins=PINS, sla=sla)
    assert [v.field for v in info.value.violations] == ["location"]
    with pytest.raises(InvalidArgument) as info:
        handlers.file_complaint(file_cmd(government_code="34"), uow=uow, pins=PINS, sla=sla)
    assert [v.field for v in info.value.violations] == ["government_code"]
    assert uow.complaints.rows == {} and uow.complainants.rows == {} and uow.published == []
    address_only = filed(uow, sla, location=Location(address="Desa Sukorejo RT 02/RW 03, Kendal"))
    assert address_only.complaint.location.latitude is None


def test_tickets_are_random_and_pins_are_stored_hashed(uow: FakeUnitOfWork, sla: SlaPolicy) -> None:
    first, second = filed(uow, sla), filed(uow, sla)
    assert first.complaint.ticket_id != second.complaint.ticket_id
    assert len(first.complaint.ticket_id) == 16  # 80 bits in base32
    stored = uow.complaints.rows[first.complaint.ticket_id]
    assert first.pin not in stored.pin_hash and stored.pin_hash.startswith("hmac-sha256$")
    assert PINS.hasher.verify(first.pin, stored.pin_hash) and not PINS.hasher.verify(second.pin, stored.pin_hash)
    tracked = handlers.track_complaint(first.complaint.ticket_id, first.pin, uow=uow, pins=PINS)
    assert tracked.ticket_id == first.complaint.ticket_id
    with pytest.raises(NotFound):
        handlers.track_complaint(first.complaint.ticket_id, f"{(int(first.pin) + 1) % 10**8:08d}", uow=uow, pins=PINS)


def test_identity_lives_apart_and_every_read_is_logged(uow: FakeUnitOfWork, sla: SlaPolicy) -> None:
    f = filed(uow, sla, anonymous=True)
    t = f.complaint.ticket_id
    stored = uow.complaints.rows[t]
    assert NAME not in repr(stored) and NIK not in repr(stored)
    reason = "Verifikasi identitas pelapor untuk tindak lanjut hukum"
    for actor, error in [
        (ANONYMOUS, Unauthenticated),
        (AGENCY, PermissionDenied),
        (Identity(sub="x", roles=frozenset({Role.COMPLAINTS_OFFICER}), government="33.74"), PermissionDenied),
    ]:
        with pytest.raises(error):
            handlers.get_complainant_identity(t, reason, uow=uow, actor=actor)
    with pytest.raises(InvalidArgument, match="reason"):
        handlers.get_complainant_identity(t, "", uow=uow, actor=OFFICER)
    assert uow.complainants.access_log == []
    person = handlers.get_complainant_identity(t, reason, uow=uow, actor=OFFICER)
    assert (person.name, person.nik, person.phone) == (NAME, NIK, "+6281225550101")
    assert uow.complainants.access_log == [
        {
            "reporter_ref": stored.reporter_ref,
            "ticket_id": t,
            "actor": "officer-33",
            "reason": reason,
            "government_code": "33",
            "at": uow.clock.now(),
        }
    ]


def test_tracking_shows_status_and_redacted_public_replies_only(uow: FakeUnitOfWork, sla: SlaPolicy) -> None:
    f = to(uow, sla, Status.IN_PROGRESS)
    t = f.complaint.ticket_id
    handlers.add_internal_note(t, "Pelapor kerabat kepala dinas", uow=uow, actor=AGENCY)
    handlers.respond_to_complaint(t, "Tim kami menghubungi 0812-2555-0101, selesai.", uow=uow, actor=AGENCY)
    tracked = handlers.track_complaint(t.lower(), f.pin, uow=uow, pins=PINS)
    assert tracked.status is Status.RESPONDED
    assert [r.text for r in tracked.replies] == ["Tim kami menghubungi [nomor telepon disembunyikan], selesai."]
    for ticket, pin in [(t, "99999999"), ("AAAAAAAAAAAAAAAA", f.pin), ("not-a-ticket", f.pin)]:
        with pytest.raises(NotFound, match="no complaint with this ticket and PIN"):
            handlers.track_complaint(ticket, pin, uow=uow, pins=PINS)


def test_agency_staff_see_only_what_is_routed_to_them(uow: FakeUnitOfWork, sla: SlaPolicy) -> None:
    f = to(uow, sla, Status.VERIFIED)
    t = f.complaint.ticket_id
    with pytest.raises(PermissionDenied, match="not routed to your agency"):
        handlers.get_complaint(t, uow=uow, actor=AGENCY)
    with pytest.raises(PermissionDenied):
        handlers.verify_complaint(t, uow=uow, actor=AGENCY)
    handlers.assign_complaint(handlers.AssignComplaint(t, "DINKES"), uow=uow, actor=OFFICER, sla=sla)
    assert handlers.get_complaint(t, uow=uow, actor=AGENCY).agency_code == "DINKES"
