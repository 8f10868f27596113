"""Audit anchors on SQLite and PostgreSQL: heads as of a day's end, exactly one anchor (and one event) per day."""

from __future__ import annotations

import asyncio
import datetime as dt

from grms.budgeting.v1 import events_pb2, open_data_pb2
from grms_budgeting.adapters.anchor_repository import (
    add_anchor_if_absent,
    anchor_due_days,
    anchor_once,
    heads_as_of,
    last_anchored_day,
)
from grms_budgeting.adapters.tables import agency, audit_anchor, audit_entry, budget_plan, government, messaging
from grms_budgeting.adapters.wire import anchor_event_id
from grms_budgeting.bootstrap import MIGRATIONS, unit_of_work_factory
from grms_budgeting.domain.anchor import anchor_of, end_of_day
from grms_budgeting.entrypoints.anchor_scheduler import AnchorScheduler
from grms_kit.clock import ManualClock
from grms_kit.db import Database
from grms_kit.migrations import upgrade
from sqlalchemy import Connection, func, insert, select

UTC = dt.UTC
DAY = dt.date(2025, 3, 1)


def test_heads_as_of_a_days_end_and_one_anchor_per_day(database_url: str) -> None:
    upgrade(database_url, MIGRATIONS, "budgeting")
    db = Database(database_url)
    uow = unit_of_work_factory(db, ManualClock(dt.datetime(2025, 3, 5, 9, 0, tzinfo=UTC)))
    try:
        t = dt.datetime(2025, 3, 1, 10, 0, tzinfo=UTC)
        _world(db, t)
        with db.engine.connect() as conn:
            heads = heads_as_of(conn, "33", end_of_day(DAY))  # the 2nd entry is at 00:00 WIB on 2 March
            assert [(h.plan_id, h.seq, h.hash) for h in heads] == [("plan-a", 1, "h1")]
            assert last_anchored_day(conn, "33") is None
        anchor = anchor_of("33", DAY, heads, now=t + dt.timedelta(days=1))
        with db.engine.begin() as conn:
            assert add_anchor_if_absent(conn, anchor) is True
        with db.engine.begin() as conn:  # a restart, or a second instance, anchoring the same day
            assert add_anchor_if_absent(conn, anchor_of("33", DAY, [], now=t + dt.timedelta(days=2))) is False
        with db.engine.connect() as conn:
            assert last_anchored_day(conn, "33") == DAY
            assert conn.scalar(select(func.count()).select_from(audit_anchor)) == 1
            assert conn.scalar(select(audit_anchor.c.combined_hash)) == anchor.combined_hash
        # The service was down for three days: the sweep catches up 2-4 March, once, and not today (5 March).
        now = dt.datetime(2025, 3, 5, 9, 0, tzinfo=UTC)
        assert anchor_due_days(uow, now) == 3
        assert anchor_due_days(uow, now) == 0
        with db.engine.connect() as conn:
            days = list(conn.scalars(select(audit_anchor.c.day).order_by(audit_anchor.c.day)))
            assert days == [DAY + dt.timedelta(days=n) for n in range(4)]
            counts = list(conn.scalars(select(audit_anchor.c.entry_count).order_by(audit_anchor.c.day)))
            assert counts == [1, 2, 2, 2]
        # The service's loop, across a restart (a new scheduler): 5 March once after WIB midnight, then nothing.
        clock = ManualClock(dt.datetime(2025, 3, 5, 17, 0, 5, tzinfo=UTC))
        assert asyncio.run(AnchorScheduler(db, uow, clock, interval=0.01).tick()) == 1
        assert asyncio.run(AnchorScheduler(db, uow, clock, interval=0.01).tick()) == 0
    finally:
        db.dispose()


def test_each_anchor_the_sweep_writes_publishes_one_audit_head_anchored_and_a_rerun_none(database_url: str) -> None:
    upgrade(database_url, MIGRATIONS, "budgeting")
    db = Database(database_url)
    uow = unit_of_work_factory(db, ManualClock(dt.datetime(2025, 3, 4, 9, 0, tzinfo=UTC)))
    try:
        t = dt.datetime(2025, 3, 1, 10, 0, tzinfo=UTC)
        _world(db, t)
        now = dt.datetime(2025, 3, 4, 9, 0, tzinfo=UTC)  # 1-3 March have ended (WIB)
        assert anchor_due_days(uow, now) == 3
        with db.engine.connect() as conn:
            events = _anchored_events(conn)
            anchors = {r.day: r for r in conn.execute(select(audit_anchor))}
        assert [e.day for _, e in events] == ["2025-03-01", "2025-03-02", "2025-03-03"]
        for event_id, event in events:
            day = dt.date.fromisoformat(event.day)
            assert event_id == anchor_event_id("33", day)  # derived: a re-run cannot mint a second id
            row = anchors[day]
            assert (event.government_code, event.combined_hash, event.plan_count, event.entry_count) == (
                "33", row.combined_hash, row.plan_count, row.entry_count,
            )  # fmt: skip
            assert event.compute_time.ToDatetime(tzinfo=UTC) == now
        # A re-run (restart, second replica) of the sweep and of one day: no row, no event.
        assert anchor_due_days(uow, now) == 0
        assert anchor_once(uow(), "33", DAY, now + dt.timedelta(days=1)) is False
        with db.engine.connect() as conn:
            assert len(_anchored_events(conn)) == 3
            assert conn.scalar(select(func.count()).select_from(audit_anchor)) == 3
        # The next day, once.
        assert anchor_due_days(uow, now + dt.timedelta(days=1)) == 1
        assert anchor_due_days(uow, now + dt.timedelta(days=1)) == 0
        with db.engine.connect() as conn:
            assert [e.day for _, e in _anchored_events(conn)][-1] == "2025-03-04"
            assert len(_anchored_events(conn)) == 4
    finally:
        db.dispose()


def _world(db: Database, t: dt.datetime) -> None:
    """Central Java, one agency, one plan with two audit entries: at `t` (1 March) and 7 hours later (2 March WIB)."""
    with db.engine.begin() as conn:
        conn.execute(insert(government).values(code="33", name="Jawa Tengah", level="province", created_at=t))
        conn.execute(
            insert(agency).values(
                government_code="33", code="1.02", name="Dinas Kesehatan", short_name="", contacts=[], version=1,
                created_at=t, updated_at=t,
            )
        )  # fmt: skip
        conn.execute(insert(budget_plan), [_plan("plan-a", t)])
        conn.execute(insert(audit_entry), [_entry("plan-a", 1, t), _entry("plan-a", 2, t + dt.timedelta(hours=7))])


def _anchored_events(conn: Connection) -> list[tuple[str, open_data_pb2.AuditAnchor]]:
    """The anchors of the outbox's AuditHeadAnchored events, in commit order, with their event ids."""
    o = messaging.outbox
    rows = conn.execute(
        select(o.c.event_id, o.c.payload, o.c.subject, o.c.government)
        .where(o.c.type == "grms.budgeting.v1.AuditHeadAnchored")
        .order_by(o.c.seq)
    )
    out = []
    for r in rows:
        assert (r.subject, r.government) == ("grms.budgeting.audit_head_anchored.v1", "33")
        out.append((r.event_id, events_pb2.AuditHeadAnchored.FromString(r.payload).anchor))
    return out


def _plan(plan_id: str, now: dt.datetime) -> dict[str, object]:
    return {
        "id": plan_id, "government_code": "33", "agency_code": "1.02", "sub_activity_code": "1.02.02.2.01.0001",
        "fiscal_year": 2025, "state": "draft", "version": 2, "next_line_number": 1, "total": 0,
        "review_note": "", "line_notes": {}, "created_at": now, "updated_at": now, "line_count": 0,
        "revision": 0, "approved_total": 0,
    }  # fmt: skip


def _entry(plan_id: str, seq: int, at: dt.datetime) -> dict[str, object]:
    return {
        "plan_id": plan_id,
        "seq": seq,
        "actor": "a",
        "agency_code": "1.02",
        "action": "edit",
        "old": None,
        "new": None,
        "at": at,
        "request_id": "r",
        "prev_hash": "0" * 64,
        "hash": f"h{seq}",
    }
