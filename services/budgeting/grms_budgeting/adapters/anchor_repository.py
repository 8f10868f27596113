"""Audit anchors in SQL: the heads as of a cutoff, insert-if-absent of one day's anchor (with its
event, in the same transaction), the anchors newest first, and their check against the entries."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any

from grms_kit.db import Database
from sqlalchemy import Connection, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from grms_budgeting.adapters.budget_repository import audit_entry_from_row
from grms_budgeting.adapters.tables import audit_anchor, audit_entry, budget_plan, government
from grms_budgeting.adapters.unit_of_work import SqlUnitOfWork
from grms_budgeting.adapters.wire import anchor_event_id, audit_head_anchored
from grms_budgeting.domain.anchor import (
    AnchorCheck,
    AuditAnchor,
    anchor_of,
    check_anchors,
    days_due,
    end_of_day,
    replay_anchors,
)
from grms_budgeting.domain.open_data import PlanHead

__all__ = [
    "add_anchor_if_absent",
    "anchor_due_days",
    "anchor_once",
    "government_exists",
    "heads_as_of",
    "last_anchored_day",
    "list_anchors",
    "verify_anchors",
]


def heads_as_of(conn: Connection, government_code: str, cutoff: dt.datetime | None) -> list[PlanHead]:
    """Each plan's last audit entry with `at` < `cutoff` (None: the latest, the heads now), by plan id."""
    p, e = budget_plan, audit_entry
    within = [p.c.government_code == government_code] + ([e.c.at < cutoff] if cutoff is not None else [])
    last = (
        select(e.c.plan_id, func.max(e.c.seq).label("seq"))
        .join(p, p.c.id == e.c.plan_id)
        .where(*within)
        .group_by(e.c.plan_id)
        .subquery()
    )
    query = (
        select(p.c.id, p.c.agency_code, p.c.fiscal_year, e.c.seq, e.c.hash)
        .select_from(last)
        .join(e, (e.c.plan_id == last.c.plan_id) & (e.c.seq == last.c.seq))
        .join(p, p.c.id == last.c.plan_id)
        .order_by(p.c.id)
    )
    return [PlanHead(r.id, r.agency_code, r.fiscal_year, r.seq, r.hash) for r in conn.execute(query)]


def last_anchored_day(conn: Connection, government_code: str) -> dt.date | None:
    """The latest anchored day of the government, None before the first anchor."""
    return conn.scalar(select(func.max(audit_anchor.c.day)).where(audit_anchor.c.government_code == government_code))


def add_anchor_if_absent(conn: Connection, anchor: AuditAnchor) -> bool:
    """Insert the day's anchor unless one exists; True when this call wrote it (the once-per-day key)."""
    values = {
        "government_code": anchor.government_code,
        "day": anchor.day,
        "combined_hash": anchor.combined_hash,
        "plan_count": anchor.plan_count,
        "entry_count": anchor.entry_count,
        "computed_at": anchor.computed_at,
    }
    statement: Any
    if conn.dialect.name == "postgresql":
        statement = pg_insert(audit_anchor).values(**values).on_conflict_do_nothing()
    else:
        statement = sqlite_insert(audit_anchor).values(**values).on_conflict_do_nothing()
    return conn.execute(statement.returning(audit_anchor.c.day)).first() is not None


def anchor_once(uow: SqlUnitOfWork, government_code: str, day: dt.date, now: dt.datetime) -> bool:
    """Anchor one day in one transaction: the row and, only when this call wrote it, its AuditHeadAnchored.

    The event goes through the unit of work's outbox, committed with the row; its id is derived
    from government and day, so even a re-run that somehow wrote again could not publish a
    second, different fact under a new id. True when this call wrote the anchor.
    """
    with uow:
        conn = uow.session.connection()
        anchor = anchor_of(government_code, day, heads_as_of(conn, government_code, end_of_day(day)), now=now)
        written = add_anchor_if_absent(conn, anchor)
        if written:
            uow.publish(
                audit_head_anchored(anchor), government=government_code, event_id=anchor_event_id(government_code, day)
            )
        uow.commit()
    return written


def anchor_due_days(uow: Callable[[], SqlUnitOfWork], now: dt.datetime, *, limit: int = 31) -> int:
    """Anchor up to `limit` ended, unanchored WIB days per government (oldest first); return how many this call wrote.

    One transaction per day (`anchor_once`); a day another instance anchored first is skipped by the key.
    """
    written = 0
    db = uow().db
    with db.engine.connect() as conn:
        governments = list(conn.scalars(select(government.c.code).order_by(government.c.code)))
    for code in governments:
        with db.engine.connect() as conn:
            first = conn.scalar(
                select(func.min(audit_entry.c.at))
                .join(budget_plan, budget_plan.c.id == audit_entry.c.plan_id)
                .where(budget_plan.c.government_code == code)
            )
            due = days_due(first_activity=first, last_anchored=last_anchored_day(conn, code), now=now)
        for day in due[:limit]:
            written += anchor_once(uow(), code, day, now)
    return written


def government_exists(conn: Connection, government_code: str) -> bool:
    """True when budgeting knows the government."""
    return conn.scalar(select(government.c.code).where(government.c.code == government_code)) is not None


def _anchor(r: Any) -> AuditAnchor:
    return AuditAnchor(r.government_code, r.day, r.combined_hash, r.plan_count, r.entry_count, r.computed_at)


def list_anchors(
    conn: Connection, government_code: str, *, before: dt.date | None = None, limit: int | None = None
) -> list[AuditAnchor]:
    """The government's anchors newest day first, only days before `before` when given (keyset), at most `limit`."""
    a = audit_anchor
    query = select(a).where(a.c.government_code == government_code).order_by(a.c.day.desc())
    if before is not None:
        query = query.where(a.c.day < before)
    if limit is not None:
        query = query.limit(limit)
    return [_anchor(r) for r in conn.execute(query)]


def verify_anchors(db: Database, saved: Iterable[AuditAnchor] = (), *, now: dt.datetime) -> list[AnchorCheck]:
    """Recompute every stored (and every saved) anchor from the audit entries and compare, per government and day.

    For `grms audit verify`: one read transaction; each government's entries are read once and
    replayed over its days (`replay_anchors`, the heads and `anchor_of` the scheduler uses).
    """
    saved_by_government: dict[str, list[AuditAnchor]] = {}
    for anchor in saved:
        saved_by_government.setdefault(anchor.government_code, []).append(anchor)
    checks: list[AnchorCheck] = []
    with db.engine.connect() as conn:
        codes = set(conn.scalars(select(audit_anchor.c.government_code).distinct())) | saved_by_government.keys()
        for code in sorted(codes):
            stored = list_anchors(conn, code)
            copy = saved_by_government.get(code, [])
            rows = conn.execute(
                select(audit_entry)
                .join(budget_plan, budget_plan.c.id == audit_entry.c.plan_id)
                .where(budget_plan.c.government_code == code)
            )
            entries = [audit_entry_from_row(r._mapping) for r in rows]
            days = {a.day for a in stored} | {a.day for a in copy}
            checks += check_anchors(replay_anchors(code, entries, days, now=now), stored, copy)
    return checks
