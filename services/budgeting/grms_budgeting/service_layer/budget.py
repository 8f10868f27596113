"""Budgeting use cases for e-budgeting: reference codes, the price list, ceilings and budget plans.

Who may do what (checked here, again, whatever the gateway did):
codes — admin; standard prices and ceilings — tapd or admin of the government; plan lines —
planner, agency_head or admin (an officer scoped to agencies only for those); submit — the
agency_head of that agency, or admin; verify and return — tapd; approve — tapd or admin.
Reading plans needs any role in the plan's government.

Listing plans needs any role in the government; an officer scoped to agencies lists only those.
Revising an approved plan (pergeseran / perubahan) — tapd or admin.

"Every sub-activity has ≥ 1 output indicator" is checked at submission against planning's
SubActivityPlanned events, which the `budgeting-planning-indicators` consumer stores.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field

from grms_kit.bulk import bulk_work
from grms_kit.errors import (
    AlreadyExists,
    FailedPrecondition,
    FieldViolation,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    Unauthenticated,
)
from grms_kit.identity import Identity, Role
from grms_kit.paging import Page

from grms_budgeting.domain.audit import AuditEntry, verify_chain
from grms_budgeting.domain.budget import (
    BudgetLine,
    BudgetPlan,
    Ceiling,
    LineDiff,
    LineInput,
    PlanListing,
    PlanState,
    PlanVersion,
    PriceGroup,
    RevisionKind,
    StandardPrice,
    diff_snapshots,
    line_violations,
)
from grms_budgeting.domain.codes import (
    AccountCode,
    NomenclatureCode,
    NomenclatureLevel,
    NomenclatureRow,
    check_fiscal_year,
    normalize_account_code,
    parent_account_code,
    parse_nomenclature_code,
    validate_account_batch,
    validate_nomenclature_batch,
)
from grms_budgeting.domain.indicators import OutputIndicator, require_output_indicator
from grms_budgeting.domain.model import GovernmentLevel
from grms_budgeting.domain.rka_sheet import sheet_path
from grms_budgeting.domain.treasury import (
    Beneficiary,
    CashPlan,
    PaymentKind,
    PaymentRequest,
    SpendingAllotment,
    check_allotments,
    cumulative,
    document_number,
)
from grms_budgeting.service_layer import treasury
from grms_budgeting.service_layer.ports import UnitOfWork

__all__ = [
    "AddBudgetLine",
    "ApprovedPlanInput",
    "CreateBudgetPlan",
    "CreateStandardPrice",
    "ImportBudgetLines",
    "LoadApprovedPlans",
    "PlanTransition",
    "RemoveBudgetLine",
    "ReturnBudgetPlan",
    "ReviseBudgetPlan",
    "SetCeiling",
    "UpdateBudgetLine",
    "add_budget_line",
    "approve_budget_plan",
    "create_budget_plan",
    "create_standard_price",
    "diff_budget_plan_versions",
    "get_budget_plan",
    "get_budget_plan_outputs",
    "import_account_codes",
    "import_budget_lines",
    "import_nomenclature",
    "list_audit_entries",
    "list_budget_plan_versions",
    "list_budget_plans",
    "load_approved_plans",
    "remove_budget_line",
    "return_budget_plan",
    "revise_budget_plan",
    "search_standard_prices",
    "set_ceiling",
    "submit_budget_plan",
    "update_budget_line",
    "verify_budget_plan",
]


# ---- reference codes -------------------------------------------------------------------------


def import_nomenclature(
    fiscal_year: int, rows: list[NomenclatureRow], *, uow: UnitOfWork, actor: Identity
) -> list[NomenclatureCode]:
    """Import nomenclature codes of a fiscal year, all or nothing."""
    actor.require_role(Role.ADMIN)
    check_fiscal_year(fiscal_year)
    with uow:
        wanted: set[str] = set()
        for row in rows:
            wanted.add(row.code.strip())
            try:
                wanted.add(parse_nomenclature_code(row.code)[1])
            except ValueError:
                pass  # reported by the batch check with its row
        codes = validate_nomenclature_batch(fiscal_year, rows, existing=uow.nomenclature.stored(fiscal_year, wanted))
        uow.nomenclature.add_many(codes)
        uow.commit()
        return codes


def import_account_codes(
    fiscal_year: int, rows: list[tuple[str, str]], *, uow: UnitOfWork, actor: Identity
) -> list[AccountCode]:
    """Import account codes (code, name) of a fiscal year, all or nothing."""
    actor.require_role(Role.ADMIN)
    check_fiscal_year(fiscal_year)
    with uow:
        wanted: set[str] = set()
        for raw, _ in rows:
            try:
                canonical, _ = normalize_account_code(raw)
            except ValueError:
                continue  # reported by the batch check with its row
            wanted.update({canonical, parent_account_code(canonical)})
        stored = set(uow.accounts.get_many(fiscal_year, wanted - {""}))
        codes = validate_account_batch(fiscal_year, rows, existing=stored)
        uow.accounts.add_many(codes)
        uow.commit()
        return codes


# ---- standard prices ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CreateStandardPrice:
    government_code: str
    fiscal_year: int
    group: PriceGroup
    code: str
    name: str
    specification: str
    unit: str
    price: int
    account_codes: list[str] = field(default_factory=list)


def _require_government(uow: UnitOfWork, code: str) -> None:
    if uow.governments.get(code) is None:
        raise NotFound(f"government {code} is not registered")


def create_standard_price(cmd: CreateStandardPrice, *, uow: UnitOfWork, actor: Identity) -> StandardPrice:
    """Add an item to a government's standard price list of a fiscal year."""
    actor.require_role(Role.TAPD, Role.ADMIN)
    actor.require_government(cmd.government_code)
    with uow:
        _require_government(uow, cmd.government_code)
        wanted: set[str] = set()
        for raw in cmd.account_codes:
            try:
                wanted.add(normalize_account_code(raw)[0])
            except ValueError:
                continue  # reported by StandardPrice.create with its index
        known = uow.accounts.get_many(cmd.fiscal_year, wanted)
        price = StandardPrice.create(
            cmd.government_code,
            cmd.fiscal_year,
            cmd.group,
            cmd.code,
            cmd.name,
            cmd.specification,
            cmd.unit,
            cmd.price,
            cmd.account_codes,
            known_accounts=known,
        )
        if uow.prices.get_many(price.government_code, price.fiscal_year, {price.code}):
            raise AlreadyExists(
                f"standard price {price.code} exists for {price.government_code} in {price.fiscal_year}"
            )
        uow.prices.add(price)
        uow.commit()
        return price


def search_standard_prices(
    government_code: str, fiscal_year: int, query: str, account_code: str, page: Page, *, uow: UnitOfWork
) -> tuple[list[StandardPrice], str]:
    """Items whose code, name or specification contain every word of `query`, by code; with the next token."""
    account = ""
    if account_code.strip():
        try:
            account, _ = normalize_account_code(account_code)
        except ValueError as exc:
            raise InvalidArgument.field("account_code", str(exc)) from None
    words = [w.lower() for w in query.split()][:8]
    with uow:
        items = uow.prices.search(
            government_code, fiscal_year, words=words, account_code=account, after=page.after(), limit=page.limit() + 1
        )
    return page.cut(items, lambda p: p.code)


# ---- ceilings ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SetCeiling:
    government_code: str
    fiscal_year: int
    agency_code: str
    sub_activity_code: str
    amount: int
    locked: bool


def set_ceiling(cmd: SetCeiling, *, uow: UnitOfWork, actor: Identity) -> Ceiling:
    """Create or change the ceiling of an agency ("" sub-activity) or of one of its sub-activities."""
    actor.require_role(Role.TAPD, Role.ADMIN)
    actor.require_government(cmd.government_code)
    check_fiscal_year(cmd.fiscal_year)
    sub = cmd.sub_activity_code.strip()
    with uow:
        if uow.agencies.get(cmd.government_code, cmd.agency_code) is None:
            raise NotFound(f"agency {cmd.agency_code} of government {cmd.government_code} does not exist")
        if sub:
            _sub_activity(uow, cmd.government_code, cmd.fiscal_year, sub)
        ceiling = uow.ceilings.get(cmd.government_code, cmd.fiscal_year, cmd.agency_code, sub)
        now = uow.clock.now()
        if ceiling is None:
            ceiling = Ceiling.create(
                cmd.government_code, cmd.fiscal_year, cmd.agency_code, sub, cmd.amount, cmd.locked, now=now
            )
            uow.ceilings.add(ceiling)
        else:
            previous = ceiling.version
            if not ceiling.change(cmd.amount, cmd.locked, now=now):
                return ceiling
            uow.ceilings.save(ceiling, previous_version=previous)
        uow.commit()
        return ceiling


def _sub_activity(uow: UnitOfWork, government_code: str, fiscal_year: int, code: str) -> NomenclatureCode:
    node = uow.nomenclature.get(fiscal_year, code)
    if node is None:
        raise InvalidArgument.field("sub_activity_code", f"{code} is not in the nomenclature of {fiscal_year}")
    if node.level is not NomenclatureLevel.SUB_ACTIVITY:
        raise InvalidArgument.field(
            "sub_activity_code", f"{code} is a {node.level.value.replace('_', '-')}; only sub-activities carry budgets"
        )
    government = uow.governments.get(government_code)
    if government is None:
        raise NotFound(f"government {government_code} is not registered")
    allowed = node.for_province if government.level is GovernmentLevel.PROVINCE else node.for_regency_city
    if not allowed:
        raise InvalidArgument.field("sub_activity_code", f"{code} is not for a {government.level.value} government")
    return node


# ---- budget plans -------------------------------------------------------------------------------


def _agency_officer(actor: Identity, government_code: str, agency_code: str) -> None:
    actor.require_role(Role.PLANNER, Role.AGENCY_HEAD, Role.ADMIN)
    actor.require_government(government_code)
    if not actor.has_role(Role.ADMIN) and actor.agencies and agency_code not in actor.agencies:
        raise PermissionDenied(f"not allowed for agency {agency_code}")


def _reader(actor: Identity, plan: BudgetPlan) -> None:
    if not actor.authenticated:
        raise Unauthenticated("login required")
    actor.require_government(plan.government_code)


def _load(uow: UnitOfWork, plan_id: str) -> BudgetPlan:
    plan = uow.plans.get(plan_id)
    if plan is None:
        raise NotFound(f"budget plan {plan_id} does not exist")
    return plan


@dataclass(frozen=True)
class CreateBudgetPlan:
    government_code: str
    agency_code: str
    sub_activity_code: str
    fiscal_year: int


def create_budget_plan(cmd: CreateBudgetPlan, *, uow: UnitOfWork, actor: Identity, request_id: str) -> BudgetPlan:
    """Start an empty draft plan of an agency for one sub-activity and fiscal year."""
    _agency_officer(actor, cmd.government_code, cmd.agency_code)
    check_fiscal_year(cmd.fiscal_year)
    with uow:
        if uow.agencies.get(cmd.government_code, cmd.agency_code) is None:
            raise NotFound(f"agency {cmd.agency_code} of government {cmd.government_code} does not exist")
        node = _sub_activity(uow, cmd.government_code, cmd.fiscal_year, cmd.sub_activity_code.strip())
        existing = uow.plans.find(cmd.government_code, cmd.agency_code, node.code, cmd.fiscal_year)
        if existing is not None:
            raise AlreadyExists(
                f"agency {cmd.agency_code} already has plan {existing} for {node.code} in {cmd.fiscal_year}"
            )
        plan = BudgetPlan.create(
            str(uuid.uuid4()),
            cmd.government_code,
            cmd.agency_code,
            node.code,
            cmd.fiscal_year,
            actor=actor.sub,
            now=uow.clock.now(),
        )
        uow.plans.add(plan, request_id=request_id)
        uow.commit()
        return plan


def _references(
    uow: UnitOfWork, plan: BudgetPlan, inputs: list[LineInput]
) -> tuple[dict[str, AccountCode], dict[str, StandardPrice]]:
    accounts: set[str] = set()
    items: set[str] = set()
    for given in inputs:
        try:
            accounts.add(normalize_account_code(given.account_code)[0])
        except ValueError:
            pass  # reported by the line check
        if given.standard_item_code.strip():
            items.add(given.standard_item_code.strip())
    return (
        uow.accounts.get_many(plan.fiscal_year, accounts),
        uow.prices.get_many(plan.government_code, plan.fiscal_year, items),
    )


def _unlocked(uow: UnitOfWork, plan: BudgetPlan) -> None:
    ceiling = uow.ceilings.get(plan.government_code, plan.fiscal_year, plan.agency_code, plan.sub_activity_code)
    if ceiling is not None and ceiling.locked:
        raise FailedPrecondition(f"ceiling {ceiling.label()} is locked; the lines of plan {plan.id} cannot change")


def _keeps_commitments(uow: UnitOfWork, plan: BudgetPlan, number: int, new_amount: int) -> None:
    """A revised DPA line may not fall below what its SPPs already committed (paid or not)."""
    if not plan.revision:
        return  # never approved, so nothing was ever committed on it
    line = uow.treasury.dpa_line(plan.id, number)
    committed, disbursed = (line.committed, line.disbursed) if line else (0, 0)
    if new_amount < committed:
        what = "removed" if new_amount == 0 else f"lowered to Rp{new_amount:,}"
        raise FailedPrecondition(
            f"line {number} of plan {plan.id} cannot be {what}: SPPs have committed Rp{committed:,} on it "
            f"(Rp{disbursed:,} disbursed)"
        )


@dataclass(frozen=True)
class AddBudgetLine:
    plan_id: str
    expected_version: int | None
    line: LineInput


@dataclass(frozen=True)
class UpdateBudgetLine:
    plan_id: str
    expected_version: int | None
    line_number: int
    line: LineInput


@dataclass(frozen=True)
class RemoveBudgetLine:
    plan_id: str
    expected_version: int | None
    line_number: int


def add_budget_line(cmd: AddBudgetLine, *, uow: UnitOfWork, actor: Identity, request_id: str) -> BudgetPlan:
    """Append a line checked against the year's accounts and the government's price list."""
    with uow:
        plan = _load(uow, cmd.plan_id)
        _agency_officer(actor, plan.government_code, plan.agency_code)
        _unlocked(uow, plan)
        accounts, prices = _references(uow, plan, [cmd.line])
        line = BudgetLine.check(plan.next_line_number, cmd.line, accounts=accounts, prices=prices)
        previous = plan.version
        plan.add_line(line, expected_version=cmd.expected_version, actor=actor.sub, now=uow.clock.now())
        uow.plans.save(plan, previous_version=previous, request_id=request_id)
        uow.commit()
        return plan


def update_budget_line(cmd: UpdateBudgetLine, *, uow: UnitOfWork, actor: Identity, request_id: str) -> BudgetPlan:
    """Replace one line of a draft or returned plan."""
    with uow:
        plan = _load(uow, cmd.plan_id)
        _agency_officer(actor, plan.government_code, plan.agency_code)
        _unlocked(uow, plan)
        accounts, prices = _references(uow, plan, [cmd.line])
        line = BudgetLine.check(cmd.line_number, cmd.line, accounts=accounts, prices=prices)
        if cmd.line_number in plan.lines:
            _keeps_commitments(uow, plan, cmd.line_number, line.amount)
        previous = plan.version
        if plan.update_line(line, expected_version=cmd.expected_version, actor=actor.sub, now=uow.clock.now()):
            uow.plans.save(plan, previous_version=previous, request_id=request_id)
            uow.commit()
        return plan


def remove_budget_line(cmd: RemoveBudgetLine, *, uow: UnitOfWork, actor: Identity, request_id: str) -> BudgetPlan:
    """Remove one line of a draft or returned plan."""
    with uow:
        plan = _load(uow, cmd.plan_id)
        _agency_officer(actor, plan.government_code, plan.agency_code)
        _unlocked(uow, plan)
        if cmd.line_number in plan.lines:
            _keeps_commitments(uow, plan, cmd.line_number, 0)
        previous = plan.version
        plan.remove_line(cmd.line_number, expected_version=cmd.expected_version, actor=actor.sub, now=uow.clock.now())
        uow.plans.save(plan, previous_version=previous, request_id=request_id)
        uow.commit()
        return plan


@dataclass(frozen=True)
class ImportBudgetLines:
    plan_id: str
    expected_version: int | None
    rows: list[tuple[int, LineInput]]  # (row of the sheet, line)
    letters: dict[str, str]  # field of LineInput -> column letter of the sheet


def import_budget_lines(
    cmd: ImportBudgetLines, *, uow: UnitOfWork, actor: Identity, request_id: str
) -> tuple[BudgetPlan, int]:
    """Append the rows of an RKA sheet to a draft or returned plan: all of them, or none.

    Every rule a row breaks is reported as `rows[<row>].<column letter>`.
    """
    if not cmd.rows:
        raise InvalidArgument.field("workbook", "has no budget lines under its header row")
    with bulk_work(), uow:
        plan = _load(uow, cmd.plan_id)
        _agency_officer(actor, plan.government_code, plan.agency_code)
        _unlocked(uow, plan)
        accounts, prices = _references(uow, plan, [given for _, given in cmd.rows])
        violations: list[FieldViolation] = []
        for row, given in cmd.rows:
            for v in line_violations(row, given, accounts=accounts, prices=prices):
                violations.append(FieldViolation(sheet_path(row, v.field, cmd.letters), v.description))
        if violations:
            raise InvalidArgument(violations)
        lines = [BudgetLine.checked(plan.next_line_number + i, given) for i, (_, given) in enumerate(cmd.rows)]
        previous = plan.version
        plan.add_lines(lines, expected_version=cmd.expected_version, actor=actor.sub, now=uow.clock.now())
        uow.plans.save(plan, previous_version=previous, request_id=request_id)
        uow.commit()
        return plan, len(lines)


def _check_lines_against_current_prices(uow: UnitOfWork, plan: BudgetPlan) -> None:
    inputs = [
        LineInput(
            line.account_code,
            line.standard_item_code,
            line.specification,
            line.volume,
            line.unit,
            line.unit_price,
            line.funding_source,
            line.tags,
        )
        for line in plan.lines.values()
    ]
    accounts, prices = _references(uow, plan, inputs)
    violations: list[FieldViolation] = []
    for number, given in zip(plan.lines, inputs, strict=True):
        violations.extend(line_violations(number, given, accounts=accounts, prices=prices))
    if violations:
        raise InvalidArgument(violations)


def _check_ceilings(uow: UnitOfWork, plan: BudgetPlan) -> None:
    total = plan.total
    sub = uow.ceilings.get(plan.government_code, plan.fiscal_year, plan.agency_code, plan.sub_activity_code)
    if sub is None:
        raise FailedPrecondition(
            f"no ceiling is set for sub-activity {plan.sub_activity_code} of agency {plan.agency_code}"
        )
    if total > sub.amount:
        raise FailedPrecondition(
            f"plan {plan.id} totals Rp{total:,}, above the sub-activity ceiling of Rp{sub.amount:,} "
            f"by Rp{total - sub.amount:,}"
        )
    agency = uow.ceilings.get(plan.government_code, plan.fiscal_year, plan.agency_code, "")
    if agency is None:
        raise FailedPrecondition(f"no ceiling is set for agency {plan.agency_code} in {plan.fiscal_year}")
    together = total + uow.plans.agency_total(
        plan.government_code, plan.fiscal_year, plan.agency_code, excluding=plan.id
    )
    if together > agency.amount:
        raise FailedPrecondition(
            f"the plans of agency {plan.agency_code} together total Rp{together:,}, above its ceiling of "
            f"Rp{agency.amount:,} by Rp{together - agency.amount:,}"
        )


@dataclass(frozen=True)
class PlanTransition:
    plan_id: str
    expected_version: int | None = None


def submit_budget_plan(cmd: PlanTransition, *, uow: UnitOfWork, actor: Identity, request_id: str) -> BudgetPlan:
    """The head of the agency (or an admin) submits the plan to TAPD, within its ceilings and prices."""
    actor.require_role(Role.AGENCY_HEAD, Role.ADMIN)
    with uow:
        plan = _load(uow, cmd.plan_id)
        actor.require_government(plan.government_code)
        if not actor.has_role(Role.ADMIN) and plan.agency_code not in actor.agencies:
            raise PermissionDenied(f"only the head of agency {plan.agency_code} may submit its plans")
        previous = plan.version
        plan.submit(expected_version=cmd.expected_version, actor=actor.sub, now=uow.clock.now())
        _check_lines_against_current_prices(uow, plan)
        _check_ceilings(uow, plan)
        require_output_indicator(
            plan.sub_activity_code,
            plan.agency_code,
            plan.fiscal_year,
            uow.planned.get(plan.government_code, plan.fiscal_year, plan.agency_code, plan.sub_activity_code),
        )
        uow.plans.save(plan, previous_version=previous, request_id=request_id)
        uow.commit()
        return plan


def verify_budget_plan(cmd: PlanTransition, *, uow: UnitOfWork, actor: Identity, request_id: str) -> BudgetPlan:
    """TAPD found a submitted plan in order."""
    actor.require_role(Role.TAPD)
    with uow:
        plan = _load(uow, cmd.plan_id)
        actor.require_government(plan.government_code)
        previous = plan.version
        plan.verify(expected_version=cmd.expected_version, actor=actor.sub, now=uow.clock.now())
        uow.plans.save(plan, previous_version=previous, request_id=request_id)
        uow.commit()
        return plan


@dataclass(frozen=True)
class ReturnBudgetPlan:
    plan_id: str
    note: str
    line_notes: dict[int, str]
    expected_version: int | None = None


def return_budget_plan(cmd: ReturnBudgetPlan, *, uow: UnitOfWork, actor: Identity, request_id: str) -> BudgetPlan:
    """TAPD sends a submitted or verified plan back to its agency with notes."""
    actor.require_role(Role.TAPD)
    with uow:
        plan = _load(uow, cmd.plan_id)
        actor.require_government(plan.government_code)
        previous = plan.version
        plan.return_for_rework(
            cmd.note, cmd.line_notes, expected_version=cmd.expected_version, actor=actor.sub, now=uow.clock.now()
        )
        uow.plans.save(plan, previous_version=previous, request_id=request_id)
        uow.commit()
        return plan


def approve_budget_plan(cmd: PlanTransition, *, uow: UnitOfWork, actor: Identity, request_id: str) -> BudgetPlan:
    """TAPD (or an admin) approves a verified plan, still within its ceilings: it becomes the DPA."""
    actor.require_role(Role.TAPD, Role.ADMIN)
    with uow:
        plan = _load(uow, cmd.plan_id)
        actor.require_government(plan.government_code)
        previous = plan.version
        plan.approve(expected_version=cmd.expected_version, actor=actor.sub, now=uow.clock.now())
        _check_ceilings(uow, plan)  # a ceiling may have been lowered since the plan was submitted
        if plan.revision:
            # SPPs filed while the revision was drafted count too; the cash plan must follow the lines.
            treasury.adopt_revision(uow, plan)
        else:
            uow.treasury.adopt_dpa(plan.id)
        uow.plans.save(plan, previous_version=previous, request_id=request_id)
        uow.commit()
        return plan


@dataclass(frozen=True)
class ApprovedPlanInput:
    agency_code: str
    sub_activity_code: str
    lines: list[LineInput]
    cash_plan: list[int]  # twelve months, or empty
    disbursed_months: list[int] = field(default_factory=list)  # twelve months of SP2Ds, or empty


@dataclass(frozen=True)
class LoadApprovedPlans:
    government_code: str
    fiscal_year: int
    plans: list[ApprovedPlanInput]


MAX_LOADED_PLANS = 500


def load_approved_plans(
    cmd: LoadApprovedPlans, *, uow: UnitOfWork, actor: Identity, request_id: str
) -> tuple[int, int, int]:
    """Load DPAs approved elsewhere, all or nothing: (loaded, skipped because they exist, lines).

    Each line passes the same checks as a typed one and each plan its ceilings; the plan then
    runs submit, verify and approve in memory, so it has the snapshots, audit records and
    BudgetPlanApproved event of any approved plan. The output-indicator rule is not applied:
    the plan was approved before it came here (its indicators live in planning's own copy).
    """
    actor.require_role(Role.ADMIN)
    actor.require_government(cmd.government_code)
    check_fiscal_year(cmd.fiscal_year)
    if len(cmd.plans) > MAX_LOADED_PLANS:
        raise InvalidArgument.field("plans", f"at most {MAX_LOADED_PLANS} plans per call")
    loaded = skipped = lines = 0
    with uow:
        for i, given in enumerate(cmd.plans):
            path = f"plans[{i}]"
            if uow.agencies.get(cmd.government_code, given.agency_code) is None:
                raise InvalidArgument.field(f"{path}.agency_code", f"agency {given.agency_code} does not exist")
            try:
                node = _sub_activity(uow, cmd.government_code, cmd.fiscal_year, given.sub_activity_code.strip())
            except InvalidArgument as exc:
                named = [FieldViolation(f"{path}.{v.field}", v.description) for v in exc.violations]
                raise InvalidArgument(named) from None
            if uow.plans.find(cmd.government_code, given.agency_code, node.code, cmd.fiscal_year) is not None:
                skipped += 1
                continue
            now = uow.clock.now()
            plan = BudgetPlan.create(
                str(uuid.uuid4()), cmd.government_code, given.agency_code, node.code, cmd.fiscal_year,
                actor=actor.sub, now=now,
            )  # fmt: skip
            accounts, prices = _references(uow, plan, given.lines)
            violations: list[FieldViolation] = []
            for n, line in enumerate(given.lines, start=1):
                violations.extend(
                    FieldViolation(f"{path}.{v.field}", v.description)
                    for v in line_violations(n, line, accounts=accounts, prices=prices)
                )
            if violations:
                raise InvalidArgument(violations)
            checked = [BudgetLine.checked(n, g) for n, g in enumerate(given.lines, 1)]
            plan.add_lines(checked, expected_version=None, actor=actor.sub, now=now)
            _check_ceilings(uow, plan)  # the plans this call loaded before are in the transaction already
            plan.submit(expected_version=None, actor=actor.sub, now=now)
            plan.verify(expected_version=None, actor=actor.sub, now=now)
            plan.approve(expected_version=None, actor=actor.sub, now=now)
            uow.plans.add(plan, request_id=request_id)
            uow.treasury.adopt_dpa(plan.id)
            if given.cash_plan:
                try:
                    months = CashPlan.create(plan.id, 0, given.cash_plan, amount=plan.total)
                except InvalidArgument as exc:
                    raise InvalidArgument(
                        [FieldViolation(f"{path}.cash_plan.{v.field}", v.description) for v in exc.violations]
                    ) from None
                uow.treasury.set_cash_plan(months, now=now)
                if given.disbursed_months:
                    _realise(uow, plan, months, given.disbursed_months, f"{path}.disbursed_months", actor)
            elif given.disbursed_months:
                raise InvalidArgument.field(f"{path}.cash_plan", "a realised plan needs its cash plan")
            loaded += 1
            lines += len(checked)
        uow.commit()
    return loaded, skipped, lines


def _demo_payee(plan: BudgetPlan, line: BudgetLine) -> tuple[PaymentKind, Beneficiary, str]:
    """The kind of SPP-LS for a line's account, its payee and (for goods and services) its contract."""
    if line.account_code.startswith("5.1.01."):
        return (
            PaymentKind.LS_GAJI,
            Beneficiary(f"Bendahara Gaji {plan.agency_code}", "Bank Jateng", "1-001-00001-1"),
            "",
        )
    if line.account_code.startswith("5.4."):
        payee = Beneficiary("Rekening Kas Umum Daerah Kabupaten/Kota", "Bank Jateng", "1-002-00002-2")
        return PaymentKind.LS_PIHAK_KETIGA, payee, ""
    contract = f"{line.number:03d}/KONTRAK/{plan.sub_activity_code}/{plan.fiscal_year}"
    return PaymentKind.LS_BARANG_JASA, Beneficiary("CV Mitra Jateng", "Bank Jateng", "1-003-00003-3"), contract


def _realise(uow: UnitOfWork, plan: BudgetPlan, cash: CashPlan, months: list[int], path: str, actor: Identity) -> None:
    """Pay `months` of a freshly loaded DPA: one SPD for the year, then per month SPP → SPM → SP2D on its lines."""
    if len(months) != 12 or any(m < 0 for m in months):
        raise InvalidArgument.field(path, "must list twelve amounts of whole rupiah, none negative")
    running = 0
    for month, (paid, planned) in enumerate(zip(months, cumulative([cash]), strict=True), start=1):
        running += paid
        if running > planned:
            raise FailedPrecondition(
                f"plan {plan.id} would disburse Rp{running:,} through month {month}, "
                f"above its cash plan's Rp{planned:,}"
            )
    total = sum(months)
    if not total:
        return
    year, gov, agency = plan.fiscal_year, plan.government_code, plan.agency_code
    start = dt.datetime(year, 1, 2, 1, 0, tzinfo=dt.UTC)
    check_allotments(cumulative([cash]), [], (12, total), plan_total=plan.total)
    spd = SpendingAllotment(
        str(uuid.uuid4()),
        document_number(uow.treasury.next_numbers(gov, year, "SPD", 1), "SPD", None, agency, 1, year),
        gov, agency, plan.id, year, 1, 12, total, 0, 0, actor.sub, start,
    )  # fmt: skip
    uow.treasury.add_allotment(spd)
    left = {n: line.amount for n, line in plan.lines.items()}
    largest_first = sorted(plan.lines, key=lambda n: (-plan.lines[n].amount, n))
    pieces: list[tuple[int, int, int]] = []  # (month, line, amount)
    for month, paid in enumerate(months, start=1):
        for number in largest_first:
            take = min(paid, left[number])
            if take:
                pieces.append((month, number, take))
                left[number] -= take
                paid -= take
            if not paid:
                break
    first = {doc: uow.treasury.next_numbers(gov, year, doc, len(pieces)) for doc in ("SPP", "SPM", "SP2D")}
    requests: list[PaymentRequest] = []
    per_line: dict[int, int] = {}
    for i, (month, number, amount) in enumerate(pieces):
        line = plan.lines[number]
        kind, payee, contract = _demo_payee(plan, line)
        filed = dt.datetime(year, month, 20, 2, 0, tzinfo=dt.UTC)
        request = PaymentRequest.create(
            str(uuid.uuid4()),
            document_number(first["SPP"] + i, "SPP", kind, agency, month, year),
            government_code=gov, agency_code=agency, plan_id=plan.id, fiscal_year=year, line_number=number,
            allotment_id=spd.id, kind=kind, amount=amount, description=f"Realisasi {line.specification}"[:1000],
            beneficiary=payee, contract_reference=contract, actor=actor.sub, now=filed,
        )  # fmt: skip
        request.order(
            document_number(first["SPM"] + i, "SPM", kind, agency, month, year),
            actor=actor.sub,
            now=filed + dt.timedelta(days=1),
        )
        request.disburse(
            document_number(first["SP2D"] + i, "SP2D", kind, agency, month, year),
            sub_activity_code=plan.sub_activity_code,
            account_code=line.account_code,
            actor=actor.sub,
            now=filed + dt.timedelta(days=2),
        )
        requests.append(request)
        per_line[number] = per_line.get(number, 0) + amount
    uow.treasury.add_requests(requests)
    for number, amount in sorted(per_line.items()):
        uow.treasury.reserve(plan.id, number, spd.id, amount)
        uow.treasury.settle(plan.id, number, spd.id, amount)


@dataclass(frozen=True)
class ReviseBudgetPlan:
    plan_id: str
    kind: RevisionKind
    reason: str
    expected_version: int | None = None


def revise_budget_plan(cmd: ReviseBudgetPlan, *, uow: UnitOfWork, actor: Identity, request_id: str) -> BudgetPlan:
    """TAPD (or an admin) opens a revision of a DPA; it runs the same workflow and rules again."""
    actor.require_role(Role.TAPD, Role.ADMIN)
    with uow:
        plan = _load(uow, cmd.plan_id)
        actor.require_government(plan.government_code)
        previous = plan.version
        plan.revise(cmd.kind, cmd.reason, expected_version=cmd.expected_version, actor=actor.sub, now=uow.clock.now())
        uow.plans.save(plan, previous_version=previous, request_id=request_id)
        uow.commit()
        return plan


def list_budget_plans(
    government_code: str,
    agency_code: str,
    fiscal_year: int,
    state: PlanState | None,
    page: Page,
    *,
    uow: UnitOfWork,
    actor: Identity,
) -> tuple[list[PlanListing], str]:
    """Plans of a government (one agency, year, state when given) by agency, sub-activity and id; the next token."""
    if not actor.authenticated:
        raise Unauthenticated("login required")
    actor.require_government(government_code)
    if fiscal_year:
        check_fiscal_year(fiscal_year)
    agency_code = agency_code.strip()
    scoped = bool(actor.agencies) and not actor.has_role(Role.ADMIN, Role.TAPD, Role.AUDITOR)
    if scoped and agency_code and agency_code not in actor.agencies:
        raise PermissionDenied(f"not allowed for agency {agency_code}")
    agencies = frozenset({agency_code}) if agency_code else (frozenset(actor.agencies) if scoped else frozenset())
    after = None
    if page.after():
        parts = page.after().split("|")
        if len(parts) != 3:
            raise InvalidArgument.field("page.page_token", "is not a token this service issued")
        after = (parts[0], parts[1], parts[2])
    with uow:
        items = uow.plans.list(
            government_code,
            agency_codes=agencies,
            fiscal_year=fiscal_year,
            state=state,
            after=after,
            limit=page.limit() + 1,
        )
    return page.cut(items, lambda p: f"{p.agency_code}|{p.sub_activity_code}|{p.id}")


def get_budget_plan_outputs(plan_id: str, *, uow: UnitOfWork, actor: Identity) -> tuple[BudgetPlan, list[str]]:
    """One plan with its lines and its sub-activity's output indicators as planning published them."""
    with uow:
        plan = _load(uow, plan_id)
        _reader(actor, plan)
        planned = uow.planned.get(plan.government_code, plan.fiscal_year, plan.agency_code, plan.sub_activity_code)
    outputs: tuple[OutputIndicator, ...] = planned.outputs if planned else ()
    return plan, [o.label() for o in outputs]


def get_budget_plan(plan_id: str, *, uow: UnitOfWork, actor: Identity) -> BudgetPlan:
    """One plan with its lines."""
    with uow:
        plan = _load(uow, plan_id)
    _reader(actor, plan)
    return plan


def list_budget_plan_versions(plan_id: str, *, uow: UnitOfWork, actor: Identity) -> list[PlanVersion]:
    """The snapshots of a plan, oldest first."""
    with uow:
        plan = _load(uow, plan_id)
        _reader(actor, plan)
        return uow.plans.versions(plan_id)


def diff_budget_plan_versions(
    plan_id: str, from_version: int, to_version: int, *, uow: UnitOfWork, actor: Identity
) -> tuple[PlanVersion, PlanVersion, list[LineDiff]]:
    """The two snapshots and the line-by-line difference from the first to the second."""
    with uow:
        plan = _load(uow, plan_id)
        _reader(actor, plan)
        found = []
        for name, number in (("from_version", from_version), ("to_version", to_version)):
            snapshot = uow.plans.version(plan_id, number)
            if snapshot is None:
                raise InvalidArgument.field(name, f"plan {plan_id} has no snapshot at version {number}")
            found.append(snapshot)
    return found[0], found[1], diff_snapshots(found[0].content, found[1].content)


def list_audit_entries(
    plan_id: str, page: Page, *, uow: UnitOfWork, actor: Identity
) -> tuple[list[AuditEntry], str, int | None]:
    """A page of a plan's audit chain, its next token, and the first broken seq of the whole chain (None: intact)."""
    actor.require_role(Role.AUDITOR, Role.TAPD, Role.ADMIN, Role.AGENCY_HEAD)
    with uow:
        plan = _load(uow, plan_id)
        actor.require_government(plan.government_code)
        after = page.after()
        try:
            after_seq = int(after) if after else 0
        except ValueError:
            raise InvalidArgument.field("page.page_token", "is not a token this service issued") from None
        entries = uow.plans.audit_entries(plan_id, after_seq=after_seq, limit=page.limit() + 1)
        broken = verify_chain(uow.plans.audit_entries(plan_id, after_seq=0, limit=2**31))
    items, token = page.cut(entries, lambda e: str(e.seq))
    return items, token, broken
