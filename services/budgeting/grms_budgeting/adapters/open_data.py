"""Read models for the open data: approved lines in keyset batches, priced lines, audit heads and anchors.

Public and read-only: only the DPA in force is read, and nothing is written. For an approved
plan that is its lines; for a plan whose revision (pergeseran / perubahan) is being prepared it
is the plan's last approved snapshot — the draft is not public, and the published budget does
not vanish while it is revised. The realisation (`disbursed`) always comes from the live line.

Decision: the full-year line stream reads keyset batches — each batch one short read on the
database thread, `WHERE (agency, sub-activity, line) > last key ORDER BY … LIMIT n` — rather
than one cursor held open while a slow HTTP client downloads. Memory stays at one batch either
way, but a cursor left open for minutes would pin a connection (SQLite has one) and a
snapshot (stopping WAL checkpoints). A DPA's lines cannot change after approval; only their
`disbursed` moves, so a download spanning an SP2D may show a line before or after it.
The anomaly scan, which finishes in one hop, reads with `yield_per` into the domain fold.
"""

from __future__ import annotations

import datetime as dt
import heapq
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from grms_kit.db import Database
from sqlalchemy import Connection, select, tuple_

from grms_budgeting.adapters.anchor_repository import government_exists, heads_as_of, list_anchors
from grms_budgeting.adapters.tables import (
    agency,
    budget_line,
    budget_plan,
    budget_plan_version,
    standard_price,
)
from grms_budgeting.domain.anchor import AuditAnchor
from grms_budgeting.domain.budget import PlanState
from grms_budgeting.domain.codes import normalize_account_code
from grms_budgeting.domain.open_data import Anomalies, PlanHead, PricedLine, unit_price_anomalies

__all__ = ["ApprovedLine", "LineKey", "SqlOpenData"]

#: (agency code, sub-activity code, line number): the order and the resume point of the stream.
LineKey = tuple[str, str, int]


@dataclass(frozen=True)
class ApprovedLine:
    """One line of an approved plan with its realisation."""

    agency_code: str
    agency_name: str
    sub_activity_code: str
    line_number: int
    account_code: str
    account_display_code: str
    standard_item_code: str
    description: str
    volume: str
    unit: str
    unit_price: int
    amount: int
    funding_source: str
    disbursed: int

    @property
    def key(self) -> LineKey:
        return (self.agency_code, self.sub_activity_code, self.line_number)


def _display(code: str) -> str:
    try:
        return normalize_account_code(code)[1]
    except ValueError:  # stored codes were checked on entry; never hide a line over its display form
        return code


class SqlOpenData:
    """The open-data queries of one budgeting database; every method runs on the database thread."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def approved_lines(
        self, government_code: str, fiscal_year: int, *, after: LineKey | None, limit: int
    ) -> list[ApprovedLine]:
        """The next `limit` approved lines of the year after `after`, in key order."""
        p, ln, a = budget_plan, budget_line, agency
        key = tuple_(p.c.agency_code, p.c.sub_activity_code, ln.c.number)
        query = (
            select(
                p.c.agency_code,
                a.c.name,
                p.c.sub_activity_code,
                ln.c.number,
                ln.c.account_code,
                ln.c.standard_item_code,
                ln.c.specification,
                ln.c.volume,
                ln.c.unit,
                ln.c.unit_price,
                ln.c.amount,
                ln.c.funding_source,
                ln.c.disbursed,
            )
            .select_from(ln.join(p, ln.c.plan_id == p.c.id))
            .join(a, (a.c.government_code == p.c.government_code) & (a.c.code == p.c.agency_code))
            .where(
                p.c.government_code == government_code,
                p.c.fiscal_year == fiscal_year,
                p.c.state == PlanState.APPROVED.value,
            )
            .order_by(p.c.agency_code, p.c.sub_activity_code, ln.c.number)
            .limit(limit)
        )
        if after is not None:
            query = query.where(key > tuple_(*after))
        with self.db.engine.connect() as conn:
            approved = [
                ApprovedLine(
                    r.agency_code,
                    r.name,
                    r.sub_activity_code,
                    r.number,
                    r.account_code,
                    _display(r.account_code),
                    r.standard_item_code,
                    r.specification,
                    r.volume,
                    r.unit,
                    r.unit_price,
                    r.amount,
                    r.funding_source,
                    r.disbursed,
                )
                for r in conn.execute(query)
            ]
            revised = self._revised_lines(conn, government_code, fiscal_year, after=after, limit=limit)
        # Both lists are in key order and each holds at least the first `limit` of its source.
        return list(itertools.islice(heapq.merge(approved, revised, key=lambda line: line.key), limit))

    def _revised_lines(
        self, conn: Connection, government_code: str, fiscal_year: int, *, after: LineKey | None, limit: int
    ) -> list[ApprovedLine]:
        """Up to `limit` lines after `after` of the DPAs in force of plans under revision, in key order."""
        lines: list[ApprovedLine] = []
        for plan in self._plans_under_revision(conn, government_code, fiscal_year, after=after):
            disbursed = {
                number: paid
                for number, paid in conn.execute(
                    select(budget_line.c.number, budget_line.c.disbursed).where(budget_line.c.plan_id == plan.id)
                )
            }
            for line in _in_force_content(conn, plan.id)["lines"]:
                found = ApprovedLine(
                    plan.agency_code,
                    plan.name,
                    plan.sub_activity_code,
                    line["number"],
                    line["account_code"],
                    _display(line["account_code"]),
                    line["standard_item_code"],
                    line["specification"],
                    line["volume"],
                    line["unit"],
                    line["unit_price"],
                    line["amount"],
                    line["funding_source"],
                    disbursed.get(line["number"], 0),
                )
                if after is None or found.key > after:
                    lines.append(found)
            if len(lines) >= limit:
                break
        return lines

    def _plans_under_revision(
        self, conn: Connection, government_code: str, fiscal_year: int, *, after: LineKey | None = None
    ) -> list[Any]:
        """Plans of the year with an approved DPA and an open revision, in key order from `after`'s plan."""
        p, a = budget_plan, agency
        query = (
            select(p.c.id, p.c.agency_code, a.c.name, p.c.sub_activity_code)
            .join(a, (a.c.government_code == p.c.government_code) & (a.c.code == p.c.agency_code))
            .where(
                p.c.government_code == government_code,
                p.c.fiscal_year == fiscal_year,
                p.c.state != PlanState.APPROVED.value,
                p.c.revision > 0,
            )
            .order_by(p.c.agency_code, p.c.sub_activity_code)
        )
        if after is not None:
            query = query.where(tuple_(p.c.agency_code, p.c.sub_activity_code) >= tuple_(after[0], after[1]))
        return list(conn.execute(query))

    def unit_price_anomalies(self, government_code: str, fiscal_year: int, *, batch: int = 1000) -> Anomalies:
        """Both anomaly findings over the approved lines that name a standard item of the year."""
        p, ln, a, s = budget_plan, budget_line, agency, standard_price
        query = (
            select(
                p.c.agency_code,
                a.c.name.label("agency_name"),
                ln.c.standard_item_code,
                s.c.name.label("item_name"),
                s.c.unit,
                s.c.price,
                ln.c.unit_price,
                ln.c.amount,
            )
            .select_from(ln.join(p, ln.c.plan_id == p.c.id))
            .join(a, (a.c.government_code == p.c.government_code) & (a.c.code == p.c.agency_code))
            .join(
                s,
                (s.c.government_code == p.c.government_code)
                & (s.c.fiscal_year == p.c.fiscal_year)
                & (s.c.code == ln.c.standard_item_code),
            )
            .where(
                p.c.government_code == government_code,
                p.c.fiscal_year == fiscal_year,
                p.c.state == PlanState.APPROVED.value,
                ln.c.standard_item_code != "",
            )
        )
        with self.db.engine.connect() as conn:
            result = conn.execution_options(yield_per=batch).execute(query)

            def rows() -> Iterator[PricedLine]:
                for r in result:
                    yield PricedLine(
                        r.agency_code,
                        r.agency_name,
                        r.standard_item_code,
                        r.item_name,
                        r.unit,
                        r.price,
                        r.unit_price,
                        r.amount,
                    )
                yield from self._revised_priced_lines(conn, government_code, fiscal_year)

            return unit_price_anomalies(rows())

    def _revised_priced_lines(self, conn: Connection, government_code: str, fiscal_year: int) -> Iterator[PricedLine]:
        """The priced lines of the DPAs in force of plans under revision."""
        s = standard_price
        for plan in self._plans_under_revision(conn, government_code, fiscal_year):
            priced = [line for line in _in_force_content(conn, plan.id)["lines"] if line["standard_item_code"]]
            items = {
                r.code: r
                for r in conn.execute(
                    select(s.c.code, s.c.name, s.c.unit, s.c.price).where(
                        s.c.government_code == government_code,
                        s.c.fiscal_year == fiscal_year,
                        s.c.code.in_(sorted({line["standard_item_code"] for line in priced})),
                    )
                )
            }
            for line in priced:
                item = items.get(line["standard_item_code"])
                if item is not None:
                    yield PricedLine(
                        plan.agency_code,
                        plan.name,
                        line["standard_item_code"],
                        item.name,
                        item.unit,
                        item.price,
                        line["unit_price"],
                        line["amount"],
                    )

    def audit_heads(self, government_code: str) -> list[PlanHead]:
        """The latest audit entry of every plan of the government, by plan id."""
        with self.db.engine.connect() as conn:
            return heads_as_of(conn, government_code, None)

    def audit_anchors(self, government_code: str, *, before: dt.date | None, limit: int) -> list[AuditAnchor] | None:
        """Up to `limit` anchors of the government before `before`, newest first; None: unknown government."""
        with self.db.engine.connect() as conn:
            if not government_exists(conn, government_code):
                return None
            return list_anchors(conn, government_code, before=before, limit=limit)


def _in_force_content(conn: Connection, plan_id: str) -> dict[str, Any]:
    """The snapshot of the plan's last approval: its DPA in force while a revision is open."""
    v = budget_plan_version
    content: dict[str, Any] | None = conn.execute(
        select(v.c.content)
        .where(v.c.plan_id == plan_id, v.c.state == PlanState.APPROVED.value)
        .order_by(v.c.version.desc())
        .limit(1)
    ).scalar_one_or_none()
    return content if content is not None else {"lines": []}
