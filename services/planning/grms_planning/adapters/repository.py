"""SQL repositories for sub-activities, procurement packages and the reference copy (SQLAlchemy Core)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal
from typing import Any, cast

from grms_kit.errors import Conflict
from sqlalchemy import ColumnElement, CursorResult, and_, delete, exists, func, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from grms_planning.adapters.tables import approved_budget as approved_budget_table
from grms_planning.adapters.tables import complaint_cluster as cluster_table
from grms_planning.adapters.tables import indicator as indicator_table
from grms_planning.adapters.tables import monthly_plan as monthly_plan_table
from grms_planning.adapters.tables import planning_stage as stage_table
from grms_planning.adapters.tables import procurement_package as package_table
from grms_planning.adapters.tables import proposal as proposal_table
from grms_planning.adapters.tables import proposal_history as history_table
from grms_planning.adapters.tables import reference
from grms_planning.adapters.tables import stage_book as book_table
from grms_planning.adapters.tables import sub_activity as sub_activity_table
from grms_planning.adapters.tables import sub_activity_location as location_table
from grms_planning.domain.budget_link import ApprovedBudget
from grms_planning.domain.model import (
    Indicator,
    IndicatorFormula,
    IndicatorKind,
    IndicatorLevel,
    Location,
    MonthlyPlan,
    MonthPlan,
    SubActivity,
    SubActivityStatus,
)
from grms_planning.domain.procurement import (
    MonthRange,
    ProcurementMode,
    ProcurementPackage,
    ProcurementType,
    SelectionMethod,
)
from grms_planning.domain.proposal import Proposal, ProposalCategory, ProposalChange, ProposalStatus
from grms_planning.domain.recurring import ComplaintCluster
from grms_planning.domain.stages import Stage, StageBook, StageKind, StageSnapshot

__all__ = [
    "SqlApprovedBudgetRepository",
    "SqlComplaintClusterRepository",
    "SqlPackageRepository",
    "SqlProposalRepository",
    "SqlReferenceData",
    "SqlStageRepository",
    "SqlSubActivityRepository",
]


def _after(columns: Sequence[Any], values: tuple[str, ...]) -> ColumnElement[bool]:
    """Keyset condition: (columns) > (values), lexicographically, without row-value syntax."""
    clauses = []
    for i, column in enumerate(columns):
        equal = [columns[j] == values[j] for j in range(i)]
        clauses.append(and_(*equal, column > values[i]))
    return or_(*clauses)


class SqlSubActivityRepository:
    """Sub-activities with their indicators, locations and monthly plan, saved as one aggregate."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.seen: list[SubActivity] = []

    def add(self, sub_activity: SubActivity) -> None:
        """Insert a new sub-activity and its parts."""
        self.session.execute(insert(sub_activity_table).values(**_sub_activity_row(sub_activity)))
        self._write_parts(sub_activity)
        self.seen.append(sub_activity)

    def add_many(self, sub_activities: list[SubActivity]) -> None:
        """Insert many new sub-activities and their parts, a statement per table (executemany)."""
        if not sub_activities:
            return
        self.session.execute(insert(sub_activity_table), [_sub_activity_row(s) for s in sub_activities])
        rows: dict[Any, list[dict[str, Any]]] = {indicator_table: [], location_table: [], monthly_plan_table: []}
        for s in sub_activities:
            for table, part in _part_rows(s).items():
                rows[table].extend(part)
        for table, part in rows.items():
            if part:
                self.session.execute(insert(table), part)
        self.seen.extend(sub_activities)

    def codes(self, government_code: str, fiscal_year: int, agency_code: str) -> set[str]:
        """The codes of the agency-year's sub-activities."""
        t = sub_activity_table
        return set(
            self.session.execute(
                select(t.c.code).where(
                    t.c.government_code == government_code,
                    t.c.fiscal_year == fiscal_year,
                    t.c.agency_code == agency_code,
                )
            ).scalars()
        )

    def approved_amounts(self, government_code: str, fiscal_year: int, agency_code: str) -> dict[str, int]:
        """The amounts budgeting approved for the agency-year, by sub-activity code."""
        t = approved_budget_table
        found = self.session.execute(
            select(t.c.sub_activity_code, t.c.amount_rupiah).where(
                t.c.government_code == government_code, t.c.fiscal_year == fiscal_year, t.c.agency_code == agency_code
            )
        )
        return {r.sub_activity_code: r.amount_rupiah for r in found}

    def get(self, sub_activity_id: str) -> SubActivity | None:
        """The sub-activity with `sub_activity_id`, if any."""
        t = sub_activity_table
        rows = self.session.execute(select(t).where(t.c.id == sub_activity_id)).all()
        found = _assemble(self.session, rows)
        return found[0] if found else None

    def find(self, government_code: str, fiscal_year: int, agency_code: str, code: str) -> SubActivity | None:
        """The sub-activity with this natural key, if any."""
        t = sub_activity_table
        rows = self.session.execute(
            select(t).where(
                t.c.government_code == government_code,
                t.c.fiscal_year == fiscal_year,
                t.c.agency_code == agency_code,
                t.c.code == code,
            )
        ).all()
        found = _assemble(self.session, rows)
        return found[0] if found else None

    def save(self, sub_activity: SubActivity, *, previous_version: int) -> None:
        """Write a changed sub-activity; Conflict when someone else saved it since it was loaded."""
        t = sub_activity_table
        result = cast(
            CursorResult[Any],
            self.session.execute(
                update(t)
                .where(t.c.id == sub_activity.id, t.c.version == previous_version)
                .values(**_sub_activity_row(sub_activity))
            ),
        )
        if result.rowcount != 1:
            raise Conflict(f"sub-activity {sub_activity.code} was changed by someone else; reload and try again")
        for table in (indicator_table, location_table, monthly_plan_table):
            self.session.execute(delete(table).where(table.c.sub_activity_id == sub_activity.id))
        self._write_parts(sub_activity)
        self.seen.append(sub_activity)

    def list(
        self, government_code: str, fiscal_year: int, *, agency_code: str, after: tuple[str, ...], limit: int | None
    ) -> list[SubActivity]:
        """Sub-activities ordered by agency and code, after the key `after`."""
        t = sub_activity_table
        query = select(t).where(t.c.government_code == government_code, t.c.fiscal_year == fiscal_year)
        if agency_code:
            query = query.where(t.c.agency_code == agency_code)
        if after:
            query = query.where(_after([t.c.agency_code, t.c.code], after))
        query = query.order_by(t.c.agency_code, t.c.code)
        if limit is not None:
            query = query.limit(limit)
        return _assemble(self.session, self.session.execute(query).all())

    def _write_parts(self, s: SubActivity) -> None:
        for table, rows in _part_rows(s).items():
            if rows:
                self.session.execute(insert(table), rows)


def _part_rows(s: SubActivity) -> dict[Any, list[dict[str, Any]]]:
    """The indicator, location and monthly-plan rows of a sub-activity, by table."""
    return {
        indicator_table: [
            {
                "sub_activity_id": s.id,
                "position": i,
                "level": ind.level.value,
                "kind": ind.kind.value,
                "name": ind.name,
                "unit": ind.unit,
                "target": str(ind.target),
                "formula": ind.formula.value,
            }
            for i, ind in enumerate(s.indicators)
        ],
        location_table: [
            {
                "sub_activity_id": s.id,
                "position": i,
                "government_code": loc.government_code,
                "village_code": loc.village_code,
                "latitude": None if loc.latitude is None else str(loc.latitude),
                "longitude": None if loc.longitude is None else str(loc.longitude),
            }
            for i, loc in enumerate(s.locations)
        ],
        monthly_plan_table: [
            {
                "sub_activity_id": s.id,
                "month": m.month,
                "physical_basis_points": int(m.physical_percent * 100),
                "disbursement_rupiah": m.disbursement,
            }
            for m in (s.monthly_plan.months if s.monthly_plan is not None else ())
        ],
    }


def _assemble(session: Session, rows: Sequence[Any]) -> list[SubActivity]:
    """Sub-activities from their rows, with every part loaded in three queries for the lot."""
    if not rows:
        return []
    ids = [r.id for r in rows]
    indicators: dict[str, list[Indicator]] = defaultdict(list)
    for r in session.execute(
        select(indicator_table)
        .where(indicator_table.c.sub_activity_id.in_(ids))
        .order_by(indicator_table.c.sub_activity_id, indicator_table.c.position)
    ):
        indicators[r.sub_activity_id].append(
            Indicator(
                level=IndicatorLevel(r.level),
                kind=IndicatorKind(r.kind),
                name=r.name,
                unit=r.unit,
                target=Decimal(r.target),
                formula=IndicatorFormula(r.formula),
            )
        )
    locations: dict[str, list[Location]] = defaultdict(list)
    for r in session.execute(
        select(location_table)
        .where(location_table.c.sub_activity_id.in_(ids))
        .order_by(location_table.c.sub_activity_id, location_table.c.position)
    ):
        locations[r.sub_activity_id].append(
            Location(
                government_code=r.government_code,
                village_code=r.village_code,
                latitude=None if r.latitude is None else Decimal(r.latitude),
                longitude=None if r.longitude is None else Decimal(r.longitude),
            )
        )
    months: dict[str, list[MonthPlan]] = defaultdict(list)
    for r in session.execute(
        select(monthly_plan_table)
        .where(monthly_plan_table.c.sub_activity_id.in_(ids))
        .order_by(monthly_plan_table.c.sub_activity_id, monthly_plan_table.c.month)
    ):
        months[r.sub_activity_id].append(
            MonthPlan(
                month=r.month,
                physical_percent=Decimal(r.physical_basis_points).scaleb(-2),
                disbursement=r.disbursement_rupiah,
            )
        )
    approved = _approved_amounts(session, rows)
    return [
        SubActivity(
            id=r.id,
            government_code=r.government_code,
            agency_code=r.agency_code,
            fiscal_year=r.fiscal_year,
            code=r.code,
            name=r.name,
            budget=r.budget_rupiah,
            status=SubActivityStatus(r.status),
            indicators=indicators[r.id],
            locations=locations[r.id],
            funding_sources=list(r.funding_sources),
            tags=list(r.tags),
            monthly_plan=MonthlyPlan(tuple(months[r.id])) if months[r.id] else None,
            packaged=r.packaged_rupiah,
            version=r.version,
            created_at=r.created_at,
            updated_at=r.updated_at,
            approved_budget=approved.get((r.government_code, r.fiscal_year, r.agency_code, r.code)),
        )
        for r in rows
    ]


def _approved_amounts(session: Session, rows: Sequence[Any]) -> dict[tuple[str, int, str, str], int]:
    """The approved amounts (from budgeting) of the sub-activities in `rows`, by natural key."""
    t = approved_budget_table
    found = session.execute(
        select(t.c.government_code, t.c.fiscal_year, t.c.agency_code, t.c.sub_activity_code, t.c.amount_rupiah).where(
            t.c.government_code.in_({r.government_code for r in rows}),
            t.c.fiscal_year.in_({r.fiscal_year for r in rows}),
            t.c.sub_activity_code.in_({r.code for r in rows}),
        )
    )
    return {(a.government_code, a.fiscal_year, a.agency_code, a.sub_activity_code): a.amount_rupiah for a in found}


def _sub_activity_row(s: SubActivity) -> dict[str, Any]:
    return {
        "id": s.id,
        "government_code": s.government_code,
        "agency_code": s.agency_code,
        "fiscal_year": s.fiscal_year,
        "code": s.code,
        "name": s.name,
        "budget_rupiah": s.budget,
        "packaged_rupiah": s.packaged,
        "status": s.status.value,
        "funding_sources": list(s.funding_sources),
        "tags": list(s.tags),
        "version": s.version,
        "created_at": s.created_at,
        "updated_at": s.updated_at,
    }


class SqlPackageRepository:
    """Procurement packages (RUP)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.seen: list[ProcurementPackage] = []

    def add(self, package: ProcurementPackage) -> None:
        """Insert a new package."""
        self.session.execute(insert(package_table).values(**_package_row(package)))
        self.seen.append(package)

    def add_many(self, packages: list[ProcurementPackage]) -> None:
        """Insert many new packages in one statement (executemany)."""
        if packages:
            self.session.execute(insert(package_table), [_package_row(p) for p in packages])
            self.seen.extend(packages)

    def list(
        self,
        government_code: str,
        fiscal_year: int,
        *,
        agency_code: str,
        sub_activity_id: str,
        after: tuple[str, ...],
        limit: int | None,
    ) -> list[ProcurementPackage]:
        """Packages of a government and year ordered by agency, sub-activity, account and id."""
        t = package_table
        order = [t.c.agency_code, t.c.sub_activity_code, t.c.account_code, t.c.id]
        query = select(t).where(t.c.government_code == government_code, t.c.fiscal_year == fiscal_year)
        if agency_code:
            query = query.where(t.c.agency_code == agency_code)
        if sub_activity_id:
            query = query.where(t.c.sub_activity_id == sub_activity_id)
        if after:
            query = query.where(_after(order, after))
        query = query.order_by(*order)
        if limit is not None:
            query = query.limit(limit)
        return [_package(r) for r in self.session.execute(query)]


def _package_row(p: ProcurementPackage) -> dict[str, Any]:
    return {
        "id": p.id,
        "sub_activity_id": p.sub_activity_id,
        "government_code": p.government_code,
        "agency_code": p.agency_code,
        "fiscal_year": p.fiscal_year,
        "sub_activity_code": p.sub_activity_code,
        "account_code": p.account_code,
        "name": p.name,
        "procurement_type": p.procurement_type.value,
        "mode": p.mode.value,
        "method": p.method.value if p.method else None,
        "value_rupiah": p.value,
        "domestic_product": p.domestic_product,
        "small_business": p.small_business,
        "selection_start_month": p.selection.start if p.selection else None,
        "selection_end_month": p.selection.end if p.selection else None,
        "contract_start_month": p.contract.start,
        "contract_end_month": p.contract.end,
        "use_start_month": p.use.start,
        "use_end_month": p.use.end,
        "created_at": p.created_at,
    }


def _package(r: Any) -> ProcurementPackage:
    return ProcurementPackage(
        id=r.id,
        sub_activity_id=r.sub_activity_id,
        government_code=r.government_code,
        agency_code=r.agency_code,
        fiscal_year=r.fiscal_year,
        sub_activity_code=r.sub_activity_code,
        account_code=r.account_code,
        name=r.name,
        procurement_type=ProcurementType(r.procurement_type),
        mode=ProcurementMode(r.mode),
        method=SelectionMethod(r.method) if r.method else None,
        value=r.value_rupiah,
        domestic_product=r.domestic_product,
        small_business=r.small_business,
        selection=MonthRange(r.selection_start_month, r.selection_end_month)
        if r.selection_start_month is not None
        else None,
        contract=MonthRange(r.contract_start_month, r.contract_end_month),
        use=MonthRange(r.use_start_month, r.use_end_month),
        created_at=r.created_at,
    )


class SqlReferenceData:
    """The replica tables kept by the `planning-budgeting-reference` consumer, read in this transaction."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def government_known(self, code: str) -> bool:
        """True when budgeting's GovernmentRegistered for `code` has arrived."""
        t = reference.government
        return bool(self.session.execute(select(exists().where(t.c.code == code))).scalar())

    def agency_known(self, government_code: str, code: str) -> bool:
        """True when budgeting's AgencyRegistered for the agency has arrived."""
        t = reference.agency
        return bool(
            self.session.execute(
                select(exists().where(t.c.government_code == government_code, t.c.code == code))
            ).scalar()
        )


class SqlApprovedBudgetRepository:
    """The approved amounts copied from budgeting, one row per sub-activity and year."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def get(
        self, government_code: str, fiscal_year: int, agency_code: str, sub_activity_code: str
    ) -> ApprovedBudget | None:
        """The approval kept for this sub-activity, if any."""
        t = approved_budget_table
        r = self.session.execute(
            select(t).where(
                t.c.government_code == government_code,
                t.c.fiscal_year == fiscal_year,
                t.c.agency_code == agency_code,
                t.c.sub_activity_code == sub_activity_code,
            )
        ).first()
        if r is None:
            return None
        return ApprovedBudget(
            government_code=r.government_code,
            agency_code=r.agency_code,
            sub_activity_code=r.sub_activity_code,
            fiscal_year=r.fiscal_year,
            amount=r.amount_rupiah,
            plan_id=r.plan_id,
            plan_version=r.plan_version,
            approved_at=r.approved_at,
        )

    def put(self, approval: ApprovedBudget, *, replaces: ApprovedBudget | None) -> None:
        """Insert the first approval, or replace `replaces` (read in this transaction) with a newer one."""
        t = approved_budget_table
        values = {
            "amount_rupiah": approval.amount,
            "plan_id": approval.plan_id,
            "plan_version": approval.plan_version,
            "approved_at": approval.approved_at,
        }
        key = {
            "government_code": approval.government_code,
            "fiscal_year": approval.fiscal_year,
            "agency_code": approval.agency_code,
            "sub_activity_code": approval.sub_activity_code,
        }
        if replaces is None:
            self.session.execute(insert(t).values(**key, **values))
            return
        self.session.execute(
            update(t)
            .where(*(t.c[name] == value for name, value in key.items()), t.c.plan_version == replaces.plan_version)
            .values(**values)
        )


class SqlProposalRepository:
    """Citizens' proposals with their public history."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.seen: list[Proposal] = []

    def add(self, proposal: Proposal) -> None:
        """Insert a new proposal and its history."""
        self.session.execute(insert(proposal_table).values(**_proposal_row(proposal)))
        self._write_history(proposal, start=0)
        self.seen.append(proposal)

    def get(self, public_id: str) -> Proposal | None:
        """The proposal with `public_id`, if any."""
        t = proposal_table
        found = self._assemble(self.session.execute(select(t).where(t.c.public_id == public_id)).all())
        return found[0] if found else None

    def save(self, proposal: Proposal, *, previous_version: int) -> None:
        """Write a changed proposal and its new history entries; Conflict if changed meanwhile."""
        t = proposal_table
        result = cast(
            CursorResult[Any],
            self.session.execute(
                update(t)
                .where(t.c.public_id == proposal.public_id, t.c.version == previous_version)
                .values(**_proposal_row(proposal))
            ),
        )
        if result.rowcount != 1:
            raise Conflict(f"proposal {proposal.public_id} was changed by someone else; reload and try again")
        stored = self.session.execute(
            select(func.count()).select_from(history_table).where(history_table.c.public_id == proposal.public_id)
        ).scalar_one()
        self._write_history(proposal, start=stored)
        self.seen.append(proposal)

    def list(
        self, government_code: str, *, status: ProposalStatus | None, after: tuple[dt.datetime, str] | None, limit: int
    ) -> list[Proposal]:
        """Proposals of a government, oldest first (by submission time, then id), after the key `after`."""
        t = proposal_table
        query = select(t).where(t.c.government_code == government_code)
        if status is not None:
            query = query.where(t.c.status == status.value)
        if after is not None:
            query = query.where(
                or_(t.c.created_at > after[0], and_(t.c.created_at == after[0], t.c.public_id > after[1]))
            )
        query = query.order_by(t.c.created_at, t.c.public_id).limit(limit)
        return self._assemble(self.session.execute(query).all())

    def _write_history(self, proposal: Proposal, *, start: int) -> None:
        entries = proposal.history[start:]
        if entries:
            self.session.execute(
                insert(history_table),
                [
                    {
                        "public_id": proposal.public_id,
                        "position": start + i,
                        "status": change.status.value,
                        "at": change.at,
                        "note": change.note,
                        "sub_activity_id": change.sub_activity_id,
                    }
                    for i, change in enumerate(entries)
                ],
            )

    def _assemble(self, rows: Sequence[Any]) -> list[Proposal]:
        if not rows:
            return []
        history: dict[str, list[ProposalChange]] = defaultdict(list)
        h = history_table
        for r in self.session.execute(
            select(h).where(h.c.public_id.in_([r.public_id for r in rows])).order_by(h.c.public_id, h.c.position)
        ):
            history[r.public_id].append(ProposalChange(ProposalStatus(r.status), r.at, r.note, r.sub_activity_id))
        return [
            Proposal(
                public_id=r.public_id,
                government_code=r.government_code,
                village_code=r.village_code,
                category=ProposalCategory(r.category),
                title=r.title,
                description=r.description,
                proposer_name=r.proposer_name,
                proposer_contact=r.proposer_contact,
                status=ProposalStatus(r.status),
                sub_activity_id=r.sub_activity_id,
                history=history[r.public_id],
                version=r.version,
                created_at=r.created_at,
                updated_at=r.updated_at,
            )
            for r in rows
        ]


def _proposal_row(p: Proposal) -> dict[str, Any]:
    return {
        "public_id": p.public_id,
        "government_code": p.government_code,
        "village_code": p.village_code,
        "category": p.category.value,
        "title": p.title,
        "description": p.description,
        "proposer_name": p.proposer_name,
        "proposer_contact": p.proposer_contact,
        "status": p.status.value,
        "sub_activity_id": p.sub_activity_id,
        "version": p.version,
        "created_at": p.created_at,
        "updated_at": p.updated_at,
    }


_STAGE_HEAD = [c for c in stage_table.c if c.name != "content"]


class SqlStageRepository:
    """Stage books with their stages; a closed stage's snapshot is written once and read on demand."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def _key(self, t: Any, government_code: str, agency_code: str, fiscal_year: int) -> list[ColumnElement[bool]]:
        return [t.c.government_code == government_code, t.c.agency_code == agency_code, t.c.fiscal_year == fiscal_year]

    def get(self, government_code: str, agency_code: str, fiscal_year: int) -> StageBook | None:
        """The book of the agency-year with its stages (snapshot content not loaded), if any."""
        key = (government_code, agency_code, fiscal_year)
        version = self.session.execute(select(book_table.c.version).where(*self._key(book_table, *key))).scalar()
        if version is None:
            return None
        rows = self.session.execute(
            select(*_STAGE_HEAD).where(*self._key(stage_table, *key)).order_by(stage_table.c.number)
        ).all()
        return StageBook(government_code, agency_code, fiscal_year, [_stage(r) for r in rows], version)

    def add(self, book: StageBook) -> bool:
        """Insert a new book and its stages; False (nothing written) when another transaction stored it first."""
        values = {
            "government_code": book.government_code,
            "agency_code": book.agency_code,
            "fiscal_year": book.fiscal_year,
            "version": book.version,
            "open_stage": book.current.number if book.current else 0,
        }
        dialect = self.session.get_bind().dialect.name
        if dialect == "postgresql":
            statement: Any = pg_insert(book_table).values(**values).on_conflict_do_nothing()
        else:
            statement = sqlite_insert(book_table).values(**values).on_conflict_do_nothing()
        # RETURNING tells whether the row went in (rowcount is not reliable for upserts on every driver).
        if self.session.execute(statement.returning(book_table.c.version)).first() is None:
            return False
        self._write_stages(book, stored={})
        return True

    def count_edit(self, government_code: str, agency_code: str, fiscal_year: int) -> bool:
        """Atomically count an edit of an open agency-year; False when there is no book or it is locked."""
        key = (government_code, agency_code, fiscal_year)
        result = cast(
            CursorResult[Any],
            self.session.execute(
                update(book_table)
                .where(*self._key(book_table, *key), book_table.c.open_stage > 0)
                .values(version=book_table.c.version + 1)
            ),
        )
        return result.rowcount == 1

    def save(self, book: StageBook, *, previous_version: int) -> None:
        """Write a changed book: new stages inserted, a newly closed stage given its snapshot once."""
        key = (book.government_code, book.agency_code, book.fiscal_year)
        result = cast(
            CursorResult[Any],
            self.session.execute(
                update(book_table)
                .where(*self._key(book_table, *key), book_table.c.version == previous_version)
                .values(version=book.version, open_stage=book.current.number if book.current else 0)
            ),
        )
        if result.rowcount != 1:
            raise Conflict(f"{book.label} was changed by someone else; reload and try again")
        stored = {
            r.number: r.closed_at is not None
            for r in self.session.execute(
                select(stage_table.c.number, stage_table.c.closed_at).where(*self._key(stage_table, *key))
            )
        }
        self._write_stages(book, stored=stored)

    def content(self, government_code: str, agency_code: str, fiscal_year: int, number: int) -> dict[str, Any] | None:
        """The snapshot content of a closed stage, if any."""
        key = (government_code, agency_code, fiscal_year)
        found = self.session.execute(
            select(stage_table.c.content).where(*self._key(stage_table, *key), stage_table.c.number == number)
        ).scalar()
        return cast(dict[str, Any] | None, found)

    def _write_stages(self, book: StageBook, *, stored: dict[int, bool]) -> None:
        key = (book.government_code, book.agency_code, book.fiscal_year)
        for stage in book.stages:
            was_closed = stored.get(stage.number)
            if was_closed is None:
                self.session.execute(insert(stage_table).values(**_stage_row(book, stage)))
            elif not was_closed and stage.closed:
                row = _stage_row(book, stage)
                # Only the open row is ever completed: the snapshot of a closed stage is immutable.
                self.session.execute(
                    update(stage_table)
                    .where(
                        *self._key(stage_table, *key),
                        stage_table.c.number == stage.number,
                        stage_table.c.closed_at.is_(None),
                    )
                    .values(
                        {
                            name: row[name]
                            for name in (
                                "closed_at",
                                "closed_by",
                                "sub_activity_count",
                                "package_count",
                                "total_budget",
                                "total_packaged",
                                "content",
                            )
                        }
                    )
                )


def _stage_row(book: StageBook, stage: Stage) -> dict[str, Any]:
    snap = stage.snapshot
    return {
        "government_code": book.government_code,
        "agency_code": book.agency_code,
        "fiscal_year": book.fiscal_year,
        "number": stage.number,
        "kind": stage.kind.value,
        "opened_at": stage.opened_at,
        "opened_by": stage.opened_by,
        "reason": stage.reason,
        "closed_at": stage.closed_at,
        "closed_by": stage.closed_by,
        "sub_activity_count": snap.sub_activity_count if snap else None,
        "package_count": snap.package_count if snap else None,
        "total_budget": snap.total_budget if snap else None,
        "total_packaged": snap.total_packaged if snap else None,
        "content": snap.content if snap else None,
    }


def _stage(r: Any) -> Stage:
    snapshot = None
    if r.closed_at is not None:
        snapshot = StageSnapshot(r.sub_activity_count, r.package_count, r.total_budget, r.total_packaged, None)
    return Stage(
        number=r.number,
        kind=StageKind(r.kind),
        opened_at=r.opened_at,
        opened_by=r.opened_by,
        reason=r.reason,
        closed_at=r.closed_at,
        closed_by=r.closed_by,
        snapshot=snapshot,
    )


class SqlComplaintClusterRepository:
    """Complaint clusters, one row per (government, year, village, category)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, government_code: str, year: int, village_code: str, category_code: str) -> ComplaintCluster | None:
        """The cluster with this key, if any."""
        t = cluster_table
        r = self.session.execute(
            select(t).where(
                t.c.government_code == government_code,
                t.c.year == year,
                t.c.village_code == village_code,
                t.c.category_code == category_code,
            )
        ).first()
        return _cluster(r) if r is not None else None

    def add(self, cluster: ComplaintCluster) -> None:
        """Insert a new cluster."""
        self.session.execute(insert(cluster_table).values(**_cluster_row(cluster)))

    def save(self, cluster: ComplaintCluster, *, previous_version: int) -> None:
        """Write a changed cluster; Conflict when someone else changed it since it was read."""
        t = cluster_table
        result = cast(
            CursorResult[Any],
            self.session.execute(
                update(t)
                .where(
                    t.c.government_code == cluster.government_code,
                    t.c.year == cluster.year,
                    t.c.village_code == cluster.village_code,
                    t.c.category_code == cluster.category_code,
                    t.c.version == previous_version,
                )
                .values(**_cluster_row(cluster))
            ),
        )
        if result.rowcount != 1:
            raise Conflict(f"complaint cluster {cluster.village_code}/{cluster.category_code} changed; try again")

    def list(self, government_code: str, year: int, *, min_count: int, limit: int) -> list[ComplaintCluster]:
        """Clusters of a government's year with at least `min_count` complaints, largest first."""
        t = cluster_table
        query = (
            select(t)
            .where(t.c.government_code == government_code, t.c.year == year, t.c.complaint_count >= min_count)
            .order_by(t.c.complaint_count.desc(), t.c.village_code, t.c.category_code)
            .limit(limit)
        )
        return [_cluster(r) for r in self.session.execute(query)]


def _cluster_row(c: ComplaintCluster) -> dict[str, Any]:
    return {
        "government_code": c.government_code,
        "year": c.year,
        "village_code": c.village_code,
        "category_code": c.category_code,
        "complaint_count": c.complaint_count,
        "first_received_at": c.first_received_at,
        "last_received_at": c.last_received_at,
        "proposal_public_id": c.proposal_public_id,
        "version": c.version,
    }


def _cluster(r: Any) -> ComplaintCluster:
    return ComplaintCluster(
        government_code=r.government_code,
        year=r.year,
        village_code=r.village_code,
        category_code=r.category_code,
        complaint_count=r.complaint_count,
        first_received_at=r.first_received_at,
        last_received_at=r.last_received_at,
        proposal_public_id=r.proposal_public_id,
        version=r.version,
    )
