"""e-Penatausahaan use cases on approved plans (DPA): cash plan, SPD, SPP → SPM → SP2D.

Who may do what (roles mapped in grms_budgeting.domain.treasury, no new role):
cash plan — planner or agency_head of the agency, tapd or admin; SPD — BUD (a treasurer of
the government without agency scope) or admin; SPP — the agency's bendahara (a treasurer
scoped to the agency), and e-delivery (service) for contract LS payments; SPM — the agency's
PA/KPA (agency_head); SP2D — BUD; rejection — the agency's PA/KPA or BUD. Reading needs a role
in the government; an officer scoped to agencies sees only theirs.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from grms_kit.errors import Conflict, FailedPrecondition, InvalidArgument, NotFound, PermissionDenied, Unauthenticated
from grms_kit.identity import Identity, Role
from grms_kit.paging import Page

from grms_budgeting.domain.budget import EDITABLE_STATES, BudgetPlan, PlanState
from grms_budgeting.domain.treasury import (
    MONTHS,
    Beneficiary,
    CashPlan,
    PaymentKind,
    PaymentRequest,
    PaymentState,
    SpendingAllotment,
    check_allotments,
    check_commitments,
    check_disbursed_months,
    cumulative,
    document_number,
    monthly_disbursements,
    revised_cash_plans,
)
from grms_budgeting.service_layer.ports import UnitOfWork

__all__ = [
    "CreatePaymentRequest",
    "CreateSpendingAllotment",
    "PaymentStep",
    "RejectPaymentRequest",
    "RequestContractPayment",
    "SetCashPlan",
    "adopt_revision",
    "cash_through",
    "create_payment_request",
    "create_spending_allotment",
    "disburse_payment",
    "get_payment_request",
    "list_cash_plans",
    "list_payment_requests",
    "order_payment",
    "reject_payment_request",
    "request_contract_payment",
    "set_cash_plan",
]


def _is_bud(actor: Identity) -> bool:
    return actor.has_role(Role.TREASURER) and not actor.agencies


def _require_bud(actor: Identity, government_code: str, *, admin: bool = False) -> None:
    roles = (Role.TREASURER, Role.ADMIN) if admin else (Role.TREASURER,)
    actor.require_role(*roles)
    actor.require_government(government_code)
    if not (_is_bud(actor) or (admin and actor.has_role(Role.ADMIN))):
        raise PermissionDenied("only BUD (a treasurer of the government, not of an agency) may do this")


def _require_of_agency(actor: Identity, role: str, government_code: str, agency_code: str, what: str) -> None:
    actor.require_role(role)
    actor.require_government(government_code)
    if agency_code not in actor.agencies:
        raise PermissionDenied(f"only the {what} of agency {agency_code} may do this")


def _dpa(uow: UnitOfWork, plan_id: str) -> BudgetPlan:
    """A plan with a DPA in force: approved, or approved before and now in a revision (which spends the old DPA)."""
    plan = uow.plans.get(plan_id)
    if plan is None:
        raise NotFound(f"budget plan {plan_id} does not exist")
    if plan.state is not PlanState.APPROVED and not plan.revision:
        raise FailedPrecondition(f"budget plan {plan_id} is {plan.state.value}; only an approved plan (DPA) spends")
    return plan


def cash_through(numbers: set[int], plans: list[CashPlan]) -> tuple[int, ...] | None:
    """Cash through each month: the plan's own cash plan, else its lines' (`numbers`) if every line has one."""
    own = [c for c in plans if c.line_number == 0]
    if own:
        return cumulative(own)
    lines = {c.line_number: c for c in plans if c.line_number in numbers}
    if numbers and set(lines) == numbers:
        return cumulative(lines.values())
    return None


# ---- cash plan -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SetCashPlan:
    plan_id: str
    line_number: int  # 0: the whole plan
    months: list[int]


def set_cash_plan(cmd: SetCashPlan, *, uow: UnitOfWork, actor: Identity) -> tuple[list[CashPlan], bool]:
    """Set the monthly cash plan of a DPA line or of the whole DPA; the SPDs issued must still fit.

    While a revision of the DPA is being drafted, the cash plan set is the one proposed with
    it: it adds up to the revised line (or plan) and takes effect when the revision is
    approved; until then the cash plan in force keeps governing SPDs. The result is what the
    call changed: the cash plans in force (False), or those the revision would put in force (True).
    Either way no month may fall below the SP2Ds already disbursed in it.
    """
    actor.require_role(Role.PLANNER, Role.AGENCY_HEAD, Role.TAPD, Role.ADMIN)
    with uow:
        plan = _dpa(uow, cmd.plan_id)
        actor.require_government(plan.government_code)
        if not actor.has_role(Role.TAPD, Role.ADMIN) and plan.agency_code not in actor.agencies:
            raise PermissionDenied(f"not allowed for agency {plan.agency_code}")
        proposed = plan.state is not PlanState.APPROVED
        if proposed and plan.state not in EDITABLE_STATES:
            raise FailedPrecondition(
                f"revision {plan.revision} of plan {plan.id} is {plan.state.value}; its cash plan changes only "
                "while the revision is a draft or returned"
            )
        if cmd.line_number:
            line = plan.lines.get(cmd.line_number)
            if line is None:
                raise InvalidArgument.field("line_number", f"plan {plan.id} has no line {cmd.line_number}")
            amount = line.amount
        else:
            amount = plan.total
        value = CashPlan.create(plan.id, cmd.line_number, cmd.months, amount=amount)
        uow.treasury.lock_plan(plan.id)
        check_disbursed_months([value], monthly_disbursements(uow.treasury.disbursements(plan.id)))
        now = uow.clock.now()
        if proposed:
            uow.treasury.set_cash_plan(value, now=now, proposed=True)
            others = [c for c in uow.treasury.proposed_cash_plans(plan.id) if c.line_number != cmd.line_number]
            merged = {c.line_number: c for c in uow.treasury.cash_plans(plan.id)}
            merged.update({c.line_number: c for c in [*others, value]})
            uow.commit()
            return [c for n, c in sorted(merged.items()) if n == 0 or n in plan.lines], True
        others = [c for c in uow.treasury.cash_plans(plan.id) if c.line_number != cmd.line_number]
        cash = cash_through(set(plan.lines), [*others, value])
        spds = [(a.to_month, a.amount) for a in uow.treasury.allotments(plan.id)]
        if spds:
            if cash is None:
                raise FailedPrecondition(f"plan {plan.id} has SPDs; its cash plan must keep covering them")
            check_allotments(cash, spds[:-1], spds[-1], plan_total=plan.total)
        uow.treasury.set_cash_plan(value, now=now)
        uow.commit()
        return sorted([*others, value], key=lambda c: c.line_number), False


def list_cash_plans(plan_id: str, *, uow: UnitOfWork, actor: Identity) -> tuple[list[CashPlan], list[CashPlan]]:
    """The cash plans in force of a plan and those proposed with its open revision."""
    with uow:
        plan = uow.plans.get(plan_id)
        if plan is None:
            raise NotFound(f"budget plan {plan_id} does not exist")
        _may_read(actor, plan.government_code, plan.agency_code)
        return uow.treasury.cash_plans(plan_id), uow.treasury.proposed_cash_plans(plan_id)


def adopt_revision(uow: UnitOfWork, plan: BudgetPlan) -> None:
    """Put an approved revision in force (inside the approval's unit of work).

    Refused (FailedPrecondition) when a line falls below what SPPs committed on it — also
    those filed while the revision was drafted — or when the cash plan, revised alongside,
    does not add up to the revised lines, cuts a month below its SP2Ds or stops covering the
    SPDs issued. Then the revised cash plan and lines become the DPA in force.
    """
    uow.treasury.lock_plan(plan.id)
    amounts = {n: line.amount for n, line in plan.lines.items()}
    check_commitments(amounts, uow.treasury.dpa_lines(plan.id))
    in_force, proposals = uow.treasury.cash_plans(plan.id), uow.treasury.proposed_cash_plans(plan.id)
    spds = [(a.to_month, a.amount) for a in uow.treasury.allotments(plan.id)]
    if in_force or proposals:
        plans = revised_cash_plans(in_force, proposals, amounts, plan_id=plan.id)
        check_disbursed_months(plans, monthly_disbursements(uow.treasury.disbursements(plan.id)))
        if spds:
            cash = cash_through(set(amounts), plans)
            if cash is None:
                raise FailedPrecondition(
                    f"plan {plan.id} has SPDs; the revised cash plan must cover every line (or the whole plan)"
                )
            check_allotments(cash, spds[:-1], spds[-1], plan_total=plan.total)
        uow.treasury.replace_cash_plans(plan.id, plans, now=uow.clock.now())
    uow.treasury.adopt_dpa(plan.id)


# ---- SPD -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CreateSpendingAllotment:
    plan_id: str
    from_month: int
    to_month: int
    amount: int


def create_spending_allotment(cmd: CreateSpendingAllotment, *, uow: UnitOfWork, actor: Identity) -> SpendingAllotment:
    """BUD issues an SPD for months from..to of a DPA, within its cash plan through those months."""
    with uow:
        plan = _dpa(uow, cmd.plan_id)
        _require_bud(actor, plan.government_code, admin=True)
        if not 1 <= cmd.from_month <= cmd.to_month <= MONTHS:
            raise InvalidArgument.field("from_month", "months must run from 1 to 12, from_month ≤ to_month")
        uow.treasury.lock_plan(plan.id)  # SPDs of one plan are checked one after another
        # Against the DPA in force: its lines and cash plan, also while a revision is drafted.
        numbers = {line.number for line in uow.treasury.dpa_lines(plan.id)}
        cash = cash_through(numbers, uow.treasury.cash_plans(plan.id))
        if cash is None:
            raise FailedPrecondition(f"plan {plan.id} has no cash plan (anggaran kas) covering it yet")
        existing = [(a.to_month, a.amount) for a in uow.treasury.allotments(plan.id)]
        check_allotments(cash, existing, (cmd.to_month, cmd.amount), plan_total=plan.approved_total)
        sequence = uow.treasury.next_number(plan.government_code, plan.fiscal_year, "SPD")
        allotment = SpendingAllotment(
            str(uuid.uuid4()),
            document_number(sequence, "SPD", None, plan.agency_code, cmd.to_month, plan.fiscal_year),
            plan.government_code,
            plan.agency_code,
            plan.id,
            plan.fiscal_year,
            cmd.from_month,
            cmd.to_month,
            cmd.amount,
            0,
            0,
            actor.sub,
            uow.clock.now(),
        )
        uow.treasury.add_allotment(allotment)
        uow.commit()
        return allotment


# ---- SPP → SPM → SP2D ------------------------------------------------------------------------


@dataclass(frozen=True)
class CreatePaymentRequest:
    plan_id: str
    line_number: int
    allotment_id: str
    kind: PaymentKind
    amount: int
    description: str
    beneficiary: Beneficiary | None = None
    contract_reference: str = ""


def _file(
    cmd: CreatePaymentRequest, plan: BudgetPlan, *, uow: UnitOfWork, actor: Identity, external: str
) -> PaymentRequest:
    line = uow.treasury.dpa_line(plan.id, cmd.line_number)  # the DPA in force, also during a revision
    if line is None:
        raise InvalidArgument.field("line_number", f"the DPA in force of plan {plan.id} has no line {cmd.line_number}")
    allotment = uow.treasury.get_allotment(cmd.allotment_id)
    if allotment is None or allotment.plan_id != plan.id:
        raise InvalidArgument.field("allotment_id", f"{cmd.allotment_id} is not an SPD of plan {plan.id}")
    now = uow.clock.now()
    scope = (plan.government_code, plan.agency_code, plan.fiscal_year)
    live = {PaymentState.REQUESTED, PaymentState.ORDERED, PaymentState.DISBURSED}
    if cmd.kind is PaymentKind.UP and uow.treasury.count_kind(*scope, PaymentKind.UP, live):
        raise FailedPrecondition(f"agency {plan.agency_code} already has its UP for {plan.fiscal_year}")
    if cmd.kind is PaymentKind.GU and not uow.treasury.count_kind(*scope, PaymentKind.UP, {PaymentState.DISBURSED}):
        raise FailedPrecondition(f"agency {plan.agency_code} has no disbursed UP in {plan.fiscal_year} to replenish")
    request = PaymentRequest.create(
        str(uuid.uuid4()),
        "",
        government_code=plan.government_code,
        agency_code=plan.agency_code,
        plan_id=plan.id,
        fiscal_year=plan.fiscal_year,
        line_number=cmd.line_number,
        allotment_id=allotment.id,
        kind=cmd.kind,
        amount=cmd.amount,
        description=cmd.description,
        beneficiary=cmd.beneficiary,
        contract_reference=cmd.contract_reference,
        external_request_id=external,
        actor=actor.sub,
        now=now,
    )
    if cmd.amount > line.remainder:
        raise FailedPrecondition(
            f"DPA line {cmd.line_number} has Rp{line.remainder:,} left of Rp{line.amount:,}; Rp{cmd.amount:,} is more"
        )
    if cmd.amount > allotment.remainder:
        raise FailedPrecondition(f"SPD {allotment.number} has Rp{allotment.remainder:,} left; Rp{cmd.amount:,} is more")
    sequence = uow.treasury.next_number(plan.government_code, plan.fiscal_year, "SPP")
    request.number = document_number(sequence, "SPP", cmd.kind, plan.agency_code, now.month, plan.fiscal_year)
    # The row first: a second request with the same external id waits on it and fails, not the reservation.
    uow.treasury.add_request(request)
    # The checks above read; this decides, atomically, against whatever committed meanwhile.
    uow.treasury.reserve(plan.id, cmd.line_number, allotment.id, cmd.amount)
    return request


def create_payment_request(cmd: CreatePaymentRequest, *, uow: UnitOfWork, actor: Identity) -> PaymentRequest:
    """The agency's bendahara files an SPP; its amount is committed on the DPA line and the SPD."""
    with uow:
        plan = _dpa(uow, cmd.plan_id)
        _require_of_agency(actor, Role.TREASURER, plan.government_code, plan.agency_code, "treasurer (bendahara)")
        request = _file(cmd, plan, uow=uow, actor=actor, external="")
        uow.commit()
        return request


@dataclass(frozen=True)
class RequestContractPayment:
    external_request_id: str
    plan_id: str
    line_number: int
    allotment_id: str
    amount: int
    description: str
    beneficiary: Beneficiary | None
    contract_reference: str


def request_contract_payment(cmd: RequestContractPayment, *, uow: UnitOfWork, actor: Identity) -> PaymentRequest:
    """e-delivery asks for an SPP-LS for a contract term; the same external id always yields the same SPP."""
    external = cmd.external_request_id.strip()
    if not 8 <= len(external) <= 100:
        raise InvalidArgument.field("external_request_id", "must be 8 to 100 characters")
    actor.require_role(Role.SERVICE, Role.TREASURER)
    with uow:
        plan = _dpa(uow, cmd.plan_id)
        actor.require_government(plan.government_code)
        if actor.has_role(Role.TREASURER) and not actor.has_role(Role.SERVICE):
            _require_of_agency(actor, Role.TREASURER, plan.government_code, plan.agency_code, "treasurer")
        existing = uow.treasury.find_external(plan.government_code, external)
        if existing is not None:
            if (existing.plan_id, existing.line_number, existing.amount) != (plan.id, cmd.line_number, cmd.amount):
                raise FailedPrecondition(
                    f"external request {external} already filed SPP {existing.number} for another line or amount"
                )
            return existing
        spp = CreatePaymentRequest(
            plan.id,
            cmd.line_number,
            cmd.allotment_id,
            PaymentKind.LS_BARANG_JASA,
            cmd.amount,
            cmd.description,
            cmd.beneficiary,
            cmd.contract_reference,
        )
        request = _file(spp, plan, uow=uow, actor=actor, external=external)
        uow.commit()
        return request


@dataclass(frozen=True)
class PaymentStep:
    request_id: str
    expected_version: int | None = None


def _load(uow: UnitOfWork, request_id: str, expected_version: int | None) -> PaymentRequest:
    request = uow.treasury.get_request(request_id)
    if request is None:
        raise NotFound(f"payment request {request_id} does not exist")
    if expected_version is not None and expected_version != request.version:
        raise Conflict(f"payment request {request.number} is at version {request.version}, not {expected_version}")
    return request


def order_payment(cmd: PaymentStep, *, uow: UnitOfWork, actor: Identity) -> PaymentRequest:
    """The PA/KPA (head of the agency) signs the SPM of a filed SPP."""
    with uow:
        request = _load(uow, cmd.request_id, cmd.expected_version)
        _require_of_agency(actor, Role.AGENCY_HEAD, request.government_code, request.agency_code, "PA/KPA")
        request.ensure(PaymentState.REQUESTED)
        previous = request.version
        now = uow.clock.now()
        sequence = uow.treasury.next_number(request.government_code, request.fiscal_year, "SPM")
        request.order(
            document_number(sequence, "SPM", request.kind, request.agency_code, now.month, request.fiscal_year),
            actor=actor.sub,
            now=now,
        )
        uow.treasury.save_request(request, previous_version=previous)
        uow.commit()
        return request


def disburse_payment(cmd: PaymentStep, *, uow: UnitOfWork, actor: Identity) -> PaymentRequest:
    """BUD issues the SP2D: the committed amount becomes disbursed and FundsDisbursed goes out."""
    with uow:
        request = _load(uow, cmd.request_id, cmd.expected_version)
        _require_bud(actor, request.government_code)
        plan = uow.plans.get(request.plan_id)
        if plan is None:
            raise NotFound(f"budget plan {request.plan_id} does not exist")
        request.ensure(PaymentState.ORDERED)
        line = uow.treasury.dpa_line(request.plan_id, request.line_number)
        if line is None:
            raise FailedPrecondition(f"the DPA in force of plan {plan.id} has no line {request.line_number}")
        previous = request.version
        now = uow.clock.now()
        sequence = uow.treasury.next_number(request.government_code, request.fiscal_year, "SP2D")
        request.disburse(
            document_number(sequence, "SP2D", request.kind, request.agency_code, now.month, request.fiscal_year),
            sub_activity_code=plan.sub_activity_code,
            account_code=line.account_code,
            actor=actor.sub,
            now=now,
        )
        uow.treasury.save_request(request, previous_version=previous)  # first: two SP2Ds of one SPP → one wins
        uow.treasury.settle(request.plan_id, request.line_number, request.allotment_id, request.amount)
        uow.commit()
        return request


@dataclass(frozen=True)
class RejectPaymentRequest:
    request_id: str
    reason: str
    expected_version: int | None = None


def reject_payment_request(cmd: RejectPaymentRequest, *, uow: UnitOfWork, actor: Identity) -> PaymentRequest:
    """The PA/KPA or BUD turns down an SPP or SPM; its commitment is released."""
    with uow:
        request = _load(uow, cmd.request_id, cmd.expected_version)
        if not _is_bud(actor):
            _require_of_agency(actor, Role.AGENCY_HEAD, request.government_code, request.agency_code, "PA/KPA")
        actor.require_government(request.government_code)
        previous = request.version
        request.reject(cmd.reason, actor=actor.sub, now=uow.clock.now())
        uow.treasury.save_request(request, previous_version=previous)
        uow.treasury.release(request.plan_id, request.line_number, request.allotment_id, request.amount)
        uow.commit()
        return request


def _may_read(actor: Identity, government_code: str, agency_code: str) -> None:
    if not actor.authenticated:
        raise Unauthenticated("login required")
    actor.require_government(government_code)
    if actor.agencies and not actor.has_role(Role.ADMIN) and agency_code not in actor.agencies:
        raise PermissionDenied(f"not allowed for agency {agency_code}")


def get_payment_request(request_id: str, *, uow: UnitOfWork, actor: Identity) -> PaymentRequest:
    """One payment request with its history."""
    with uow:
        request = _load(uow, request_id, None)
    _may_read(actor, request.government_code, request.agency_code)
    return request


def list_payment_requests(
    government_code: str, agency_code: str, state: PaymentState | None, page: Page, *, uow: UnitOfWork, actor: Identity
) -> tuple[list[PaymentRequest], str]:
    """A work queue: requests of a government (and agency), optionally in one state, by id."""
    if not agency_code and actor.agencies and not actor.has_role(Role.ADMIN):
        raise InvalidArgument.field("agency_code", "an officer of agencies lists one of their agencies")
    _may_read(actor, government_code, agency_code)
    with uow:
        items = uow.treasury.list_requests(
            government_code, agency_code=agency_code, state=state, after=page.after(), limit=page.limit() + 1
        )
    return page.cut(items, lambda r: r.id)
