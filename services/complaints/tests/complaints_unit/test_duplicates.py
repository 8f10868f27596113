"""Duplicates: suggested by words, place and time at intake and on request; officers merge, duplicates follow."""

from __future__ import annotations

import datetime as dt

import pytest
from grms_complaints.domain.duplicates import DuplicatePolicy, Report, haversine_m, likely_duplicates, tokens
from grms_complaints.domain.model import Location, MessageKind, Status
from grms_complaints.domain.notifications import NotificationKind
from grms_complaints.domain.sla import SlaPolicy
from grms_complaints.service_layer import handlers
from grms_kit.errors import FailedPrecondition, PermissionDenied

from .conftest import AGENCY, OFFICER, PINS, file_cmd
from .fakes import FakeUnitOfWork

T0 = dt.datetime(2025, 5, 9, 9, 0, tzinfo=dt.UTC)
PEMUDA = (-6.9826, 110.4098)
POTHOLE = "Jalan berlubang besar di Jl. Pemuda depan kantor pos, sudah tiga minggu belum ditambal"


def report(ticket: str, text: str, *, point: tuple[float, float] | None = PEMUDA, days: float = 0, **kw: str) -> Report:
    lat, lon = point if point else (None, None)
    values = {"government_code": "33", "category_code": "jalan_rusak", "village_code": ""} | kw
    return Report(ticket, text=text, received_at=T0 + dt.timedelta(days=days), latitude=lat, longitude=lon, **values)  # type: ignore[arg-type]


def test_indonesian_text_is_normalised() -> None:
    assert tokens("Jalannya RUSAK di sekolah, sudah 3 minggu! Hubungi [nomor telepon disembunyikan]") == [
        "jalan",
        "rusak",
        "sekolah",  # a root ending in -lah stays whole
        "hubungi",
    ]


def test_haversine_matches_known_distances() -> None:
    # Simpang Lima to Tugu Muda, Semarang: about 1.6 km.
    assert haversine_m(-6.9904, 110.4229, -6.9840, 110.4094) == pytest.approx(1645, rel=0.02)
    assert haversine_m(*PEMUDA, *PEMUDA) == 0


def test_the_same_pothole_reported_twice_is_found_and_other_things_are_not() -> None:
    new = report("NEW", POTHOLE)
    pool = [
        report("SAME", "Lubang besar di jalan Pemuda depan kantor pos belum ditambal", point=(-6.9830, 110.4101)),
        report("FAR", POTHOLE, point=(-7.0500, 110.4400)),  # same words, 8 km away
        report("OLD", POTHOLE, days=-45),  # outside the 30-day window
        report("OTHER", "Lampu penerangan jalan mati di depan kantor pos", category_code="penerangan_jalan"),
        report("ELSEWHERE", POTHOLE, government_code="33.74"),
    ]
    [found] = likely_duplicates(new, pool)
    assert found.ticket_id == "SAME" and found.same_category and found.distance_m is not None
    assert found.distance_m < 60 and 0.45 <= found.score <= 1 and found.text_similarity > 0.3
    # Without points, the same village counts for half of nearness.
    villages = likely_duplicates(
        report("NEW", POTHOLE, point=None, village_code="33.74.01.1001"),
        [report("V", POTHOLE, point=None, village_code="33.74.01.1001")],
    )
    assert [c.ticket_id for c in villages] == ["V"] and villages[0].distance_m is None
    assert likely_duplicates(new, pool, DuplicatePolicy(threshold=0.99)) == []


def _filed(uow: FakeUnitOfWork, sla: SlaPolicy, lat: float, lon: float, text: str = POTHOLE, **kw: object) -> str:
    cmd = file_cmd(
        title="Jalan berlubang di Jl. Pemuda", description=text, location=Location(latitude=lat, longitude=lon), **kw
    )
    return handlers.file_complaint(cmd, uow=uow, pins=PINS, sla=sla, duplicates=DuplicatePolicy()).complaint.ticket_id


def test_intake_notes_likely_duplicates_for_the_coordinator(uow: FakeUnitOfWork, sla: SlaPolicy) -> None:
    first = _filed(uow, sla, *PEMUDA)
    second = _filed(uow, sla, -6.9829, 110.4100)
    [note] = [m for m in uow.complaints.rows[second].messages if m.kind is MessageKind.NOTE]
    assert note.text.startswith(f"Kemungkinan duplikat: {first} (skor ")
    assert not [m for m in uow.complaints.rows[first].messages if m.kind is MessageKind.NOTE]
    [(candidate, complaint)] = handlers.list_duplicate_candidates(second, uow=uow, actor=OFFICER)
    assert candidate.ticket_id == first and complaint.title == "Jalan berlubang di Jl. Pemuda"


def test_a_merged_duplicate_follows_its_primary(uow: FakeUnitOfWork, sla: SlaPolicy) -> None:
    primary = _filed(uow, sla, *PEMUDA)
    duplicate = _filed(uow, sla, -6.9829, 110.4100)
    merge = handlers.MergeComplaints(primary, duplicate, "Lubang yang sama di depan kantor pos")
    with pytest.raises(PermissionDenied):
        handlers.merge_complaints(merge, uow=uow, actor=AGENCY)
    merged = handlers.merge_complaints(merge, uow=uow, actor=OFFICER)
    assert merged.merged_into == primary and not [d for d in merged.deadlines if d.is_open]
    with pytest.raises(FailedPrecondition, match="merged into"):
        handlers.verify_complaint(duplicate, uow=uow, actor=OFFICER)

    handlers.verify_complaint(primary, uow=uow, actor=OFFICER)
    handlers.assign_complaint(handlers.AssignComplaint(primary, "DINKES"), uow=uow, actor=OFFICER, sla=sla)
    handlers.start_work(primary, uow=uow, actor=AGENCY)
    handlers.respond_to_complaint(primary, "Sudah ditambal tadi pagi.", uow=uow, actor=AGENCY)
    handlers.resolve_complaint(primary, uow=uow, actor=OFFICER, sla=sla)
    follower = uow.complaints.rows[duplicate]
    assert (follower.status, follower.agency_code) == (Status.RESOLVED, "DINKES")
    assert follower.resolution_minutes == uow.complaints.rows[primary].resolution_minutes
    kinds = [n.kind for n in uow.notifications.for_ticket(duplicate)]
    assert kinds == [NotificationKind.MERGED, NotificationKind.REPLY, NotificationKind.RESOLVED]


def test_forbidden_merges_are_refused(uow: FakeUnitOfWork, sla: SlaPolicy) -> None:
    a = _filed(uow, sla, *PEMUDA)
    b = _filed(uow, sla, *PEMUDA)
    c = _filed(uow, sla, *PEMUDA)
    secret = _filed(uow, sla, *PEMUDA, confidential=True)
    other_gov = _filed(uow, sla, *PEMUDA, government_code="33.74")

    def merge(primary: str, duplicate: str) -> None:
        handlers.merge_complaints(handlers.MergeComplaints(primary, duplicate, "Sama"), uow=uow, actor=OFFICER)

    for primary, duplicate, why in [
        (a, a, "itself"),
        (other_gov, a, "different governments"),
        (secret, a, "confidential"),
    ]:
        with pytest.raises((FailedPrecondition, PermissionDenied), match=why):
            merge(primary, duplicate)
    merge(a, b)
    with pytest.raises(FailedPrecondition, match="already"):
        merge(c, b)
    with pytest.raises(FailedPrecondition, match="merge into that one"):
        merge(b, c)
    with pytest.raises(FailedPrecondition, match="duplicates of its own"):
        merge(c, a)
    assert uow.complaints.rows[c].merged_into == ""
