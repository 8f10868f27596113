"""SQL repositories for codes, prices, ceilings and budget plans (SQLAlchemy Core, bulk statements).

Lines are written with executemany and read with one SELECT, so a 5,000-line plan costs a
handful of statements, not 5,000 ORM objects.
"""

from __future__ import annotations

from typing import Any

from grms_kit.db import Database
from grms_kit.errors import Conflict
from sqlalchemy import and_, bindparam, delete, false, func, insert, or_, select, update
from sqlalchemy.orm import Session

from grms_budgeting.adapters.tables import (
    account_code,
    audit_entry,
    budget_line,
    budget_plan,
    budget_plan_version,
    ceiling,
    nomenclature_code,
    standard_price,
    standard_price_account,
    sub_activity_output,
)
from grms_budgeting.domain.audit import GENESIS_HASH, AuditEntry, chain, verify_chain
from grms_budgeting.domain.budget import (
    BudgetLine,
    BudgetPlan,
    Ceiling,
    PlanListing,
    PlanState,
    PlanVersion,
    PriceGroup,
    RevisionKind,
    StandardPrice,
    VolumeFactor,
)
from grms_budgeting.domain.codes import AccountCode, NomenclatureCode, NomenclatureLevel
from grms_budgeting.domain.indicators import OutputIndicator, PlannedSubActivity

__all__ = [
    "SqlAccountCodeRepository",
    "SqlBudgetPlanRepository",
    "SqlCeilingRepository",
    "SqlNomenclatureRepository",
    "SqlPlannedSubActivityRepository",
    "SqlStandardPriceRepository",
    "audit_entry_from_row",
    "verify_audit_chain",
]


WRITE_CHUNK = 5_000  # rows per executemany on bulk writes


class SqlNomenclatureRepository:
    """Nomenclature codes per fiscal year."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add_many(self, codes: list[NomenclatureCode]) -> None:
        """Insert codes in one statement."""
        self.session.execute(
            insert(nomenclature_code),
            [
                {
                    "fiscal_year": c.fiscal_year,
                    "code": c.code,
                    "name": c.name,
                    "level": c.level.value,
                    "parent_code": c.parent_code,
                    "for_province": c.for_province,
                    "for_regency_city": c.for_regency_city,
                }
                for c in codes
            ],
        )

    def stored(self, fiscal_year: int, codes: set[str]) -> set[str]:
        """Which of `codes` are stored for the year."""
        t = nomenclature_code
        found: set[str] = set()
        for chunk in _chunks(sorted(codes)):
            found.update(
                self.session.scalars(select(t.c.code).where(t.c.fiscal_year == fiscal_year, t.c.code.in_(chunk)))
            )
        return found

    def get(self, fiscal_year: int, code: str) -> NomenclatureCode | None:
        """One code, if stored."""
        t = nomenclature_code
        row = self.session.execute(select(t).where(t.c.fiscal_year == fiscal_year, t.c.code == code)).first()
        if row is None:
            return None
        m = row._mapping
        return NomenclatureCode(
            m["fiscal_year"],
            m["code"],
            m["name"],
            NomenclatureLevel(m["level"]),
            m["parent_code"],
            m["for_province"],
            m["for_regency_city"],
        )


class SqlAccountCodeRepository:
    """Account codes per fiscal year, by canonical code."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add_many(self, codes: list[AccountCode]) -> None:
        """Insert codes in one statement."""
        self.session.execute(
            insert(account_code),
            [
                {
                    "fiscal_year": c.fiscal_year,
                    "code": c.code,
                    "display_code": c.display_code,
                    "name": c.name,
                    "level": c.level,
                    "parent_code": c.parent_code,
                }
                for c in codes
            ],
        )

    def get_many(self, fiscal_year: int, codes: set[str]) -> dict[str, AccountCode]:
        """The stored codes among `codes`."""
        t = account_code
        out: dict[str, AccountCode] = {}
        for chunk in _chunks(sorted(codes)):
            for row in self.session.execute(select(t).where(t.c.fiscal_year == fiscal_year, t.c.code.in_(chunk))):
                m = row._mapping
                out[m["code"]] = AccountCode(
                    m["fiscal_year"], m["code"], m["display_code"], m["name"], m["level"], m["parent_code"]
                )
        return out


class SqlStandardPriceRepository:
    """A government's standard price lists."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, price: StandardPrice) -> None:
        """Insert an item and the accounts it may be used with."""
        self.session.execute(
            insert(standard_price).values(
                government_code=price.government_code,
                fiscal_year=price.fiscal_year,
                code=price.code,
                price_group=price.group.value,
                name=price.name,
                specification=price.specification,
                unit=price.unit,
                price=price.price,
                search_text=" ".join((price.code, price.name, price.specification)).lower(),
            )
        )
        self.session.execute(
            insert(standard_price_account),
            [
                {
                    "government_code": price.government_code,
                    "fiscal_year": price.fiscal_year,
                    "code": price.code,
                    "account_code": a,
                }
                for a in price.account_codes
            ],
        )

    def _load(self, condition: Any, *, limit: int | None = None) -> list[StandardPrice]:
        t, a = standard_price, standard_price_account
        query = select(t).where(condition).order_by(t.c.code)
        if limit is not None:
            query = query.limit(limit)
        rows = [r._mapping for r in self.session.execute(query)]
        if not rows:
            return []
        accounts: dict[str, list[str]] = {}
        g, y = rows[0]["government_code"], rows[0]["fiscal_year"]
        for chunk in _chunks([r["code"] for r in rows]):
            query_a = select(a.c.code, a.c.account_code).where(
                a.c.government_code == g, a.c.fiscal_year == y, a.c.code.in_(chunk)
            )
            for code, account in self.session.execute(query_a):
                accounts.setdefault(code, []).append(account)
        return [
            StandardPrice(
                r["government_code"],
                r["fiscal_year"],
                PriceGroup(r["price_group"]),
                r["code"],
                r["name"],
                r["specification"],
                r["unit"],
                r["price"],
                tuple(sorted(accounts.get(r["code"], []))),
            )
            for r in rows
        ]

    def get_many(self, government_code: str, fiscal_year: int, codes: set[str]) -> dict[str, StandardPrice]:
        """The stored items among `codes`."""
        t = standard_price
        out: dict[str, StandardPrice] = {}
        for chunk in _chunks(sorted(codes)):
            condition = and_(
                t.c.government_code == government_code, t.c.fiscal_year == fiscal_year, t.c.code.in_(chunk)
            )
            out.update({p.code: p for p in self._load(condition)})
        return out

    def search(
        self, government_code: str, fiscal_year: int, *, words: list[str], account_code: str, after: str, limit: int
    ) -> list[StandardPrice]:
        """Items containing every word, optionally allowed on `account_code`, ordered by code after `after`."""
        t, a = standard_price, standard_price_account
        conditions = [t.c.government_code == government_code, t.c.fiscal_year == fiscal_year, t.c.code > after]
        for word in words:
            escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            conditions.append(t.c.search_text.like(f"%{escaped}%", escape="\\"))
        if account_code:
            conditions.append(
                t.c.code.in_(
                    select(a.c.code).where(
                        a.c.government_code == government_code,
                        a.c.fiscal_year == fiscal_year,
                        a.c.account_code == account_code,
                    )
                )
            )
        return self._load(and_(*conditions), limit=limit)


class SqlCeilingRepository:
    """Ceilings, saved with optimistic concurrency."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, government_code: str, fiscal_year: int, agency_code: str, sub_activity_code: str) -> Ceiling | None:
        """One ceiling, if set."""
        t = ceiling
        row = self.session.execute(
            select(t).where(
                t.c.government_code == government_code,
                t.c.fiscal_year == fiscal_year,
                t.c.agency_code == agency_code,
                t.c.sub_activity_code == sub_activity_code,
            )
        ).first()
        if row is None:
            return None
        m = row._mapping
        return Ceiling(
            m["government_code"],
            m["fiscal_year"],
            m["agency_code"],
            m["sub_activity_code"],
            m["amount"],
            m["locked"],
            m["version"],
            m["updated_at"],
        )

    def add(self, value: Ceiling) -> None:
        """Insert a new ceiling."""
        self.session.execute(insert(ceiling).values(**_ceiling_row(value)))

    def save(self, value: Ceiling, *, previous_version: int) -> None:
        """Write a changed ceiling; Conflict when someone else saved it first."""
        t = ceiling
        result = self.session.execute(
            update(t)
            .where(
                t.c.government_code == value.government_code,
                t.c.fiscal_year == value.fiscal_year,
                t.c.agency_code == value.agency_code,
                t.c.sub_activity_code == value.sub_activity_code,
                t.c.version == previous_version,
            )
            .values(**_ceiling_row(value))
        )
        if result.rowcount != 1:
            raise Conflict(f"ceiling {value.label()} was changed by someone else; reload and try again")


def _ceiling_row(value: Ceiling) -> dict[str, Any]:
    return {
        "government_code": value.government_code,
        "fiscal_year": value.fiscal_year,
        "agency_code": value.agency_code,
        "sub_activity_code": value.sub_activity_code,
        "amount": value.amount,
        "locked": value.locked,
        "version": value.version,
        "updated_at": value.updated_at,
    }


class SqlBudgetPlanRepository:
    """Budget plans, their lines, snapshots and audit chains."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.seen: list[BudgetPlan] = []

    def add(self, plan: BudgetPlan, *, request_id: str) -> None:
        """Insert a new plan, its lines, snapshots and first audit entries."""
        self.session.execute(insert(budget_plan).values(**_plan_row(plan)))
        self._write_changes(plan, request_id=request_id, chain_head=(0, GENESIS_HASH))
        self.seen.append(plan)

    def get(self, plan_id: str) -> BudgetPlan | None:
        """A plan with all its lines."""
        row = self.session.execute(select(budget_plan).where(budget_plan.c.id == plan_id)).first()
        if row is None:
            return None
        m = row._mapping
        t = budget_line
        lines = {
            r.number: BudgetLine(
                number=r.number,
                account_code=r.account_code,
                standard_item_code=r.standard_item_code,
                specification=r.specification,
                volume=r.volume,
                factors=tuple(VolumeFactor(q, u) for q, u in r.factors),
                unit=r.unit,
                unit_price=r.unit_price,
                funding_source=r.funding_source,
                tags=tuple(r.tags),
            )
            for r in self.session.execute(
                select(t).where(t.c.plan_id == plan_id, t.c.removed == false()).order_by(t.c.number)
            )
        }
        return BudgetPlan(
            id=m["id"],
            government_code=m["government_code"],
            agency_code=m["agency_code"],
            sub_activity_code=m["sub_activity_code"],
            fiscal_year=m["fiscal_year"],
            state=PlanState(m["state"]),
            version=m["version"],
            lines=lines,
            next_line_number=m["next_line_number"],
            review_note=m["review_note"],
            line_notes={int(k): v for k, v in m["line_notes"].items()},
            created_at=m["created_at"],
            updated_at=m["updated_at"],
            revision=m["revision"],
            revision_kind=RevisionKind(m["revision_kind"]) if m["revision_kind"] else None,
            approved_total=m["approved_total"],
        )

    def list(
        self,
        government_code: str,
        *,
        agency_codes: frozenset[str],
        fiscal_year: int,
        state: PlanState | None,
        after: tuple[str, str, str] | None,
        limit: int,
    ) -> list[PlanListing]:
        """Plans without lines by (agency, sub-activity, id), after the key `after`; empty `agency_codes`: all."""
        t = budget_plan
        conditions = [t.c.government_code == government_code]
        if agency_codes:
            conditions.append(t.c.agency_code.in_(sorted(agency_codes)))
        if fiscal_year:
            conditions.append(t.c.fiscal_year == fiscal_year)
        if state is not None:
            conditions.append(t.c.state == state.value)
        if after is not None:
            a, s, i = after
            # Spelled out rather than a row-value comparison: the same index scan on both databases.
            conditions.append(
                or_(
                    t.c.agency_code > a,
                    and_(t.c.agency_code == a, t.c.sub_activity_code > s),
                    and_(t.c.agency_code == a, t.c.sub_activity_code == s, t.c.id > i),
                )
            )
        columns = [c for c in t.c if c.name not in ("line_notes", "review_note", "next_line_number")]
        query = (
            select(*columns).where(*conditions).order_by(t.c.agency_code, t.c.sub_activity_code, t.c.id).limit(limit)
        )
        return [
            PlanListing(
                id=m["id"],
                government_code=m["government_code"],
                agency_code=m["agency_code"],
                sub_activity_code=m["sub_activity_code"],
                fiscal_year=m["fiscal_year"],
                state=PlanState(m["state"]),
                version=m["version"],
                total=m["total"],
                line_count=m["line_count"],
                revision=m["revision"],
                revision_kind=RevisionKind(m["revision_kind"]) if m["revision_kind"] else None,
                approved_total=m["approved_total"],
                created_at=m["created_at"],
                updated_at=m["updated_at"],
            )
            for m in (r._mapping for r in self.session.execute(query))
        ]

    def find(self, government_code: str, agency_code: str, sub_activity_code: str, fiscal_year: int) -> str | None:
        """The id of the agency's plan for that sub-activity and year, if any."""
        t = budget_plan
        return self.session.scalar(
            select(t.c.id).where(
                t.c.government_code == government_code,
                t.c.agency_code == agency_code,
                t.c.sub_activity_code == sub_activity_code,
                t.c.fiscal_year == fiscal_year,
            )
        )

    def save(self, plan: BudgetPlan, *, previous_version: int, request_id: str) -> None:
        """Write a changed plan; Conflict when it is no longer at `previous_version`.

        The guarded UPDATE comes first: on PostgreSQL it row-locks the plan, which also
        serialises appends to the plan's audit chain; on SQLite the one writer does.
        """
        t = budget_plan
        result = self.session.execute(
            update(t).where(t.c.id == plan.id, t.c.version == previous_version).values(**_plan_row(plan))
        )
        if result.rowcount != 1:
            raise Conflict(f"budget plan {plan.id} was changed by someone else; reload and try again")
        a = audit_entry
        head = self.session.execute(
            select(a.c.seq, a.c.hash).where(a.c.plan_id == plan.id).order_by(a.c.seq.desc()).limit(1)
        ).first()
        self._write_changes(plan, request_id=request_id, chain_head=(head[0], head[1]) if head else (0, GENESIS_HASH))
        self.seen.append(plan)

    def _write_changes(self, plan: BudgetPlan, *, request_id: str, chain_head: tuple[int, str]) -> None:
        if plan.changed_lines:
            self._write_lines(plan)
            plan.changed_lines.clear()
        if plan.snapshots:
            self.session.execute(
                insert(budget_plan_version),
                [
                    {
                        "plan_id": s.plan_id,
                        "version": s.version,
                        "state": s.state.value,
                        "action": s.action,
                        "actor": s.actor,
                        "created_at": s.created_at,
                        "total": s.total,
                        "line_count": s.line_count,
                        "content": s.content,
                    }
                    for s in plan.snapshots
                ],
            )
            plan.snapshots.clear()
        if plan.audit:
            # Linked and written WRITE_CHUNK records at a time: a 150,000-line import never holds
            # every entry and its row at once.
            seq, prev_hash = chain_head
            records, plan.audit = plan.audit, []
            for start in range(0, len(records), WRITE_CHUNK):
                entries = chain(
                    plan.id,
                    records[start : start + WRITE_CHUNK],
                    after_seq=seq,
                    prev_hash=prev_hash,
                    at=plan.updated_at,
                    request_id=request_id,
                )
                self.session.execute(insert(audit_entry), [_audit_row(e) for e in entries])
                seq, prev_hash = entries[-1].seq, entries[-1].hash
                records[start : start + WRITE_CHUNK] = [None] * len(entries)  # type: ignore[list-item]

    def _write_lines(self, plan: BudgetPlan) -> None:
        # Lines already stored are UPDATEd in place, never deleted and re-inserted: a revised DPA
        # line keeps the amounts its SPPs committed and its SP2Ds disbursed.
        t = budget_line
        numbers = sorted(plan.changed_lines)
        gone = [n for n in numbers if n not in plan.lines]
        for chunk in _chunks(gone):
            # A line of the DPA in force stays spendable until the revision that removes it is approved.
            in_force = (t.c.plan_id == plan.id) & t.c.number.in_(chunk)
            self.session.execute(update(t).where(in_force, t.c.dpa_amount > 0).values(removed=True))
            self.session.execute(delete(t).where(in_force, t.c.dpa_amount == 0))
        stored = {n for n in numbers if n in plan.lines and n not in plan.new_lines}
        changed = [_line_row(plan.id, plan.lines[n]) for n in sorted(stored)]
        if changed:
            values = {k: bindparam(f"v_{k}") for k in changed[0] if k not in ("plan_id", "number")}
            statement = (
                update(t)
                .where(t.c.plan_id == bindparam("k_plan_id"), t.c.number == bindparam("k_number"))
                .values(**values)
            )
            self.session.execute(
                statement,
                [
                    {"k_plan_id": row["plan_id"], "k_number": row["number"]}
                    | {f"v_{k}": v for k, v in row.items() if k not in ("plan_id", "number")}
                    for row in changed
                ],
            )
        new = [n for n in numbers if n in plan.new_lines and n in plan.lines]
        for start in range(0, len(new), WRITE_CHUNK):
            self.session.execute(
                insert(t), [_line_row(plan.id, plan.lines[n]) for n in new[start : start + WRITE_CHUNK]]
            )
        plan.new_lines.clear()

    def agency_total(self, government_code: str, fiscal_year: int, agency_code: str, *, excluding: str) -> int:
        """The sum of the agency's other plans of the year."""
        t = budget_plan
        total = self.session.scalar(
            select(func.coalesce(func.sum(t.c.total), 0)).where(
                t.c.government_code == government_code,
                t.c.fiscal_year == fiscal_year,
                t.c.agency_code == agency_code,
                t.c.id != excluding,
            )
        )
        return int(total or 0)

    def versions(self, plan_id: str) -> list[PlanVersion]:
        """The plan's snapshots without their content, oldest first."""
        t = budget_plan_version
        columns = [c for c in t.c if c.name != "content"]
        rows = self.session.execute(select(*columns).where(t.c.plan_id == plan_id).order_by(t.c.version))
        return [_version(r._mapping, {}) for r in rows]

    def version(self, plan_id: str, version: int) -> PlanVersion | None:
        """One snapshot with its content."""
        t = budget_plan_version
        row = self.session.execute(select(t).where(t.c.plan_id == plan_id, t.c.version == version)).first()
        return _version(row._mapping, row._mapping["content"]) if row else None

    def audit_entries(self, plan_id: str, *, after_seq: int, limit: int) -> list[AuditEntry]:
        """The plan's audit chain in seq order, after `after_seq`."""
        a = audit_entry
        query = select(a).where(a.c.plan_id == plan_id, a.c.seq > after_seq).order_by(a.c.seq).limit(limit)
        return [audit_entry_from_row(r._mapping) for r in self.session.execute(query)]


class SqlPlannedSubActivityRepository:
    """Planning's sub-activities with their output indicators, as its events last described them."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def get(
        self, government_code: str, fiscal_year: int, agency_code: str, sub_activity_code: str
    ) -> PlannedSubActivity | None:
        """The stored copy, if planning published the sub-activity."""
        t = sub_activity_output
        row = self.session.execute(
            select(t).where(
                t.c.government_code == government_code,
                t.c.fiscal_year == fiscal_year,
                t.c.agency_code == agency_code,
                t.c.sub_activity_code == sub_activity_code,
            )
        ).first()
        if row is None:
            return None
        m = row._mapping
        return PlannedSubActivity(
            m["government_code"],
            m["fiscal_year"],
            m["agency_code"],
            m["sub_activity_code"],
            m["planning_id"],
            tuple(OutputIndicator(*i) for i in m["indicators"]),
            m["version"],
            m["updated_at"],
        )

    def put(self, value: PlannedSubActivity) -> None:
        """Insert or replace the copy."""
        t = sub_activity_output
        key = (
            (t.c.government_code == value.government_code)
            & (t.c.fiscal_year == value.fiscal_year)
            & (t.c.agency_code == value.agency_code)
            & (t.c.sub_activity_code == value.sub_activity_code)
        )
        row = {
            "planning_id": value.planning_id,
            "indicators": [[o.name, o.target, o.unit] for o in value.outputs],
            "version": value.version,
            "updated_at": value.updated_at,
        }
        if self.session.execute(update(t).where(key).values(**row)).rowcount == 0:
            self.session.execute(
                insert(t).values(
                    government_code=value.government_code,
                    fiscal_year=value.fiscal_year,
                    agency_code=value.agency_code,
                    sub_activity_code=value.sub_activity_code,
                    **row,
                )
            )


def verify_audit_chain(db: Database, plan_id: str | None = None) -> dict[str, int | None]:
    """Check the audit chain of one plan (or of every plan): plan id → first broken seq, None when intact.

    For `grms audit verify [--plan ID]`. Reads each chain in seq order in one read-only transaction.
    """
    a = audit_entry
    with db.engine.connect() as conn:
        if plan_id is None:
            plan_ids = list(conn.scalars(select(budget_plan.c.id).order_by(budget_plan.c.id)))
        else:
            plan_ids = [plan_id]
        report: dict[str, int | None] = {}
        for pid in plan_ids:
            rows = conn.execute(select(a).where(a.c.plan_id == pid).order_by(a.c.seq))
            report[pid] = verify_chain(audit_entry_from_row(r._mapping) for r in rows)
    return report


def _chunks(values: list[Any], size: int = 500) -> list[list[Any]]:
    # Keeps IN lists under SQLite's bound-parameter limits.
    return [values[i : i + size] for i in range(0, len(values), size)]


def _plan_row(plan: BudgetPlan) -> dict[str, Any]:
    return {
        "id": plan.id,
        "government_code": plan.government_code,
        "agency_code": plan.agency_code,
        "sub_activity_code": plan.sub_activity_code,
        "fiscal_year": plan.fiscal_year,
        "state": plan.state.value,
        "version": plan.version,
        "next_line_number": plan.next_line_number,
        "total": plan.total,
        "review_note": plan.review_note,
        "line_notes": {str(k): v for k, v in plan.line_notes.items()},
        "created_at": plan.created_at,
        "updated_at": plan.updated_at,
        "line_count": len(plan.lines),
        "revision": plan.revision,
        "revision_kind": plan.revision_kind.value if plan.revision_kind else None,
        "approved_total": plan.approved_total,
    }


def _line_row(plan_id: str, line: BudgetLine) -> dict[str, Any]:
    return {
        "plan_id": plan_id,
        "number": line.number,
        "account_code": line.account_code,
        "standard_item_code": line.standard_item_code,
        "specification": line.specification,
        "volume": line.volume,
        "factors": [[f.quantity, f.unit] for f in line.factors],
        "unit": line.unit,
        "unit_price": line.unit_price,
        "amount": line.amount,
        "funding_source": line.funding_source,
        "tags": list(line.tags),
    }


def _version(m: Any, content: dict[str, Any]) -> PlanVersion:
    return PlanVersion(
        m["plan_id"],
        m["version"],
        PlanState(m["state"]),
        m["action"],
        m["actor"],
        m["created_at"],
        m["total"],
        m["line_count"],
        content,
    )


def _audit_row(e: AuditEntry) -> dict[str, Any]:
    return {
        "plan_id": e.plan_id,
        "seq": e.seq,
        "actor": e.actor,
        "agency_code": e.agency_code,
        "action": e.action,
        "old": e.old,
        "new": e.new,
        "at": e.at,
        "request_id": e.request_id,
        "prev_hash": e.prev_hash,
        "hash": e.hash,
    }


def audit_entry_from_row(m: Any) -> AuditEntry:
    """An AuditEntry from a row mapping of `audit_entry`."""
    return AuditEntry(
        m["plan_id"],
        m["seq"],
        m["actor"],
        m["agency_code"],
        m["action"],
        m["old"],
        m["new"],
        m["at"],
        m["request_id"],
        m["prev_hash"],
        m["hash"],
    )
