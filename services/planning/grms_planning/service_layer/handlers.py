"""Planning use cases: sub-activities, their monthly plans (F1) and the procurement plan (RUP).

Each handler takes a command and, keyword-only, the unit of work and the caller; it checks
the caller's right to act, loads, applies the domain rule and commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from grms_kit.errors import (
    AlreadyExists,
    Conflict,
    FailedPrecondition,
    FieldViolation,
    InvalidArgument,
    NotFound,
    PermissionDenied,
)
from grms_kit.identity import Identity, Role
from grms_kit.paging import Page

from grms_planning.domain.curves import CurveShape, suggest_monthly_plan
from grms_planning.domain.model import (
    Indicator,
    IndicatorFormula,
    IndicatorKind,
    IndicatorLevel,
    Location,
    MonthlyPlan,
    SubActivity,
)
from grms_planning.domain.procurement import (
    DEFAULT_THRESHOLDS,
    DirectProcurementThresholds,
    MonthRange,
    ProcurementMode,
    ProcurementPackage,
    ProcurementType,
    SelectionMethod,
    SplitFinding,
    detect_split_packages,
)
from grms_planning.domain.stages import StageBook
from grms_planning.service_layer.ports import UnitOfWork

__all__ = [
    "AddIndicator",
    "CreateProcurementPackage",
    "CreateSubActivity",
    "LocationInput",
    "MarkSubActivityPlanned",
    "PackageScope",
    "ReopenSubActivity",
    "SetMonthlyPlan",
    "add_indicator",
    "create_procurement_package",
    "create_sub_activity",
    "detect_splits",
    "get_sub_activity",
    "list_approved_budgets",
    "list_procurement_packages",
    "list_sub_activities",
    "mark_sub_activity_planned",
    "packages_for_export",
    "record_edit",
    "reopen_sub_activity",
    "set_monthly_plan",
    "suggest_plan",
]

_SEP = "\t"


@dataclass(frozen=True)
class LocationInput:
    government_code: str
    village_code: str = ""
    latitude: str = ""
    longitude: str = ""


@dataclass(frozen=True)
class CreateSubActivity:
    government_code: str
    agency_code: str
    fiscal_year: int
    code: str
    name: str
    budget: int
    locations: Sequence[LocationInput] = ()
    funding_sources: Sequence[str] = ()
    tags: Sequence[str] = ()


@dataclass(frozen=True)
class AddIndicator:
    sub_activity_id: str
    level: IndicatorLevel
    kind: IndicatorKind
    name: str
    unit: str
    target: str
    formula: IndicatorFormula
    expected_version: int | None = None


@dataclass(frozen=True)
class SetMonthlyPlan:
    sub_activity_id: str
    months: Sequence[tuple[str, int]]
    expected_version: int | None


@dataclass(frozen=True)
class MarkSubActivityPlanned:
    sub_activity_id: str
    expected_version: int | None = None


@dataclass(frozen=True)
class ReopenSubActivity:
    sub_activity_id: str
    reason: str
    expected_version: int | None = None


@dataclass(frozen=True)
class CreateProcurementPackage:
    sub_activity_id: str
    account_code: str
    name: str
    procurement_type: ProcurementType
    mode: ProcurementMode
    method: SelectionMethod | None
    value: int
    domestic_product: bool = False
    small_business: bool = False
    selection: MonthRange | None = None
    contract: MonthRange = field(default_factory=lambda: MonthRange(1, 12))
    use: MonthRange = field(default_factory=lambda: MonthRange(1, 12))


@dataclass(frozen=True)
class PackageScope:
    """Which packages a list, a detection or an export covers."""

    government_code: str
    fiscal_year: int
    agency_code: str = ""
    sub_activity_id: str = ""


def _planner(actor: Identity, government_code: str, agency_code: str) -> None:
    actor.require_role(Role.PLANNER, Role.ADMIN)
    actor.require_government(government_code)
    if not actor.has_role(Role.ADMIN) and actor.agencies and agency_code not in actor.agencies:
        raise PermissionDenied(f"not allowed for agency {agency_code}")


def _may_read(actor: Identity, government_code: str) -> bool:
    if actor.has_role(Role.SERVICE):
        return True
    try:
        actor.require_government(government_code)
    except PermissionDenied:
        return False
    return True


def _reader(actor: Identity, government_code: str) -> None:
    actor.require_role(*Role.ALL)
    if not _may_read(actor, government_code):
        raise PermissionDenied(f"not allowed for government {government_code}")


def _load(uow: UnitOfWork, sub_activity_id: str, actor: Identity) -> SubActivity:
    sub_activity = uow.sub_activities.get(sub_activity_id)
    # Another tenant's sub-activity is reported as missing, so ids do not leak across governments.
    if sub_activity is None or not _may_read(actor, sub_activity.government_code):
        raise NotFound(f"sub-activity {sub_activity_id} does not exist")
    return sub_activity


def record_edit(uow: UnitOfWork, government_code: str, agency_code: str, fiscal_year: int, actor: Identity) -> None:
    """Count an edit of an agency-year in its stage book; FailedPrecondition while the plan is locked.

    The count is an atomic increment of the book's version (edits never conflict with each
    other), and closing a stage compares that version, so a stage closed on a stale view is a
    Conflict and its snapshot cannot miss an edit committed meanwhile.
    """
    if uow.stages.count_edit(government_code, agency_code, fiscal_year):
        return
    book = uow.stages.get(government_code, agency_code, fiscal_year)
    if book is None:
        book = StageBook.start(government_code, agency_code, fiscal_year, actor=actor.sub, now=uow.clock.now())
        book.record_edit()
        if uow.stages.add(book):
            return
        book = uow.stages.get(government_code, agency_code, fiscal_year)
        assert book is not None
    book.require_open()
    # Another transaction stored the book between the first count and now (PostgreSQL runs
    # many writers at once): it is committed and open, so this count goes through.
    if uow.stages.count_edit(government_code, agency_code, fiscal_year):
        return
    raise Conflict(f"{book.label} changed while this edit was saved; try again")


def _after(page: Page, parts: int) -> tuple[str, ...]:
    after = page.after()
    if not after:
        return ()
    values = tuple(after.split(_SEP))
    if len(values) != parts:
        raise InvalidArgument.field("page.page_token", "is not a token of this list")
    return values


def create_sub_activity(cmd: CreateSubActivity, *, uow: UnitOfWork, actor: Identity) -> SubActivity:
    """Create a draft sub-activity of a known agency; its locations must be known governments."""
    _planner(actor, cmd.government_code, cmd.agency_code)
    with uow:
        if not uow.reference.agency_known(cmd.government_code, cmd.agency_code.strip()):
            raise FailedPrecondition(
                f"agency {cmd.agency_code} of government {cmd.government_code} is not known to planning yet"
            )
        violations: list[FieldViolation] = []
        locations = [
            Location.create(
                loc.government_code,
                loc.village_code,
                loc.latitude or None,
                loc.longitude or None,
                within=cmd.government_code,
                path=f"locations[{i}]",
                violations=violations,
            )
            for i, loc in enumerate(cmd.locations)
        ]
        for i, loc in enumerate(locations):
            checked = not any(v.field.startswith(f"locations[{i}]") for v in violations)
            if checked and not uow.reference.government_known(loc.government_code):
                violations.append(
                    FieldViolation(f"locations[{i}].government_code", f"government {loc.government_code} is not known")
                )
        if violations:
            raise InvalidArgument(violations)
        sub_activity = SubActivity.create(
            government_code=cmd.government_code,
            agency_code=cmd.agency_code,
            fiscal_year=cmd.fiscal_year,
            code=cmd.code,
            name=cmd.name,
            budget=cmd.budget,
            locations=locations,
            funding_sources=cmd.funding_sources,
            tags=cmd.tags,
            now=uow.clock.now(),
        )
        if uow.sub_activities.find(cmd.government_code, cmd.fiscal_year, sub_activity.agency_code, sub_activity.code):
            raise AlreadyExists(
                f"sub-activity {sub_activity.code} of agency {sub_activity.agency_code} "
                f"already exists for {cmd.fiscal_year}"
            )
        record_edit(uow, cmd.government_code, sub_activity.agency_code, cmd.fiscal_year, actor)
        uow.sub_activities.add(sub_activity)
        uow.commit()
        return sub_activity


def get_sub_activity(sub_activity_id: str, *, uow: UnitOfWork, actor: Identity) -> SubActivity:
    """One sub-activity, or NotFound."""
    actor.require_role(*Role.ALL)
    with uow:
        return _load(uow, sub_activity_id, actor)


def list_sub_activities(
    scope: PackageScope, page: Page, *, uow: UnitOfWork, actor: Identity
) -> tuple[list[SubActivity], str]:
    """Sub-activities of a government and year ordered by agency and code; with the next token."""
    _reader(actor, scope.government_code)
    with uow:
        items = uow.sub_activities.list(
            scope.government_code,
            scope.fiscal_year,
            agency_code=scope.agency_code,
            after=_after(page, 2),
            limit=page.limit() + 1,
        )
    return page.cut(items, lambda s: _SEP.join((s.agency_code, s.code)))


def list_approved_budgets(scope: PackageScope, *, uow: UnitOfWork, actor: Identity) -> tuple[dict[str, int], set[str]]:
    """The amounts budgeting approved for an agency-year (by code) as planning learned them, and the codes planned."""
    _reader(actor, scope.government_code)
    if not scope.agency_code.strip():
        raise InvalidArgument.field("agency_code", "is required")
    with uow:
        agency = scope.agency_code.strip()
        approved = uow.sub_activities.approved_amounts(scope.government_code, scope.fiscal_year, agency)
        planned = uow.sub_activities.codes(scope.government_code, scope.fiscal_year, agency)
    return approved, planned


def _change(uow: UnitOfWork, sub_activity: SubActivity, previous: int, actor: Identity) -> SubActivity:
    record_edit(uow, sub_activity.government_code, sub_activity.agency_code, sub_activity.fiscal_year, actor)
    uow.sub_activities.save(sub_activity, previous_version=previous)
    uow.commit()
    return sub_activity


def add_indicator(cmd: AddIndicator, *, uow: UnitOfWork, actor: Identity) -> SubActivity:
    """Add a performance indicator to a draft sub-activity."""
    indicator = Indicator.create(
        level=cmd.level, kind=cmd.kind, name=cmd.name, unit=cmd.unit, target=cmd.target, formula=cmd.formula
    )
    with uow:
        sub_activity = _load(uow, cmd.sub_activity_id, actor)
        _planner(actor, sub_activity.government_code, sub_activity.agency_code)
        previous = sub_activity.version
        sub_activity.add_indicator(indicator, expected_version=cmd.expected_version, now=uow.clock.now())
        return _change(uow, sub_activity, previous, actor)


def set_monthly_plan(cmd: SetMonthlyPlan, *, uow: UnitOfWork, actor: Identity) -> SubActivity:
    """Replace the monthly plan (F1) of a draft; a stale expected_version is a Conflict."""
    with uow:
        sub_activity = _load(uow, cmd.sub_activity_id, actor)
        _planner(actor, sub_activity.government_code, sub_activity.agency_code)
        if cmd.expected_version is None:
            raise InvalidArgument.field("expected_version", "is required: the F1 is replaced as a whole")
        plan = MonthlyPlan.create(cmd.months, budget=sub_activity.effective_budget)
        previous = sub_activity.version
        sub_activity.set_monthly_plan(plan, expected_version=cmd.expected_version, now=uow.clock.now())
        return _change(uow, sub_activity, previous, actor)


def suggest_plan(sub_activity_id: str, shape: CurveShape, *, uow: UnitOfWork, actor: Identity) -> MonthlyPlan:
    """A default F1 of `shape` for the sub-activity's budget; nothing is stored."""
    actor.require_role(*Role.ALL)
    with uow:
        sub_activity = _load(uow, sub_activity_id, actor)
    return suggest_monthly_plan(shape, sub_activity.effective_budget)


def mark_sub_activity_planned(cmd: MarkSubActivityPlanned, *, uow: UnitOfWork, actor: Identity) -> SubActivity:
    """Mark a draft ready; raises SubActivityPlanned."""
    with uow:
        sub_activity = _load(uow, cmd.sub_activity_id, actor)
        _planner(actor, sub_activity.government_code, sub_activity.agency_code)
        previous = sub_activity.version
        sub_activity.mark_planned(expected_version=cmd.expected_version, now=uow.clock.now())
        return _change(uow, sub_activity, previous, actor)


def reopen_sub_activity(cmd: ReopenSubActivity, *, uow: UnitOfWork, actor: Identity) -> SubActivity:
    """Return a planned sub-activity to draft for revision; after the final stage only in a perubahan."""
    with uow:
        sub_activity = _load(uow, cmd.sub_activity_id, actor)
        _planner(actor, sub_activity.government_code, sub_activity.agency_code)
        previous = sub_activity.version
        sub_activity.reopen(cmd.reason, expected_version=cmd.expected_version, now=uow.clock.now())
        return _change(uow, sub_activity, previous, actor)


def create_procurement_package(
    cmd: CreateProcurementPackage,
    *,
    uow: UnitOfWork,
    actor: Identity,
    thresholds: DirectProcurementThresholds = DEFAULT_THRESHOLDS,
) -> ProcurementPackage:
    """Add a package to the RUP of a planned sub-activity, within its budget; raises ProcurementPlanned.

    The sub-activity's version moves with every package, so two packages planned at once
    against the last of the budget cannot both be stored: the later save is a Conflict.
    """
    with uow:
        sub_activity = _load(uow, cmd.sub_activity_id, actor)
        _planner(actor, sub_activity.government_code, sub_activity.agency_code)
        previous = sub_activity.version
        package = ProcurementPackage.plan(
            sub_activity,
            account_code=cmd.account_code,
            name=cmd.name,
            procurement_type=cmd.procurement_type,
            mode=cmd.mode,
            method=cmd.method,
            value=cmd.value,
            domestic_product=cmd.domestic_product,
            small_business=cmd.small_business,
            selection=cmd.selection,
            contract=cmd.contract,
            use=cmd.use,
            thresholds=thresholds,
            now=uow.clock.now(),
        )
        record_edit(uow, sub_activity.government_code, sub_activity.agency_code, sub_activity.fiscal_year, actor)
        uow.sub_activities.save(sub_activity, previous_version=previous)
        uow.packages.add(package)
        uow.commit()
        return package


def list_procurement_packages(
    scope: PackageScope, page: Page, *, uow: UnitOfWork, actor: Identity
) -> tuple[list[ProcurementPackage], str]:
    """Packages ordered by agency, sub-activity, account and id; with the next token."""
    _reader(actor, scope.government_code)
    with uow:
        items = uow.packages.list(
            scope.government_code,
            scope.fiscal_year,
            agency_code=scope.agency_code,
            sub_activity_id=scope.sub_activity_id,
            after=_after(page, 4),
            limit=page.limit() + 1,
        )
    return page.cut(items, lambda p: _SEP.join((p.agency_code, p.sub_activity_code, p.account_code, p.id)))


def packages_for_export(scope: PackageScope, *, uow: UnitOfWork, actor: Identity) -> list[ProcurementPackage]:
    """Every package in `scope`, in list order (for the detector and the SIRUP export)."""
    _reader(actor, scope.government_code)
    with uow:
        return uow.packages.list(
            scope.government_code,
            scope.fiscal_year,
            agency_code=scope.agency_code,
            sub_activity_id=scope.sub_activity_id,
            after=(),
            limit=None,
        )


def detect_splits(
    scope: PackageScope,
    *,
    uow: UnitOfWork,
    actor: Identity,
    thresholds: DirectProcurementThresholds = DEFAULT_THRESHOLDS,
) -> list[SplitFinding]:
    """Suspected split packages (pemecahan paket) in `scope`."""
    return detect_split_packages(packages_for_export(scope, uow=uow, actor=actor), thresholds)
