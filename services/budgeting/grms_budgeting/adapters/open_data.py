"""Read models for the open data: approved lines in keyset batches, priced lines, audit heads.

Public and read-only: only approved plans (DPA) are read, and nothing is written.

Decision: the full-year line stream reads keyset batches — each batch one short read on the
database thread, `WHERE (agency, sub-activity, line) > last key ORDER BY … LIMIT n` — rather
than one cursor held open while a slow HTTP client downloads. Memory stays at one batch either
way, but a cursor left open for minutes would pin a connection (SQLite has one) and a
snapshot (stopping WAL checkpoints). A DPA's lines cannot change after approval; only their
`disbursed` moves, so a download spanning an SP2D may show a line before or after it.
The anomaly scan, which finishes in one hop, reads with `yield_per` into the domain fold.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from grms_kit.db import Database
from sqlalchemy import func, select, tuple_

from grms_budgeting.adapters.tables import agency, audit_entry, budget_line, budget_plan, standard_price
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
            return [
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

            return unit_price_anomalies(rows())

    def audit_heads(self, government_code: str) -> list[PlanHead]:
        """The latest audit entry of every plan of the government, by plan id."""
        p, e = budget_plan, audit_entry
        last = (
            select(e.c.plan_id, func.max(e.c.seq).label("seq"))
            .join(p, p.c.id == e.c.plan_id)
            .where(p.c.government_code == government_code)
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
        with self.db.engine.connect() as conn:
            return [PlanHead(r.id, r.agency_code, r.fiscal_year, r.seq, r.hash) for r in conn.execute(query)]
