"""Bulk import of an agency-year's sub-activities: the same domain rules as the single calls, one transaction.

Every sub-activity is built with the aggregate's own methods (create, add_indicator,
set_monthly_plan, mark_planned, and ProcurementPackage.plan for its packages), so an import
can store nothing a planner could not have stored call by call. Every mistake of every plan
is reported at once, named by its path (`plans[3].months[11].physical_percent`), and then
nothing is stored.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from grms_kit.errors import DomainError, FailedPrecondition, FieldViolation, InvalidArgument
from grms_kit.identity import Identity

from grms_planning.domain.model import (
    Indicator,
    IndicatorFormula,
    IndicatorKind,
    IndicatorLevel,
    Location,
    MonthlyPlan,
    SubActivity,
)
from grms_planning.domain.procurement import DEFAULT_THRESHOLDS, DirectProcurementThresholds, ProcurementPackage
from grms_planning.service_layer.handlers import CreateProcurementPackage, LocationInput, _planner, record_edit
from grms_planning.service_layer.ports import UnitOfWork

__all__ = [
    "MAX_PLANS",
    "ImportResult",
    "ImportSubActivities",
    "IndicatorInput",
    "SubActivityPlan",
    "import_sub_activities",
]

MAX_PLANS = 1_000


@dataclass(frozen=True)
class IndicatorInput:
    level: IndicatorLevel
    kind: IndicatorKind
    name: str
    unit: str
    target: str
    formula: IndicatorFormula


@dataclass(frozen=True)
class SubActivityPlan:
    code: str
    name: str
    budget: int
    locations: Sequence[LocationInput] = ()
    funding_sources: Sequence[str] = ()
    tags: Sequence[str] = ()
    indicators: Sequence[IndicatorInput] = ()
    months: Sequence[tuple[str, int]] = ()
    mark_planned: bool = False
    # sub_activity_id of each is ignored: the package belongs to this plan's sub-activity.
    packages: Sequence[CreateProcurementPackage] = field(default_factory=tuple)


@dataclass(frozen=True)
class ImportSubActivities:
    government_code: str
    agency_code: str
    fiscal_year: int
    plans: Sequence[SubActivityPlan]


@dataclass(frozen=True)
class ImportResult:
    sub_activities: int
    monthly_rows: int
    packages: int


def _prefixed(prefix: str, error: DomainError) -> list[FieldViolation]:
    if isinstance(error, InvalidArgument):
        return [FieldViolation(f"{prefix}.{v.field}" if v.field else prefix, v.description) for v in error.violations]
    return [FieldViolation(prefix, error.message)]


def _build(
    cmd: ImportSubActivities,
    i: int,
    plan: SubActivityPlan,
    uow: UnitOfWork,
    thresholds: DirectProcurementThresholds,
    violations: list[FieldViolation],
    approved: dict[str, int],
) -> tuple[SubActivity, list[ProcurementPackage]] | None:
    """The planned aggregate and its packages, or None with the plan's violations appended."""
    prefix = f"plans[{i}]"
    now = uow.clock.now()
    local: list[FieldViolation] = []
    locations = [
        Location.create(
            loc.government_code,
            loc.village_code,
            loc.latitude or None,
            loc.longitude or None,
            within=cmd.government_code,
            path=f"{prefix}.locations[{j}]",
            violations=local,
        )
        for j, loc in enumerate(plan.locations)
    ]
    for j, loc in enumerate(locations):
        if not any(
            v.field.startswith(f"{prefix}.locations[{j}]") for v in local
        ) and not uow.reference.government_known(loc.government_code):
            local.append(FieldViolation(f"{prefix}.locations[{j}].government_code", "is not a known government"))
    if local:
        violations.extend(local)
        return None
    try:
        s = SubActivity.create(
            government_code=cmd.government_code,
            agency_code=cmd.agency_code,
            fiscal_year=cmd.fiscal_year,
            code=plan.code,
            name=plan.name,
            budget=plan.budget,
            locations=locations,
            funding_sources=plan.funding_sources,
            tags=plan.tags,
            now=now,
        )
    except DomainError as error:
        violations.extend(_prefixed(prefix, error))
        return None
    # Once budgeting approved an amount for this code, the F1 and the packages answer to it,
    # as they do for a sub-activity created call by call.
    s.approved_budget = approved.get(s.code)
    steps_failed = False
    for j, ind in enumerate(plan.indicators):
        try:
            indicator = Indicator.create(
                level=ind.level,
                kind=ind.kind,
                name=ind.name,
                unit=ind.unit,
                target=ind.target,
                formula=ind.formula,
                path=f"{prefix}.indicators[{j}]",
            )
            s.add_indicator(indicator, expected_version=None, now=now)
        except InvalidArgument as error:
            # Indicator.create names its fields with the full path already; add_indicator does not.
            violations.extend(
                v if v.field.startswith(prefix) else FieldViolation(f"{prefix}.indicators[{j}]", v.description)
                for v in error.violations
            )
            steps_failed = True
    if plan.months:
        try:
            budget = s.effective_budget
            s.set_monthly_plan(MonthlyPlan.create(plan.months, budget=budget), expected_version=None, now=now)
        except DomainError as error:
            violations.extend(_prefixed(prefix, error))
            steps_failed = True
    if steps_failed:
        return None
    if plan.mark_planned:
        try:
            s.mark_planned(expected_version=None, now=now)
        except DomainError as error:
            violations.extend(_prefixed(prefix, error))
            return None
    packages: list[ProcurementPackage] = []
    for j, p in enumerate(plan.packages):
        try:
            packages.append(
                ProcurementPackage.plan(
                    s,
                    account_code=p.account_code,
                    name=p.name,
                    procurement_type=p.procurement_type,
                    mode=p.mode,
                    method=p.method,
                    value=p.value,
                    domestic_product=p.domestic_product,
                    small_business=p.small_business,
                    selection=p.selection,
                    contract=p.contract,
                    use=p.use,
                    thresholds=thresholds,
                    now=now,
                )
            )
        except DomainError as error:
            violations.extend(_prefixed(f"{prefix}.packages[{j}]", error))
    return s, packages


def import_sub_activities(
    cmd: ImportSubActivities,
    *,
    uow: UnitOfWork,
    actor: Identity,
    thresholds: DirectProcurementThresholds = DEFAULT_THRESHOLDS,
) -> ImportResult:
    """Store every plan of `cmd` or none; raises SubActivityPlanned and ProcurementPlanned as the single calls do."""
    _planner(actor, cmd.government_code, cmd.agency_code)
    if not cmd.plans:
        raise InvalidArgument.field("plans", "lists no sub-activity")
    if len(cmd.plans) > MAX_PLANS:
        raise InvalidArgument.field("plans", f"at most {MAX_PLANS:,} per import, not {len(cmd.plans):,}")
    with uow:
        if not uow.reference.agency_known(cmd.government_code, cmd.agency_code):
            raise FailedPrecondition(
                f"agency {cmd.agency_code} of government {cmd.government_code} is not known to planning yet"
            )
        existing = uow.sub_activities.codes(cmd.government_code, cmd.fiscal_year, cmd.agency_code)
        approved = uow.sub_activities.approved_amounts(cmd.government_code, cmd.fiscal_year, cmd.agency_code)
        violations: list[FieldViolation] = []
        built: list[tuple[SubActivity, list[ProcurementPackage]]] = []
        seen: set[str] = set()
        for i, plan in enumerate(cmd.plans):
            code = plan.code.strip()
            if code in existing:
                violations.append(FieldViolation(f"plans[{i}].code", f"{code} already exists for {cmd.fiscal_year}"))
                continue
            if code in seen:
                violations.append(FieldViolation(f"plans[{i}].code", f"{code} is listed twice"))
                continue
            seen.add(code)
            result = _build(cmd, i, plan, uow, thresholds, violations, approved)
            if result is not None:
                built.append(result)
        if violations:
            raise InvalidArgument(violations)
        record_edit(uow, cmd.government_code, cmd.agency_code, cmd.fiscal_year, actor)
        subs = [s for s, _ in built]
        packages = [p for _, ps in built for p in ps]
        uow.sub_activities.add_many(subs)
        uow.packages.add_many(packages)
        uow.commit()
    months = sum(len(s.monthly_plan.months) for s in subs if s.monthly_plan is not None)
    return ImportResult(len(subs), months, len(packages))
