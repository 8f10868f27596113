"""Audit anchors in SQL: the heads as of a cutoff, and insert-if-absent of one day's anchor."""

from __future__ import annotations

import datetime as dt
from typing import Any

from grms_kit.db import Database
from sqlalchemy import Connection, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from grms_budgeting.adapters.tables import audit_anchor, audit_entry, budget_plan, government
from grms_budgeting.domain.anchor import AuditAnchor, anchor_of, days_due, end_of_day
from grms_budgeting.domain.open_data import PlanHead

__all__ = ["add_anchor_if_absent", "anchor_due_days", "heads_as_of", "last_anchored_day"]


def heads_as_of(conn: Connection, government_code: str, cutoff: dt.datetime) -> list[PlanHead]:
    """Each plan's last audit entry with `at` < `cutoff`, by plan id."""
    p, e = budget_plan, audit_entry
    last = (
        select(e.c.plan_id, func.max(e.c.seq).label("seq"))
        .join(p, p.c.id == e.c.plan_id)
        .where(p.c.government_code == government_code, e.c.at < cutoff)
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


def anchor_due_days(db: Database, now: dt.datetime, *, limit: int = 31) -> int:
    """Anchor up to `limit` ended, unanchored WIB days per government (oldest first); return how many this call wrote.

    One transaction per day; a day another instance anchored first is skipped by the key.
    """
    written = 0
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
            with db.engine.begin() as conn:
                anchor = anchor_of(code, day, heads_as_of(conn, code, end_of_day(day)), now=now)
                written += add_anchor_if_absent(conn, anchor)
    return written
