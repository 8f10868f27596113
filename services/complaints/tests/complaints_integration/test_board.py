"""The governor's board on a real database (SQLite and PostgreSQL): figures computed by SQL, confidentiality applied."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from grms_complaints.adapters.calendar import sla_policy
from grms_complaints.adapters.tables import reference
from grms_complaints.bootstrap import MIGRATIONS, SERVICE, unit_of_work_factory
from grms_complaints.domain.model import Channel, Complainant, ComplaintClass, Location, RejectionReason, Status
from grms_complaints.domain.pins import PinGuard, PinHasher
from grms_complaints.domain.sla import JAKARTA
from grms_complaints.service_layer import handlers
from grms_complaints.service_layer.ports import BoardQuery
from grms_kit.clock import ManualClock
from grms_kit.db import Database
from grms_kit.errors import InvalidArgument, PermissionDenied
from grms_kit.identity import Identity, Role
from grms_kit.migrations import upgrade
from grms_kit.paging import Page
from sqlalchemy import insert

OFFICER = Identity(sub="officer-33", roles=frozenset({Role.COMPLAINTS_OFFICER}), government="33")
EXECUTIVE = Identity(sub="sekda", roles=frozenset({Role.EXECUTIVE}), government="33")
DINKES_HEAD = Identity(
    sub="dinkes-head", roles=frozenset({Role.AGENCY_HEAD}), government="33", agencies=frozenset({"DINKES"})
)
NIK = "3374015512900003"
PINS = PinGuard(PinHasher(b"complaints-board-test-pepper-001"))
# Monday 2 June 2025, 08:00 WIB.
T0 = dt.datetime(2025, 6, 2, 8, 0, tzinfo=JAKARTA).astimezone(dt.UTC)
H = dt.timedelta(hours=1)
PERIOD = BoardQuery(
    government_code="33",
    start=dt.datetime(2025, 6, 2, tzinfo=JAKARTA).astimezone(dt.UTC),
    end=dt.datetime(2025, 6, 5, tzinfo=JAKARTA).astimezone(dt.UTC),
)


class World:
    a = b = c = d = e = ""

    def __init__(self, database_url: str) -> None:
        upgrade(database_url, MIGRATIONS, SERVICE)
        self.db = Database(database_url)
        self.clock = ManualClock(T0)
        self.uow = unit_of_work_factory(self.db, self.clock)
        self.sla = sla_policy()
        with self.db.session() as session, session.begin():
            session.execute(
                insert(reference.government).values(code="33", name="Jawa Tengah", payload=b"", synced_at=T0)
            )
            for code in ("DINKES", "DPUBMCK"):
                session.execute(
                    insert(reference.agency).values(
                        government_code="33", code=code, name=code, version=1, payload=b"", synced_at=T0
                    )
                )

    def at(self, offset: dt.timedelta) -> None:
        self.clock.set(T0 + offset)

    def file(self, offset: dt.timedelta, title: str, **flags: bool) -> str:
        self.at(offset)
        cmd = handlers.FileComplaint(
            government_code="33",
            complaint_class=ComplaintClass.PENGADUAN,
            category_code="layanan_kesehatan",
            channel=Channel.WEB,
            title=title,
            description="Uraian pengaduan yang cukup panjang untuk diterima.",
            location=Location(address="Jl. Pemuda, Semarang"),
            complainant=Complainant(reporter_ref="", name="Siti Rahayu", nik=NIK, phone="081225550101"),
            **flags,
        )
        return handlers.file_complaint(cmd, uow=self.uow(), pins=PINS, sla=self.sla).complaint.ticket_id

    def route(self, ticket: str, offset: dt.timedelta, agency: str) -> None:
        self.at(offset)
        handlers.verify_complaint(ticket, uow=self.uow(), actor=OFFICER)
        handlers.assign_complaint(handlers.AssignComplaint(ticket, agency), uow=self.uow(), actor=OFFICER, sla=self.sla)
        handlers.start_work(ticket, uow=self.uow(), actor=OFFICER)

    def respond(self, ticket: str, offset: dt.timedelta) -> None:
        self.at(offset)
        handlers.respond_to_complaint(ticket, "Sudah kami tindak lanjuti.", uow=self.uow(), actor=OFFICER)

    def board(self, actor: Identity, query: BoardQuery = PERIOD, page: Page = Page()) -> handlers.BoardView:
        return handlers.complaint_board(query, page, uow=self.uow(), actor=actor)


@pytest.fixture
def world(database_url: str) -> Iterator[World]:
    w = World(database_url)
    # A: answered in 2 hours, resolved. B: answered after 30 hours (late). C: routed, never
    # answered. D: anonymous and confidential, never touched. E: rejected after an hour.
    w.a = w.file(0 * H, "Antrean puskesmas sangat panjang")
    w.route(w.a, 1 * H, "DINKES")
    w.respond(w.a, 2 * H)
    w.at(3 * H)
    handlers.resolve_complaint(w.a, uow=w.uow(), actor=OFFICER, sla=w.sla)
    w.b = w.file(1 * H, f"Obat kosong, NIK saya {NIK}")
    w.route(w.b, 2 * H, "DINKES")
    w.respond(w.b, 31 * H)
    w.c = w.file(2 * H, "Jalan provinsi berlubang")
    w.route(w.c, 3 * H, "DPUBMCK")
    w.d = w.file(3 * H, "Pungutan liar di sekolah", anonymous=True, confidential=True)
    w.e = w.file(4 * H, "Iklan pinjaman online")
    w.at(5 * H)
    handlers.reject_complaint(
        handlers.RejectComplaint(w.e, RejectionReason.SPAM, "Bukan pengaduan"),
        uow=w.uow(),
        actor=OFFICER,
    )
    w.at(48 * H)  # Wednesday 08:00 WIB
    yield w
    w.db.dispose()


def test_board_figures_per_agency_come_from_sql(world: World) -> None:
    view = world.board(OFFICER)
    rows = {r.agency_code: r for r in view.board.agencies}
    assert sorted(rows) == ["", "DINKES", "DPUBMCK"]
    dinkes, dpu, unrouted = rows["DINKES"], rows["DPUBMCK"], rows[""]
    assert (dinkes.received, dinkes.responded, dinkes.open, dinkes.overdue) == (2, 2, 1, 0)
    # Nearest rank over [120, 1800] minutes: the median is the first, p90 the second.
    assert (dinkes.median_first_response_minutes, dinkes.p90_first_response_minutes) == (120, 1800)
    # A: four deadlines met on time; B: first response late, verification and follow-up on time.
    assert (dinkes.sla_met, dinkes.sla_decided) == (6, 7)
    assert dinkes.oldest_open_ticket_id == world.b
    assert (dpu.received, dpu.responded, dpu.open, dpu.overdue) == (1, 0, 1, 1)
    assert dpu.median_first_response_minutes is None
    assert dpu.oldest_open_ticket_id == world.c
    assert dpu.oldest_open_received_at == T0 + 2 * H
    # D waits unrouted and late; E was answered (rejected) within an hour.
    assert (unrouted.received, unrouted.responded, unrouted.open, unrouted.overdue) == (2, 1, 1, 1)
    assert unrouted.median_first_response_minutes == 60
    totals = view.board.totals
    assert (totals.received, totals.responded, totals.open, totals.overdue) == (5, 3, 3, 2)
    assert (totals.median_first_response_minutes, totals.p90_first_response_minutes) == (120, 1800)
    assert totals.oldest_open_ticket_id == world.b


def test_trend_counts_each_wib_day_up_to_now(world: World) -> None:
    trend = world.board(OFFICER).board.trend
    assert [(d.day.isoformat(), d.received, d.responded, d.breached) for d in trend] == [
        ("2025-06-02", 5, 2, 0),
        # B answered at 15:00 WIB; the first responses of B, C and D were due that morning.
        ("2025-06-03", 0, 1, 3),
        ("2025-06-04", 0, 0, 0),
    ]


def test_list_is_keyset_paged_newest_first_and_never_shows_identity(world: World) -> None:
    w = world
    seen: list[handlers.BoardLine] = []
    token = ""
    while True:
        view = w.board(OFFICER, page=Page(size=2, token=token))
        assert len(view.entries) <= 2
        seen += view.entries
        token = view.board.next_page_token
        if not token:
            break
    assert [x.entry.ticket_id for x in seen] == [w.e, w.d, w.c, w.b, w.a]
    by_ticket = {x.entry.ticket_id: x for x in seen}
    b = by_ticket[w.b]
    assert NIK not in b.title and b.reporter_reference.startswith("PLP-")
    assert b.entry.first_response_minutes == 1800 and b.entry.agency_code == "DINKES"
    d = by_ticket[w.d]
    assert d.reporter_reference == ""  # anonymous: hidden even from officers
    assert d.title == "Pungutan liar di sekolah"  # confidential: officers may read it
    assert by_ticket[w.c].entry.next_due_at is not None
    assert by_ticket[w.a].entry.next_due_at is None
    references = {x.reporter_reference for x in seen if x.reporter_reference}
    assert len(references) == 4  # one per non-anonymous complaint, none a reporter_ref
    assert not references & {x.entry.reporter_ref for x in seen}


def test_confidential_complaints_are_masked_for_readers_who_are_not_officers(world: World) -> None:
    view = world.board(EXECUTIVE, BoardQuery(**{**PERIOD.__dict__, "open_only": True}))
    lines = {x.entry.ticket_id: x for x in view.entries}
    assert sorted(lines) == sorted([world.b, world.c, world.d])
    assert lines[world.d].title == "" and lines[world.d].reporter_reference == ""
    assert lines[world.c].reporter_reference.startswith("PLP-")


def test_an_agency_officer_sees_only_their_agency(world: World) -> None:
    view = world.board(DINKES_HEAD)
    assert [r.agency_code for r in view.board.agencies] == ["DINKES"]
    assert view.board.totals.received == 2
    assert {x.entry.agency_code for x in view.entries} == {"DINKES"}
    with pytest.raises(PermissionDenied):
        world.board(DINKES_HEAD, BoardQuery(**{**PERIOD.__dict__, "agency_codes": frozenset({"DPUBMCK"})}))


def test_bad_periods_and_strangers_are_refused(world: World) -> None:
    with pytest.raises(InvalidArgument) as bad:
        world.board(OFFICER, BoardQuery(government_code="33", start=T0, end=T0))
    assert bad.value.violations[0].field == "period.end_time"
    with pytest.raises(InvalidArgument):
        world.board(OFFICER, BoardQuery(government_code="33", start=T0, end=T0 + dt.timedelta(days=500)))
    with pytest.raises(PermissionDenied):
        world.board(Identity(sub="x", roles=frozenset({Role.EXECUTIVE}), government="34"))
    with pytest.raises(PermissionDenied):
        world.board(Identity(sub="citizen"))
    # A resolved complaint of the period does not count as open.
    assert world.board(OFFICER).board.totals.open == sum(
        1 for x in world.board(OFFICER).entries if x.entry.status not in (Status.RESOLVED, Status.REJECTED)
    )


def test_the_inbox_lists_open_complaints_oldest_first_for_the_handlers_agencies(world: World) -> None:
    w = world
    everything = handlers.list_inbox("33", "", Page(), uow=w.uow(), actor=OFFICER)
    assert [x.entry.ticket_id for x in everything.entries] == [w.b, w.c, w.d]
    assert everything.as_of == T0 + 48 * H
    late = {x.entry.ticket_id: x.entry.next_due_at for x in everything.entries}
    assert late[w.c] is not None and late[w.c] < everything.as_of  # C's first response was due yesterday
    paged = handlers.list_inbox("33", "", Page(size=2), uow=w.uow(), actor=OFFICER)
    rest = handlers.list_inbox("33", "", Page(size=2, token=paged.next_page_token), uow=w.uow(), actor=OFFICER)
    assert [x.entry.ticket_id for x in paged.entries + rest.entries] == [w.b, w.c, w.d] and not rest.next_page_token
    mine = handlers.list_inbox("33", "", Page(), uow=w.uow(), actor=DINKES_HEAD)
    assert [x.entry.ticket_id for x in mine.entries] == [w.b]
    with pytest.raises(PermissionDenied):
        handlers.list_inbox("33", "DPUBMCK", Page(), uow=w.uow(), actor=DINKES_HEAD)
    with pytest.raises(PermissionDenied):
        handlers.list_inbox("33", "", Page(), uow=w.uow(), actor=EXECUTIVE)  # readers do not handle


def test_demo_complaints_follow_the_mix_and_feed_the_board(world: World) -> None:
    w = world
    admin = Identity(sub="grms-cli", roles=frozenset({Role.ADMIN}), government="33")
    with pytest.raises(PermissionDenied):
        handlers.seed_demo_complaints(handlers.SeedDemoComplaints("33"), uow=w.uow(), sla=w.sla, actor=OFFICER)
    cmd = handlers.SeedDemoComplaints("33", months=2, per_month=300, seed=7)
    added = handlers.seed_demo_complaints(cmd, uow=w.uow(), sla=w.sla, actor=admin, batch=128)
    assert 500 <= added <= 700
    assert handlers.seed_demo_complaints(cmd, uow=w.uow(), sla=w.sla, actor=admin) == 0  # idempotent
    start = T0 + 48 * H - dt.timedelta(days=61)
    view = w.board(OFFICER, BoardQuery(government_code="33", start=start, end=T0 + 49 * H))
    totals = view.board.totals
    assert totals.received >= added
    assert 0.5 < totals.responded / totals.received < 0.95
    rows = {r.agency_code: r for r in view.board.agencies if r.agency_code and r.responded >= 20}
    medians = sorted(r.median_first_response_minutes or 0 for r in rows.values())
    assert len(rows) == 2 and medians[0] < medians[-1]  # two agencies, each with its own speed
    assert 3 * 60 <= medians[0] and medians[-1] <= 45 * 60
    assert any(r.overdue for r in view.board.agencies)  # some complaints wait too long
    assert sum(1 for d in view.board.trend if d.received) >= 55


def test_a_merged_duplicate_is_counted_once_through_its_primary(world: World) -> None:
    world.at(6 * H)
    duplicate = world.file(6 * H, "Jalan provinsi berlubang lagi")
    handlers.merge_complaints(
        handlers.MergeComplaints(world.c, duplicate, "Lubang yang sama"), uow=world.uow(), actor=OFFICER
    )
    world.at(48 * H)
    view = world.board(OFFICER)
    totals = view.board.totals
    assert (totals.received, totals.open, totals.overdue) == (5, 3, 2)
    assert duplicate not in {line.entry.ticket_id for line in view.entries}
