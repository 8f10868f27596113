"""e-Penatausahaan rules on the real use cases over in-memory fakes."""

from __future__ import annotations

import pytest
from grms_budgeting.domain.treasury import (
    Beneficiary,
    CashPlan,
    FundsDisbursed,
    PaymentKind,
    PaymentState,
    check_allotments,
    cumulative,
    document_number,
)
from grms_budgeting.service_layer import budget, treasury
from grms_kit.errors import Conflict, FailedPrecondition, InvalidArgument, PermissionDenied
from grms_kit.identity import Identity, Role
from grms_kit.paging import Page

from . import world
from .fakes import FakeUnitOfWork

BENDAHARA = Identity(
    sub="bendahara", roles=frozenset({Role.TREASURER}), government="33", agencies=frozenset({world.AGENCY})
)
OTHER_BENDAHARA = Identity(
    sub="bendahara-lain", roles=frozenset({Role.TREASURER}), government="33", agencies=frozenset({world.OTHER_AGENCY})
)
BUD = Identity(sub="bud", roles=frozenset({Role.TREASURER}), government="33")
DELIVERY = Identity(sub="svc-delivery", roles=frozenset({Role.SERVICE}), government="33")
VENDOR = Beneficiary("CV Sinar Jaya", "Bank Jateng", "1-234-56789-0")
EVEN = [0] * 12


def _approved(uow: FakeUnitOfWork) -> str:
    """A DPA of two lines: 10 rim × Rp50,000 (line 1) and 20 × Rp15,000 (line 2): Rp800,000."""
    world.ceilings(uow)
    plan = world.new_plan(uow)
    world.add(uow, plan.id, world.paper())
    world.add(uow, plan.id, world.snack())
    for use_case, actor in (
        (budget.submit_budget_plan, world.HEAD),
        (budget.verify_budget_plan, world.TAPD),
        (budget.approve_budget_plan, world.TAPD),
    ):
        use_case(budget.PlanTransition(plan.id), uow=uow, actor=actor, request_id="r")
    return plan.id


def _balance(uow: FakeUnitOfWork, plan_id: str, number: int) -> tuple[int, int, int]:
    """(amount, committed, disbursed) of a line of the DPA in force."""
    line = uow.treasury.dpa_line(plan_id, number)
    assert line is not None
    return line.amount, line.committed, line.disbursed


def _months(total: int, *, first: int) -> list[int]:
    """`first` in January, the rest in December."""
    return [first] + [0] * 10 + [total - first]


@pytest.fixture
def uow() -> FakeUnitOfWork:
    return world.build()


@pytest.fixture
def dpa(uow: FakeUnitOfWork) -> str:
    plan_id = _approved(uow)
    treasury.set_cash_plan(treasury.SetCashPlan(plan_id, 0, _months(800_000, first=600_000)), uow=uow, actor=world.HEAD)
    return plan_id


def _spd(uow: FakeUnitOfWork, plan_id: str, amount: int = 600_000, to_month: int = 1) -> str:
    cmd = treasury.CreateSpendingAllotment(plan_id, 1, to_month, amount)
    return treasury.create_spending_allotment(cmd, uow=uow, actor=BUD).id


def _spp(uow, plan_id, spd, amount=100_000, kind=PaymentKind.LS_PIHAK_KETIGA, line=1, actor=BENDAHARA, **extra):  # type: ignore[no-untyped-def]
    beneficiary = VENDOR if kind.value.startswith("ls_") else None
    cmd = treasury.CreatePaymentRequest(plan_id, line, spd, kind, amount, "Pembayaran kertas", beneficiary, **extra)
    return treasury.create_payment_request(cmd, uow=uow, actor=actor)


# ---- cash plan -----------------------------------------------------------------------------


def test_a_cash_plan_has_twelve_non_negative_months_adding_up_to_the_amount() -> None:
    assert CashPlan.create("p", 0, [100] * 12, amount=1_200).months == (100,) * 12
    with pytest.raises(InvalidArgument) as short:
        CashPlan.create("p", 0, [100] * 11, amount=1_100)
    assert short.value.violations[0].field == "months"
    with pytest.raises(InvalidArgument) as negative:
        CashPlan.create("p", 0, [-1] + [0] * 11, amount=-1)
    assert negative.value.violations[0].field == "months[0]"
    with pytest.raises(InvalidArgument) as off:
        CashPlan.create("p", 2, [100] * 12, amount=1_000)
    assert "Rp1,200, not the Rp1,000 of line 2" in off.value.violations[0].description
    assert cumulative([CashPlan("p", 1, (1,) * 12), CashPlan("p", 2, (2,) * 12)])[:3] == (3, 6, 9)


def test_only_an_approved_plan_gets_a_cash_plan(uow: FakeUnitOfWork) -> None:
    world.ceilings(uow)
    plan = world.new_plan(uow)
    with pytest.raises(FailedPrecondition, match="only an approved plan"):
        treasury.set_cash_plan(treasury.SetCashPlan(plan.id, 0, EVEN), uow=uow, actor=world.HEAD)


def test_cash_plans_per_line_cover_the_plan_only_when_every_line_has_one(uow: FakeUnitOfWork) -> None:
    plan_id = _approved(uow)
    treasury.set_cash_plan(treasury.SetCashPlan(plan_id, 1, _months(500_000, first=500_000)), uow=uow, actor=world.HEAD)
    with pytest.raises(FailedPrecondition, match="no cash plan"):
        _spd(uow, plan_id, 100_000)
    with pytest.raises(PermissionDenied):
        treasury.set_cash_plan(treasury.SetCashPlan(plan_id, 2, EVEN), uow=uow, actor=world.OTHER_HEAD)
    with pytest.raises(InvalidArgument):
        treasury.set_cash_plan(treasury.SetCashPlan(plan_id, 9, EVEN), uow=uow, actor=world.HEAD)
    treasury.set_cash_plan(treasury.SetCashPlan(plan_id, 2, _months(300_000, first=0)), uow=uow, actor=world.HEAD)
    assert _spd(uow, plan_id, 500_000)
    with pytest.raises(FailedPrecondition, match="through month 1 would total Rp500,100"):
        _spd(uow, plan_id, 100)


# ---- SPD -------------------------------------------------------------------------------------


def test_spds_stay_within_the_cash_plan_through_their_months() -> None:
    cash = cumulative([CashPlan("p", 0, tuple(_months(800, first=600)))])
    check_allotments(cash, [], (1, 600), plan_total=800)
    with pytest.raises(FailedPrecondition, match="above the cash plan's Rp600 by Rp1"):
        check_allotments(cash, [(12, 0)], (1, 601), plan_total=800)
    with pytest.raises(FailedPrecondition, match="through month 12"):
        check_allotments(cash, [(1, 600)], (12, 201), plan_total=800)
    with pytest.raises(InvalidArgument):
        check_allotments(cash, [], (13, 1), plan_total=800)


def test_only_bud_issues_an_spd_and_a_cash_plan_cannot_drop_below_it(uow: FakeUnitOfWork, dpa: str) -> None:
    with pytest.raises(PermissionDenied, match="only BUD"):
        treasury.create_spending_allotment(treasury.CreateSpendingAllotment(dpa, 1, 1, 100), uow=uow, actor=BENDAHARA)
    spd = treasury.create_spending_allotment(treasury.CreateSpendingAllotment(dpa, 1, 3, 600_000), uow=uow, actor=BUD)
    assert spd.number == f"0001/SPD/{world.AGENCY}/03/2026" and spd.remainder == 600_000
    with pytest.raises(FailedPrecondition, match="through month 3"):
        treasury.set_cash_plan(treasury.SetCashPlan(dpa, 0, _months(800_000, first=0)), uow=uow, actor=world.HEAD)


# ---- SPP → SPM → SP2D ------------------------------------------------------------------------


def test_a_payment_from_spp_to_sp2d_publishes_funds_disbursed(uow: FakeUnitOfWork, dpa: str) -> None:
    spd = _spd(uow, dpa)
    spp = _spp(uow, dpa, spd, 200_000, PaymentKind.LS_BARANG_JASA, contract_reference="027/KONTRAK/2026")
    assert spp.state is PaymentState.REQUESTED and spp.number.startswith("0001/SPP/LS/")
    assert _balance(uow, dpa, 1) == (500_000, 200_000, 0)
    step = treasury.PaymentStep(spp.id)
    with pytest.raises(PermissionDenied):
        treasury.order_payment(step, uow=uow, actor=BENDAHARA)
    with pytest.raises(PermissionDenied):
        treasury.order_payment(step, uow=uow, actor=world.OTHER_HEAD)
    with pytest.raises(FailedPrecondition, match="must be ordered"):
        treasury.disburse_payment(step, uow=uow, actor=BUD)
    ordered = treasury.order_payment(step, uow=uow, actor=world.HEAD)
    assert ordered.state is PaymentState.ORDERED and ordered.spm_number.startswith("0001/SPM/LS/")
    with pytest.raises(PermissionDenied, match="only BUD"):
        treasury.disburse_payment(step, uow=uow, actor=BENDAHARA)
    with pytest.raises(PermissionDenied):
        treasury.disburse_payment(step, uow=uow, actor=world.HEAD)
    with pytest.raises(Conflict):
        treasury.disburse_payment(treasury.PaymentStep(spp.id, 1), uow=uow, actor=BUD)
    paid = treasury.disburse_payment(step, uow=uow, actor=BUD)
    assert paid.state is PaymentState.DISBURSED and paid.sp2d_number.startswith("0001/SP2D/LS/")
    assert [h["state"] for h in paid.history] == ["requested", "ordered", "disbursed"]
    assert _balance(uow, dpa, 1) == (500_000, 200_000, 200_000)
    assert uow.treasury.get_allotment(spd).disbursed == 200_000  # type: ignore[union-attr]
    (event,) = [e for e in uow.published if isinstance(e, FundsDisbursed)]
    assert (event.plan_id, event.line_number, event.account_code, event.amount) == (
        dpa,
        1,
        "5.1.02.01.001.00024",
        200_000,
    )
    assert (event.sub_activity_code, event.sp2d_number, event.agency_code) == (
        world.SUB,
        paid.sp2d_number,
        world.AGENCY,
    )
    with pytest.raises(FailedPrecondition, match="is disbursed"):
        treasury.disburse_payment(step, uow=uow, actor=BUD)
    with pytest.raises(FailedPrecondition, match="is disbursed"):
        treasury.reject_payment_request(treasury.RejectPaymentRequest(spp.id, "Terlambat"), uow=uow, actor=BUD)


def test_the_line_and_the_spd_remainders_bound_every_request(uow: FakeUnitOfWork, dpa: str) -> None:
    spd = _spd(uow, dpa)
    _spp(uow, dpa, spd, 450_000)
    with pytest.raises(FailedPrecondition, match="DPA line 1 has Rp50,000 left of Rp500,000"):
        _spp(uow, dpa, spd, 50_001)
    _spp(uow, dpa, spd, 100_000, line=2)
    with pytest.raises(FailedPrecondition, match=r"SPD .* has Rp50,000 left"):
        _spp(uow, dpa, spd, 60_000, line=2)
    with pytest.raises(InvalidArgument):
        _spp(uow, dpa, spd, 1, line=7)
    with pytest.raises(InvalidArgument) as other_spd:
        _spp(uow, dpa, "not-an-spd", 1)
    assert other_spd.value.violations[0].field == "allotment_id"


def test_rejection_releases_the_commitment(uow: FakeUnitOfWork, dpa: str) -> None:
    spd = _spd(uow, dpa)
    spp = _spp(uow, dpa, spd, 500_000)
    treasury.order_payment(treasury.PaymentStep(spp.id), uow=uow, actor=world.HEAD)
    with pytest.raises(InvalidArgument):
        treasury.reject_payment_request(treasury.RejectPaymentRequest(spp.id, ""), uow=uow, actor=BUD)
    with pytest.raises(PermissionDenied):
        treasury.reject_payment_request(treasury.RejectPaymentRequest(spp.id, "Kurang bukti"), uow=uow, actor=BENDAHARA)
    rejected = treasury.reject_payment_request(
        treasury.RejectPaymentRequest(spp.id, "Kurang bukti"), uow=uow, actor=BUD
    )
    assert (rejected.state, rejected.rejection_reason) == (PaymentState.REJECTED, "Kurang bukti")
    assert _balance(uow, dpa, 1) == (500_000, 0, 0)
    assert _spp(uow, dpa, spd, 500_000).amount == 500_000


def test_who_files_and_what_each_kind_needs(uow: FakeUnitOfWork, dpa: str) -> None:
    spd = _spd(uow, dpa)
    for actor in (BUD, OTHER_BENDAHARA, world.HEAD):
        with pytest.raises(PermissionDenied):
            _spp(uow, dpa, spd, actor=actor)
    with pytest.raises(InvalidArgument) as ls:
        treasury.create_payment_request(
            treasury.CreatePaymentRequest(dpa, 1, spd, PaymentKind.LS_GAJI, 1_000, "Gaji", None),
            uow=uow,
            actor=BENDAHARA,
        )
    assert [v.field for v in ls.value.violations] == ["beneficiary"]
    with pytest.raises(InvalidArgument) as contract:
        _spp(uow, dpa, spd, 1_000, PaymentKind.LS_BARANG_JASA)
    assert [v.field for v in contract.value.violations] == ["contract_reference"]
    with pytest.raises(InvalidArgument) as up_to_vendor:
        treasury.create_payment_request(
            treasury.CreatePaymentRequest(dpa, 1, spd, PaymentKind.UP, 1_000, "UP", VENDOR), uow=uow, actor=BENDAHARA
        )
    assert [v.field for v in up_to_vendor.value.violations] == ["beneficiary"]
    with pytest.raises(FailedPrecondition, match="no disbursed UP"):
        _spp(uow, dpa, spd, 1_000, PaymentKind.GU)
    up = _spp(uow, dpa, spd, 100_000, PaymentKind.UP)
    assert up.number.startswith("0001/SPP/UP/")
    with pytest.raises(FailedPrecondition, match="already has its UP"):
        _spp(uow, dpa, spd, 1_000, PaymentKind.UP)
    treasury.order_payment(treasury.PaymentStep(up.id), uow=uow, actor=world.HEAD)
    treasury.disburse_payment(treasury.PaymentStep(up.id), uow=uow, actor=BUD)
    assert _spp(uow, dpa, spd, 50_000, PaymentKind.GU).kind is PaymentKind.GU
    assert _spp(uow, dpa, spd, 10_000, PaymentKind.TU).kind is PaymentKind.TU


def test_contract_payments_are_idempotent_by_external_id(uow: FakeUnitOfWork, dpa: str) -> None:
    spd = _spd(uow, dpa)
    cmd = treasury.RequestContractPayment(
        "delivery-term-027-2", dpa, 1, spd, 250_000, "Termin 2", VENDOR, "027/KONTRAK/2026 termin 2"
    )
    first = treasury.request_contract_payment(cmd, uow=uow, actor=DELIVERY)
    again = treasury.request_contract_payment(cmd, uow=uow, actor=DELIVERY)
    assert again.id == first.id and first.kind is PaymentKind.LS_BARANG_JASA
    assert _balance(uow, dpa, 1)[1] == 250_000  # committed once
    with pytest.raises(FailedPrecondition, match="already filed"):
        treasury.request_contract_payment(
            treasury.RequestContractPayment(
                "delivery-term-027-2", dpa, 1, spd, 1, "Termin 2", VENDOR, "027/KONTRAK/2026"
            ),
            uow=uow,
            actor=DELIVERY,
        )
    with pytest.raises(InvalidArgument):
        treasury.request_contract_payment(
            treasury.RequestContractPayment("short", dpa, 1, spd, 1, "Termin", VENDOR, "K"), uow=uow, actor=DELIVERY
        )
    with pytest.raises(PermissionDenied):
        treasury.request_contract_payment(cmd, uow=uow, actor=world.HEAD)


def test_the_queue_per_state_pages_and_is_scoped(uow: FakeUnitOfWork, dpa: str) -> None:
    spd = _spd(uow, dpa)
    ids = [_spp(uow, dpa, spd, 1_000 + i).id for i in range(3)]
    treasury.order_payment(treasury.PaymentStep(ids[0]), uow=uow, actor=world.HEAD)
    page1, token = treasury.list_payment_requests(
        "33", world.AGENCY, PaymentState.REQUESTED, Page(size=1), uow=uow, actor=BUD
    )
    page2, end = treasury.list_payment_requests(
        "33", world.AGENCY, PaymentState.REQUESTED, Page(size=1, token=token), uow=uow, actor=BUD
    )
    assert sorted([*[r.id for r in page1], *[r.id for r in page2]]) == sorted(ids[1:]) and end == ""
    ordered, _ = treasury.list_payment_requests("33", "", PaymentState.ORDERED, Page(), uow=uow, actor=BUD)
    assert [r.id for r in ordered] == [ids[0]]
    with pytest.raises(InvalidArgument):
        treasury.list_payment_requests("33", "", None, Page(), uow=uow, actor=BENDAHARA)
    with pytest.raises(PermissionDenied):
        treasury.list_payment_requests("33", world.AGENCY, None, Page(), uow=uow, actor=OTHER_BENDAHARA)
    with pytest.raises(PermissionDenied):
        treasury.get_payment_request(ids[0], uow=uow, actor=OTHER_BENDAHARA)
    assert treasury.get_payment_request(ids[0], uow=uow, actor=BENDAHARA).state is PaymentState.ORDERED


def test_document_numbers_follow_the_sipd_pattern() -> None:
    assert document_number(5, "SPP", PaymentKind.UP, "1.01.0.00.0.00.01.0000", 2, 2026) == (
        "0005/SPP/UP/1.01.0.00.0.00.01.0000/02/2026"
    )
    assert document_number(12, "SP2D", PaymentKind.LS_GAJI, "X", 11, 2026) == "0012/SP2D/LS/X/11/2026"
