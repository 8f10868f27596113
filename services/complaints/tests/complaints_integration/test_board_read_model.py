"""The board's read model against the board from raw rows, after random lives of complaints (SQLite, PostgreSQL).

Each seed files complaints and puts them through random operations — verify, route and
re-route, start, respond, resolve, close, reject, reopen, merge, SLA scans — with the clock
moving forward by random steps; after every few steps the board from the sums must equal
the board from the raw rows (adapters/board_raw.py, the reference) for whole-day,
partial-day and single-agency periods. Then the sums are rebuilt by migration 0011's
back-fill, which must give the very same rows.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import random
from collections.abc import Callable, Iterator

import pytest
from alembic import command
from grms_complaints.adapters.board import SqlComplaintBoard
from grms_complaints.adapters.board_raw import RawComplaintBoard
from grms_complaints.adapters.calendar import sla_policy
from grms_complaints.adapters.tables import complaint_board_day, complaint_board_open, reference
from grms_complaints.bootstrap import MIGRATIONS, SERVICE, unit_of_work_factory
from grms_complaints.domain.model import Channel, Complainant, ComplaintClass, Location, RejectionReason
from grms_complaints.domain.pins import PinGuard, PinHasher
from grms_complaints.domain.sla import JAKARTA
from grms_complaints.entrypoints.sla_scheduler import SlaScheduler
from grms_complaints.service_layer import handlers
from grms_complaints.service_layer.ports import BoardQuery
from grms_kit.clock import ManualClock
from grms_kit.db import Database
from grms_kit.errors import Conflict, FailedPrecondition, InvalidArgument
from grms_kit.identity import Identity, Role
from grms_kit.migrations import alembic_config, upgrade
from grms_kit.paging import Page
from sqlalchemy import event, func, insert, select

OFFICER = Identity(sub="officer-33", roles=frozenset({Role.COMPLAINTS_OFFICER}), government="33")
AGENCIES = ("DINKES", "DPUBMCK", "DISHUB")
# Friday 30 May 2025, 22:30 WIB: the lives cross weekends and WIB midnights.
T0 = dt.datetime(2025, 5, 30, 22, 30, tzinfo=JAKARTA).astimezone(dt.UTC)
PINS = PinGuard(PinHasher(b"complaints-board-test-pepper-001"))


class Lives:
    """Complaints living random lives through the real handlers on a real database."""

    def __init__(self, database_url: str, seed: int) -> None:
        upgrade(database_url, MIGRATIONS, SERVICE)
        self.url = database_url
        self.db = Database(database_url)
        self.clock = ManualClock(T0)
        self.uow = unit_of_work_factory(self.db, self.clock)
        self.sla = sla_policy()
        self.rng = random.Random(seed)
        self.tickets: list[str] = []
        self.pins: dict[str, str] = {}
        with self.db.session() as session, session.begin():
            session.execute(
                insert(reference.government).values(code="33", name="Jawa Tengah", payload=b"", synced_at=T0)
            )
            for code in AGENCIES:
                session.execute(
                    insert(reference.agency).values(
                        government_code="33", code=code, name=code, version=1, payload=b"", synced_at=T0
                    )
                )

    def file(self) -> None:
        cmd = handlers.FileComplaint(
            government_code="33",
            complaint_class=ComplaintClass.PENGADUAN,
            category_code="layanan_kesehatan",
            channel=Channel.WEB,
            title=f"Pengaduan nomor {len(self.tickets) + 1}",
            description="Uraian pengaduan yang cukup panjang untuk diterima.",
            location=Location(address="Jl. Pemuda, Semarang"),
            complainant=Complainant(reporter_ref="", name="Siti Rahayu", phone="081225550101"),
        )
        filed = handlers.file_complaint(cmd, uow=self.uow(), sla=self.sla, pins=PINS)
        self.tickets.append(filed.complaint.ticket_id)
        self.pins[filed.complaint.ticket_id] = filed.pin

    def operations(self, ticket: str) -> list[Callable[[], object]]:
        uow, sla = self.uow, self.sla
        agency = self.rng.choice(AGENCIES)
        other = self.rng.choice(self.tickets)
        return [
            lambda: handlers.verify_complaint(ticket, uow=uow(), actor=OFFICER),
            lambda: handlers.assign_complaint(
                handlers.AssignComplaint(ticket, agency, "salah alamat"), uow=uow(), actor=OFFICER, sla=sla
            ),
            lambda: handlers.start_work(ticket, uow=uow(), actor=OFFICER),
            lambda: handlers.respond_to_complaint(ticket, "Sudah kami tindak lanjuti.", uow=uow(), actor=OFFICER),
            lambda: handlers.resolve_complaint(ticket, uow=uow(), actor=OFFICER, sla=sla),
            lambda: handlers.close_complaint(ticket, uow=uow(), actor=OFFICER),
            lambda: handlers.reject_complaint(
                handlers.RejectComplaint(ticket, RejectionReason.SPAM, "Bukan pengaduan"), uow=uow(), actor=OFFICER
            ),
            lambda: handlers.merge_complaints(
                handlers.MergeComplaints(other, ticket, "Masalah yang sama"), uow=uow(), actor=OFFICER
            ),
            lambda: handlers.scan_sla(50, uow=uow()),
        ]

    def step(self) -> None:
        """Move the clock, then file a complaint or try one operation (refusals change nothing)."""
        self.clock.set(self.clock.now() + dt.timedelta(minutes=self.rng.choice([1, 7, 45, 190, 600, 1440, 2900])))
        if not self.tickets or self.rng.random() < 0.25:
            self.file()
            return
        ticket = self.rng.choice(self.tickets)
        if self.rng.random() < 0.03:  # the complainant reopens now and then

            def operation() -> object:
                cmd = handlers.ReopenComplaint(ticket, self.pins[ticket], "Belum tuntas")
                return handlers.reopen_complaint(cmd, uow=self.uow(), sla=self.sla, pins=PINS)

        else:
            operation = self.rng.choice(self.operations(ticket))
        try:
            operation()
        except (FailedPrecondition, InvalidArgument, Conflict):
            pass

    def queries(self) -> list[BoardQuery]:
        now = self.clock.now()
        midnight = dt.datetime.combine(T0.astimezone(JAKARTA).date(), dt.time(0), tzinfo=JAKARTA).astimezone(dt.UTC)
        return [
            BoardQuery("33", midnight, now + dt.timedelta(days=2)),  # whole WIB days
            BoardQuery("33", T0 + dt.timedelta(hours=5), now - dt.timedelta(hours=3)),  # partial days at both ends
            BoardQuery("33", T0 - dt.timedelta(days=1), now, agency_codes=frozenset({"DINKES", ""})),
            BoardQuery("33", now - dt.timedelta(hours=30), now),  # shorter than two days
        ]

    def check(self) -> None:
        now = self.clock.now()
        with self.db.session() as session:
            for query in self.queries():
                if query.end <= query.start:
                    continue
                expected = RawComplaintBoard(session).read(query, Page(size=5), now)
                assert SqlComplaintBoard(session).read(query, Page(size=5), now) == expected, query

    def sums(self) -> tuple[dict[tuple[object, ...], list[int]], dict[tuple[object, ...], list[int]]]:
        """The rows of the sums, the shards added up, zero rows left out."""
        out: list[dict[tuple[object, ...], list[int]]] = []
        with self.db.session() as session:
            for table, key_columns in ((complaint_board_day, 3), (complaint_board_open, 2)):
                summed: dict[tuple[object, ...], list[int]] = {}
                for r in session.execute(select(table)):
                    key, values = tuple(r)[:key_columns], list(tuple(r)[key_columns + 1 :])
                    assert table.c.keys()[key_columns] == "shard"
                    before = summed.get(key, [0] * len(values))
                    summed[key] = [a + b for a, b in zip(before, values, strict=True)]
                out.append({k: v for k, v in summed.items() if any(v)})
        return out[0], out[1]


@pytest.fixture(params=[1, 2, 3])
def lives(request: pytest.FixtureRequest, database_url: str) -> Iterator[Lives]:
    world = Lives(database_url, request.param)
    yield world
    world.db.dispose()


def test_the_read_model_board_equals_the_raw_board_after_random_lives(lives: Lives) -> None:
    for i in range(70):
        lives.step()
        if i % 10 == 9:
            lives.check()
    # The SLA scheduler catches up, then once more after a week with nobody looking.
    handlers.scan_sla(1000, uow=lives.uow())
    lives.check()
    lives.clock.set(lives.clock.now() + dt.timedelta(days=7))
    lives.check()


def test_the_migration_back_fills_the_sums_the_write_side_kept(lives: Lives) -> None:
    for _ in range(50):
        lives.step()
    kept = lives.sums()
    assert kept[0], "the lives left no sums to compare"
    config = alembic_config(lives.url, MIGRATIONS, SERVICE)
    command.downgrade(config, "0010")
    command.upgrade(config, "0011")
    assert lives.sums() == kept
    lives.check()


def test_the_board_reads_in_six_statements_whose_text_does_not_grow_with_the_agencies(lives: Lives) -> None:
    """Round trips and planning stay flat: six statements (and one for deadlines running past due
    unmarked); on PostgreSQL the same texts whether one agency has answers or three (a text per
    number of agencies was planned afresh every time)."""
    statements: list[str] = []

    def record(conn: object, cursor: object, statement: str, *args: object) -> None:
        statements.append(statement)

    postgresql = lives.db.engine.dialect.name == "postgresql"
    seen: dict[int, frozenset[str]] = {}  # by agencies that answered / had complaints
    event.listen(lives.db.engine, "before_cursor_execute", record)
    try:
        for _ in range(12):
            for _ in range(8):
                lives.step()
            now = lives.clock.now()
            query = BoardQuery("33", T0 - dt.timedelta(hours=5), now - dt.timedelta(hours=3))  # partial ends
            if query.end - query.start < dt.timedelta(days=2):
                continue
            with lives.db.session() as session:
                statements.clear()
                board = SqlComplaintBoard(session).read(query, Page(size=5), now)
                texts = [s for s in statements if s.lstrip().upper().startswith(("SELECT", "WITH"))]
            # The complaints of deadlines running past due unmarked (a handful): one more, by ticket.
            assert len([s for s in texts if "EXISTS" in s]) <= 1
            texts = [s for s in texts if "EXISTS" not in s]
            assert len(texts) <= 6, texts
            answered = sum(1 for row in board.agencies if row.responded)
            if answered:
                answered = answered * 10 + len(board.agencies)  # and agencies with complaints
                assert len(texts) == 6, texts
                seen.setdefault(answered, frozenset(texts))
                if postgresql:
                    assert seen[answered] == frozenset(texts)
    finally:
        event.remove(lives.db.engine, "before_cursor_execute", record)
    assert seen, "the lives gave no answers to look up"
    if postgresql:  # (the first seed's life goes from one agency with complaints to three)
        assert len(set(seen.values())) == 1


def test_folding_past_intake_shards_keeps_every_sum_and_the_board(lives: Lives) -> None:
    """The scheduler's fold leaves one row per agency and past day; the sums and the board stay the same."""
    for _ in range(50):
        lives.step()
    lives.clock.set(lives.clock.now() + dt.timedelta(days=3))  # every day of the life is now past
    handlers.scan_sla(1000, uow=lives.uow())  # the SLA clocks caught up: the tick below changes no measure
    kept = lives.sums()
    with lives.db.session() as session:
        sharded = session.execute(select(func.count()).where(complaint_board_day.c.shard != 0)).scalar_one()
    if lives.db.engine.dialect.name == "postgresql":
        assert sharded, "intake on PostgreSQL spreads over shards: the life should have left some"
    written: list[int] = []

    async def run(fn: Callable[..., int], *args: object, **kwargs: object) -> int:
        result = fn(*args, **kwargs)
        if fn is handlers.fold_board_shards:
            written.append(result)
        return result

    asyncio.run(SlaScheduler(lives.uow, run=run, fold_board=True).tick())  # as the service's scheduler does
    assert len(written) == 1 and (written[0] > 0) == bool(sharded)
    with lives.db.session() as session:
        assert session.execute(select(func.count()).where(complaint_board_day.c.shard != 0)).scalar_one() == 0
    assert lives.sums() == kept
    assert handlers.fold_board_shards(uow=lives.uow()) == 0  # nothing left to fold
    lives.check()
