"""Revisions of a DPA (pergeseran / perubahan), the plan list, and the output-indicator rule, on in-memory fakes."""

from __future__ import annotations

import pytest
from grms_budgeting.domain.audit import verify_chain
from grms_budgeting.domain.budget import (
    BudgetPlanApproved,
    BudgetPlanSubmitted,
    BudgetRevised,
    PlanState,
    RevisionKind,
)
from grms_budgeting.domain.codes import normalize_account_code
from grms_budgeting.domain.indicators import OutputIndicator
from grms_budgeting.service_layer import budget, treasury
from grms_kit.errors import FailedPrecondition, InvalidArgument, PermissionDenied
from grms_kit.identity import Identity, Role
from grms_kit.paging import Page

from . import world
from .fakes import FakeUnitOfWork
from .test_treasury import _approved, _balance, _months, _spd, _spp

T = budget.PlanTransition


@pytest.fixture
def uow() -> FakeUnitOfWork:
    return world.build()


@pytest.fixture
def dpa(uow: FakeUnitOfWork) -> str:
    plan_id = _approved(uow)
    treasury.set_cash_plan(treasury.SetCashPlan(plan_id, 0, _months(800_000, first=600_000)), uow=uow, actor=world.HEAD)
    return plan_id


def _revise(uow: FakeUnitOfWork, plan_id: str, kind: RevisionKind, actor: Identity = world.TAPD):  # type: ignore[no-untyped-def]
    cmd = budget.ReviseBudgetPlan(plan_id, kind, "Pergeseran antar rincian objek belanja")
    return budget.revise_budget_plan(cmd, uow=uow, actor=actor, request_id="r-revise")


def _update(uow: FakeUnitOfWork, plan_id: str, number: int, line):  # type: ignore[no-untyped-def]
    cmd = budget.UpdateBudgetLine(plan_id, None, number, line)
    return budget.update_budget_line(cmd, uow=uow, actor=world.PLANNER, request_id="r-update")


def _through(uow: FakeUnitOfWork, plan_id: str):  # type: ignore[no-untyped-def]
    budget.submit_budget_plan(T(plan_id), uow=uow, actor=world.HEAD, request_id="r")
    budget.verify_budget_plan(T(plan_id), uow=uow, actor=world.TAPD, request_id="r")
    return budget.approve_budget_plan(T(plan_id), uow=uow, actor=world.TAPD, request_id="r")


def test_a_shift_moves_money_between_lines_and_publishes_budget_revised(uow: FakeUnitOfWork) -> None:
    plan_id = _approved(uow)
    uow.published.clear()
    plan = _revise(uow, plan_id, RevisionKind.SHIFT)
    assert (plan.state, plan.revision, plan.revision_kind, plan.approved_total) == (
        PlanState.DRAFT,
        1,
        RevisionKind.SHIFT,
        800_000,
    )
    _update(uow, plan_id, 1, world.paper("12 rim"))  # 600,000
    _update(uow, plan_id, 2, world.snack(price=10_000))  # 200,000: the total stays 800,000
    plan = _through(uow, plan_id)
    assert (plan.state, plan.total, plan.approved_total) == (PlanState.APPROVED, 800_000, 800_000)
    assert [type(e) for e in uow.published] == [BudgetPlanSubmitted, BudgetPlanApproved, BudgetRevised]
    revised = uow.published[-1]
    assert isinstance(revised, BudgetRevised)
    assert (revised.revision, revised.kind, revised.previous_total, revised.plan.total) == (
        1,
        RevisionKind.SHIFT,
        800_000,
        800_000,
    )
    versions = budget.list_budget_plan_versions(plan_id, uow=uow, actor=world.TAPD)
    assert [v.action for v in versions] == ["submit", "verify", "approve", "revise", "submit", "verify", "approve"]
    dpa_v, revised_v = versions[2].version, versions[-1].version
    _, _, diff = budget.diff_budget_plan_versions(plan_id, dpa_v, revised_v, uow=uow, actor=world.HEAD)
    assert [(d.number, d.kind) for d in diff] == [(1, "changed"), (2, "changed")]
    assert {c.field: (c.old, c.new) for c in diff[0].changes}["amount"] == (500_000, 600_000)
    chain = uow.plans.chains[plan_id]
    assert verify_chain(chain) is None
    revise_entry = next(e for e in chain if e.action == "revise")
    assert revise_entry.new == {
        "state": "draft",
        "revision": 1,
        "kind": "shift",
        "reason": "Pergeseran antar rincian objek belanja",
    }


def test_a_shift_cannot_grow_the_dpa_but_an_amendment_can_within_the_ceiling(uow: FakeUnitOfWork) -> None:
    plan_id = _approved(uow)
    _revise(uow, plan_id, RevisionKind.SHIFT)
    _update(uow, plan_id, 1, world.paper("11 rim"))  # 850,000 in all
    with pytest.raises(FailedPrecondition, match=r"shift \(pergeseran\).*above the DPA's Rp800,000 by Rp50,000"):
        budget.submit_budget_plan(T(plan_id), uow=uow, actor=world.HEAD, request_id="r")

    other = budget.create_budget_plan(
        budget.CreateBudgetPlan("33", world.AGENCY, world.SUB_2, world.YEAR),
        uow=uow,
        actor=world.PLANNER,
        request_id="r",
    )
    budget.set_ceiling(
        budget.SetCeiling("33", world.YEAR, world.AGENCY, world.SUB_2, 2_000_000, False), uow=uow, actor=world.TAPD
    )
    world.add(uow, other.id, world.paper())
    plan = _through(uow, other.id)
    _revise(uow, plan.id, RevisionKind.AMENDMENT)
    _update(uow, plan.id, 1, world.paper("30 rim"))  # 1,500,000: within the 2,000,000 ceiling
    plan = _through(uow, plan.id)
    assert (plan.total, plan.approved_total, plan.revision) == (1_500_000, 1_500_000, 1)
    _revise(uow, plan.id, RevisionKind.AMENDMENT)
    _update(uow, plan.id, 1, world.paper("50 rim"))  # 2,500,000
    with pytest.raises(FailedPrecondition, match="above the sub-activity ceiling of Rp2,000,000"):
        budget.submit_budget_plan(T(plan.id), uow=uow, actor=world.HEAD, request_id="r")


def test_a_revised_line_keeps_what_its_spps_committed(uow: FakeUnitOfWork, dpa: str) -> None:
    spd = _spd(uow, dpa)
    _spp(uow, dpa, spd, amount=400_000, line=1)
    plan = _revise(uow, dpa, RevisionKind.SHIFT)
    with pytest.raises(
        FailedPrecondition, match=r"line 1 .* cannot be lowered to Rp350,000: SPPs have committed Rp400,000"
    ):
        _update(uow, dpa, 1, world.paper("7 rim"))
    with pytest.raises(FailedPrecondition, match=r"line 1 .* cannot be removed"):
        budget.remove_budget_line(budget.RemoveBudgetLine(dpa, None, 1), uow=uow, actor=world.PLANNER, request_id="r")
    _update(uow, dpa, 1, world.paper("8 rim"))  # 400,000: exactly what is committed
    budget.remove_budget_line(budget.RemoveBudgetLine(dpa, None, 2), uow=uow, actor=world.PLANNER, request_id="r")
    assert uow.plans.get(dpa).total == 400_000  # type: ignore[union-attr]
    assert plan.revision == 1


def test_who_may_revise_and_what_a_revision_needs(uow: FakeUnitOfWork) -> None:
    plan_id = _approved(uow)
    for who in (world.PLANNER, world.HEAD):
        with pytest.raises(PermissionDenied):
            _revise(uow, plan_id, RevisionKind.SHIFT, actor=who)
    with pytest.raises(InvalidArgument) as info:
        budget.revise_budget_plan(
            budget.ReviseBudgetPlan(plan_id, RevisionKind.SHIFT, " "), uow=uow, actor=world.TAPD, request_id="r"
        )
    assert [v.field for v in info.value.violations] == ["reason"]
    _revise(uow, plan_id, RevisionKind.SHIFT, actor=world.ADMIN)
    with pytest.raises(FailedPrecondition, match="is draft; revise is allowed only when it is approved"):
        _revise(uow, plan_id, RevisionKind.AMENDMENT)


def test_plans_are_listed_by_agency_and_sub_activity_with_filters_and_keyset_pages(uow: FakeUnitOfWork) -> None:
    world.ceilings(uow)
    first = world.new_plan(uow)
    second = world.new_plan(uow, world.SUB_2)
    other = budget.create_budget_plan(
        budget.CreateBudgetPlan("33", world.OTHER_AGENCY, world.SUB, world.YEAR),
        uow=uow,
        actor=world.ADMIN,
        request_id="r",
    )
    world.add(uow, first.id, world.paper())
    budget.submit_budget_plan(T(first.id), uow=uow, actor=world.HEAD, request_id="r")

    def ids(page: Page = Page(), **filters: object) -> tuple[list[str], str]:
        args = {"agency_code": "", "fiscal_year": 0, "state": None} | filters
        items, token = budget.list_budget_plans(
            "33",
            args["agency_code"],
            args["fiscal_year"],
            args["state"],
            page,
            uow=uow,
            actor=filters.get("actor", world.TAPD),  # type: ignore[arg-type]
        )
        return [p.id for p in items], token

    assert ids()[0] == [first.id, second.id, other.id]
    assert ids(state=PlanState.SUBMITTED)[0] == [first.id]
    assert ids(agency_code=world.OTHER_AGENCY)[0] == [other.id]
    assert ids(fiscal_year=world.YEAR + 1)[0] == []
    page_one, token = ids(Page(size=2))
    page_two, last = ids(Page(size=2, token=token))
    assert (page_one, page_two, last) == ([first.id, second.id], [other.id], "")
    # An officer of one agency sees that agency's plans only, and may not ask for another's.
    assert ids(actor=world.PLANNER)[0] == [first.id, second.id]
    with pytest.raises(PermissionDenied):
        ids(actor=world.PLANNER, agency_code=world.OTHER_AGENCY)
    listed = budget.list_budget_plans("33", "", 0, PlanState.SUBMITTED, Page(), uow=uow, actor=world.TAPD)[0][0]
    assert (listed.line_count, listed.total, listed.version) == (1, 500_000, 3)
    stranger = Identity(sub="x", roles=frozenset({Role.TAPD}), government="33.74")
    with pytest.raises(PermissionDenied):
        budget.list_budget_plans("33", "", 0, None, Page(), uow=uow, actor=stranger)
    with pytest.raises(InvalidArgument):
        budget.list_budget_plans("33", "", 0, None, Page(token="bm9wZQ"), uow=uow, actor=world.TAPD)


def test_submission_needs_an_output_indicator_from_planning(uow: FakeUnitOfWork) -> None:
    world.ceilings(uow)
    uow.planned.rows.clear()
    plan = world.new_plan(uow)
    world.add(uow, plan.id, world.paper())
    with pytest.raises(FailedPrecondition, match=f"sub-activity {world.SUB} of agency {world.AGENCY} has no output"):
        budget.submit_budget_plan(T(plan.id), uow=uow, actor=world.HEAD, request_id="r")
    outcome_only: tuple[OutputIndicator, ...] = ()
    assert world.planned(uow, world.AGENCY, world.SUB, outcome_only, version=2)
    with pytest.raises(FailedPrecondition, match="no output indicator with a target and unit"):
        budget.submit_budget_plan(T(plan.id), uow=uow, actor=world.HEAD, request_id="r")
    assert world.planned(uow, world.AGENCY, world.SUB, (OutputIndicator("Jumlah dokumen", "3", "dokumen"),), version=3)
    assert not world.planned(uow, world.AGENCY, world.SUB, outcome_only, version=2)  # an older event changes nothing
    submitted = budget.submit_budget_plan(T(plan.id), uow=uow, actor=world.HEAD, request_id="r")
    assert submitted.state is PlanState.SUBMITTED
    _, outputs = budget.get_budget_plan_outputs(plan.id, uow=uow, actor=world.PLANNER)
    assert outputs == ["Jumlah dokumen: 3 dokumen"]


def test_approved_plans_load_checked_with_snapshots_and_are_skipped_the_second_time(uow: FakeUnitOfWork) -> None:
    world.ceilings(uow)
    budget.set_ceiling(
        budget.SetCeiling("33", world.YEAR, world.AGENCY, world.SUB_2, 1_000_000, False), uow=uow, actor=world.TAPD
    )
    good = budget.ApprovedPlanInput(world.AGENCY, world.SUB, [world.paper(), world.snack()], [800_000] + [0] * 11)
    second = budget.ApprovedPlanInput(world.AGENCY, world.SUB_2, [world.paper("2 rim")], [])
    cmd = budget.LoadApprovedPlans("33", world.YEAR, [good, second])
    with pytest.raises(PermissionDenied):
        budget.load_approved_plans(cmd, uow=uow, actor=world.TAPD, request_id="r")
    assert budget.load_approved_plans(cmd, uow=uow, actor=world.ADMIN, request_id="r") == (2, 0, 3)
    [listed, _] = budget.list_budget_plans("33", "", world.YEAR, PlanState.APPROVED, Page(), uow=uow, actor=world.TAPD)[
        0
    ]
    assert (listed.total, listed.approved_total, listed.line_count) == (800_000, 800_000, 2)
    versions = budget.list_budget_plan_versions(listed.id, uow=uow, actor=world.TAPD)
    assert [v.action for v in versions] == ["submit", "verify", "approve"]
    assert verify_chain(uow.plans.chains[listed.id]) is None
    assert [type(e).__name__ for e in uow.published] == ["BudgetPlanSubmitted", "BudgetPlanApproved"] * 2
    assert uow.treasury.cash_plans(listed.id)[0].months[0] == 800_000
    assert budget.load_approved_plans(cmd, uow=uow, actor=world.ADMIN, request_id="r") == (0, 2, 0)


def test_a_bad_loaded_plan_names_its_line_and_nothing_is_written(uow: FakeUnitOfWork) -> None:
    world.ceilings(uow, sub=600_000)
    over_price = budget.ApprovedPlanInput(world.AGENCY, world.SUB, [world.paper(price=60_000)], [])
    with pytest.raises(InvalidArgument) as info:
        budget.load_approved_plans(
            budget.LoadApprovedPlans("33", world.YEAR, [over_price]), uow=uow, actor=world.ADMIN, request_id="r"
        )
    assert [v.field for v in info.value.violations] == ["plans[0].lines[1].unit_price"]
    over_ceiling = budget.ApprovedPlanInput(world.AGENCY, world.SUB, [world.paper("20 rim")], [])
    with pytest.raises(FailedPrecondition, match="above the sub-activity ceiling"):
        budget.load_approved_plans(
            budget.LoadApprovedPlans("33", world.YEAR, [over_ceiling]), uow=uow, actor=world.ADMIN, request_id="r"
        )
    bad_cash = budget.ApprovedPlanInput(world.AGENCY, world.SUB, [world.paper()], [1] * 12)
    with pytest.raises(InvalidArgument) as cash:
        budget.load_approved_plans(
            budget.LoadApprovedPlans("33", world.YEAR, [bad_cash]), uow=uow, actor=world.ADMIN, request_id="r"
        )
    assert cash.value.violations[0].field == "plans[0].cash_plan.months"


def test_a_loaded_dpa_is_realised_month_by_month_by_sp2ds_within_its_cash_plan(uow: FakeUnitOfWork) -> None:
    from grms_budgeting.domain.treasury import FundsDisbursed, PaymentKind, PaymentState

    world.ceilings(uow)
    cash = [100_000, 0, 0, 200_000, 0, 0, 0, 0, 0, 0, 0, 500_000]
    paid = [50_000, 0, 0, 200_000, 0, 0, 0, 0, 0, 0, 0, 450_000]  # line 1 is Rp500,000, line 2 Rp300,000
    plan = budget.ApprovedPlanInput(world.AGENCY, world.SUB, [world.paper(), world.snack()], cash, paid)
    budget.load_approved_plans(
        budget.LoadApprovedPlans("33", world.YEAR, [plan]), uow=uow, actor=world.ADMIN, request_id="r"
    )
    requests = sorted(uow.treasury.requests.values(), key=lambda r: r.number)
    assert [(r.line_number, r.amount, r.state, r.kind) for r in requests] == [
        (1, 50_000, PaymentState.DISBURSED, PaymentKind.LS_BARANG_JASA),
        (1, 200_000, PaymentState.DISBURSED, PaymentKind.LS_BARANG_JASA),
        (1, 250_000, PaymentState.DISBURSED, PaymentKind.LS_BARANG_JASA),
        (2, 200_000, PaymentState.DISBURSED, PaymentKind.LS_BARANG_JASA),
    ]
    assert requests[0].number == f"0001/SPP/LS/{world.AGENCY}/01/{world.YEAR}"
    assert requests[-1].sp2d_number == f"0004/SP2D/LS/{world.AGENCY}/12/{world.YEAR}"
    events = [e for e in uow.published if isinstance(e, FundsDisbursed)]
    assert sum(e.amount for e in events) == 700_000 and events[0].disbursed_at.month == 1
    plan_id = requests[0].plan_id
    assert [_balance(uow, plan_id, n)[1:] for n in (1, 2)] == [(500_000, 500_000), (200_000, 200_000)]
    ahead = budget.ApprovedPlanInput(
        world.AGENCY, world.SUB_2, [world.paper("2 rim")], [100_000] + [0] * 11, [0, 100_000] + [0] * 10
    )
    budget.set_ceiling(
        budget.SetCeiling("33", world.YEAR, world.AGENCY, world.SUB_2, 1_000_000, False), uow=uow, actor=world.TAPD
    )
    ok = budget.load_approved_plans(
        budget.LoadApprovedPlans("33", world.YEAR, [ahead]), uow=uow, actor=world.ADMIN, request_id="r"
    )
    assert ok == (1, 0, 1)
    early = budget.ApprovedPlanInput(
        world.AGENCY, world.SUB_2, [world.paper("2 rim")], [0, 100_000] + [0] * 10, [100_000] + [0] * 11
    )
    uow.plans.rows.clear()
    with pytest.raises(FailedPrecondition, match="through month 1, above its cash plan"):
        budget.load_approved_plans(
            budget.LoadApprovedPlans("33", world.YEAR, [early]), uow=uow, actor=world.ADMIN, request_id="r"
        )


# ---- the DPA in force while a revision is drafted ------------------------------------------------


def _pay(uow: FakeUnitOfWork, plan_id: str, spd: str, amount: int, line: int = 1):  # type: ignore[no-untyped-def]
    """SPP → SPM → SP2D of `amount` on a line."""
    from .test_treasury import BUD

    spp = _spp(uow, plan_id, spd, amount=amount, line=line)
    treasury.order_payment(treasury.PaymentStep(spp.id), uow=uow, actor=world.HEAD)
    return treasury.disburse_payment(treasury.PaymentStep(spp.id), uow=uow, actor=BUD)


def _cash(uow: FakeUnitOfWork, plan_id: str, months: list[int], line: int = 0):  # type: ignore[no-untyped-def]
    return treasury.set_cash_plan(treasury.SetCashPlan(plan_id, line, months), uow=uow, actor=world.HEAD)


def test_the_approved_dpa_stays_executable_while_its_revision_is_drafted(uow: FakeUnitOfWork, dpa: str) -> None:
    from .test_treasury import BUD, DELIVERY, VENDOR

    spd = _spd(uow, dpa)  # Rp600,000 through January
    _revise(uow, dpa, RevisionKind.AMENDMENT)
    _update(uow, dpa, 1, world.paper("5 rim"))  # the draft lowers line 1 to Rp250,000; the DPA still says 500,000
    world.add(uow, dpa, world.paper("2 rim"))  # line 3: only in the draft
    paid = _pay(uow, dpa, spd, 400_000)  # above the draft's 250,000, within the DPA's 500,000
    assert paid.state.value == "disbursed" and _balance(uow, dpa, 1) == (500_000, 400_000, 400_000)
    assert uow.published[-1].account_code == normalize_account_code(world.ATK)[0]  # type: ignore[attr-defined]
    with pytest.raises(FailedPrecondition, match="DPA line 1 has Rp100,000 left of Rp500,000"):
        _spp(uow, dpa, spd, amount=150_000)
    with pytest.raises(InvalidArgument) as new_line:
        _spp(uow, dpa, spd, amount=10_000, line=3)
    assert new_line.value.violations[0].field == "line_number"
    contract = treasury.RequestContractPayment(
        "delivery-term-0001", dpa, 2, spd, 150_000, "Termin 1", VENDOR, "001/KONTRAK/2026"
    )  # delivery's LS payment API spends the DPA in force too
    assert treasury.request_contract_payment(contract, uow=uow, actor=DELIVERY).amount == 150_000
    december = treasury.CreateSpendingAllotment(dpa, 2, 12, 200_000)  # within the cash plan in force
    assert treasury.create_spending_allotment(december, uow=uow, actor=BUD).amount == 200_000
    # The draft cannot take effect below what was committed meanwhile; nothing changes when refused.
    budget.submit_budget_plan(T(dpa), uow=uow, actor=world.HEAD, request_id="r")
    budget.verify_budget_plan(T(dpa), uow=uow, actor=world.TAPD, request_id="r")
    with pytest.raises(FailedPrecondition, match=r"line 1 would be Rp250,000 but SPPs have committed Rp400,000"):
        budget.approve_budget_plan(T(dpa), uow=uow, actor=world.TAPD, request_id="r")
    plan = uow.plans.get(dpa)
    assert plan is not None and plan.state is PlanState.VERIFIED and _balance(uow, dpa, 1)[0] == 500_000


def test_an_approved_revision_becomes_the_dpa_in_force_with_its_cash_plan(uow: FakeUnitOfWork, dpa: str) -> None:
    spd = _spd(uow, dpa)  # Rp600,000 through January; the cash plan: 600,000 in January, 200,000 in December
    _pay(uow, dpa, spd, 300_000)  # an SP2D of 300,000 in January
    _revise(uow, dpa, RevisionKind.AMENDMENT)
    _update(uow, dpa, 1, world.paper("12 rim"))  # line 1: 500,000 → 600,000; the plan 800,000 → 900,000
    world.add(uow, dpa, world.paper("1 rim"))  # line 3: 50,000 → 950,000
    budget.remove_budget_line(budget.RemoveBudgetLine(dpa, None, 3), uow=uow, actor=world.PLANNER, request_id="r")
    with pytest.raises(
        FailedPrecondition, match=r"the plan adds up to Rp800,000, not the revised Rp900,000 \(Rp100,000 "
    ):
        _through(uow, dpa)
    budget.return_budget_plan(
        budget.ReturnBudgetPlan(dpa, "Anggaran kas menyusul", {}), uow=uow, actor=world.TAPD, request_id="r"
    )
    with pytest.raises(FailedPrecondition, match=r"month 1 of the plan: Rp200,000 is below the Rp300,000"):
        _cash(uow, dpa, _months(900_000, first=200_000))
    with pytest.raises(InvalidArgument):  # the proposal adds up to the revised total, not the old one
        _cash(uow, dpa, _months(800_000, first=600_000))
    proposed = _cash(uow, dpa, _months(900_000, first=500_000))  # covers January's SP2D, not January's SPD
    assert ([(c.line_number, sum(c.months)) for c in proposed[0]], proposed[1]) == ([(0, 900_000)], True)
    assert uow.treasury.cash_plans(dpa)[0].months[0] == 600_000  # the cash plan in force is untouched
    with pytest.raises(FailedPrecondition, match=r"SPDs through month 1 would total Rp600,000, above the cash plan's"):
        _through(uow, dpa)
    budget.return_budget_plan(
        budget.ReturnBudgetPlan(dpa, "SPD Januari", {}), uow=uow, actor=world.TAPD, request_id="r"
    )
    _cash(uow, dpa, _months(900_000, first=650_000))
    plan = _through(uow, dpa)
    assert (plan.state, plan.approved_total) == (PlanState.APPROVED, 900_000)
    assert [(c.line_number, c.months[0], c.months[-1]) for c in uow.treasury.cash_plans(dpa)] == [(0, 650_000, 250_000)]
    assert uow.treasury.proposed_cash_plans(dpa) == []
    assert [(x.number, x.amount) for x in uow.treasury.dpa_lines(dpa)] == [(1, 600_000), (2, 300_000)]
    assert _balance(uow, dpa, 1) == (600_000, 300_000, 300_000)


def test_line_cash_plans_follow_their_revised_lines_and_removed_lines_drop_theirs(uow: FakeUnitOfWork) -> None:
    plan_id = _approved(uow)  # line 1: 500,000; line 2: 300,000
    _cash(uow, plan_id, _months(500_000, first=100_000), line=1)
    _cash(uow, plan_id, _months(300_000, first=100_000), line=2)
    _revise(uow, plan_id, RevisionKind.SHIFT)
    _update(uow, plan_id, 1, world.paper("16 rim"))  # 800,000: all of the DPA
    budget.remove_budget_line(budget.RemoveBudgetLine(plan_id, None, 2), uow=uow, actor=world.PLANNER, request_id="r")
    with pytest.raises(
        FailedPrecondition, match=r"cash plan of line 1 adds up to Rp500,000, not the revised Rp800,000"
    ):
        _through(uow, plan_id)
    budget.return_budget_plan(budget.ReturnBudgetPlan(plan_id, "Kas", {}), uow=uow, actor=world.TAPD, request_id="r")
    _cash(uow, plan_id, _months(800_000, first=200_000), line=1)
    _through(uow, plan_id)
    assert [(c.line_number, sum(c.months)) for c in uow.treasury.cash_plans(plan_id)] == [(1, 800_000)]
    assert [x.number for x in uow.treasury.dpa_lines(plan_id)] == [1]


def test_the_commitment_and_cash_rules_of_a_revision() -> None:
    import datetime as dt

    from grms_budgeting.domain.treasury import (
        CashPlan,
        DpaLine,
        check_commitments,
        check_disbursed_months,
        monthly_disbursements,
        revised_cash_plans,
    )

    lines = [DpaLine(1, "a", 500, 400, 100), DpaLine(2, "b", 300, 0, 0), DpaLine(3, "c", 200, 50, 0)]
    check_commitments({1: 400, 3: 50}, lines)  # exactly what is committed; line 2 removed with nothing on it
    with pytest.raises(FailedPrecondition, match=r"line 1 would be Rp399 .*; line 3 would be removed but SPPs"):
        check_commitments({1: 399, 2: 300}, lines)
    in_force = [CashPlan("p", n, (amount,) + (0,) * 11) for n, amount in ((0, 800), (1, 500), (2, 300))]
    proposed = [CashPlan("p", 1, (600,) + (0,) * 11)]
    kept = revised_cash_plans(in_force, proposed, {1: 600, 3: 200}, plan_id="p")  # line 2 removed
    assert [(c.line_number, c.months[0]) for c in kept] == [(0, 800), (1, 600)]
    with pytest.raises(FailedPrecondition, match=r"the plan adds up to Rp800, not the revised Rp900 \(Rp100 short\)"):
        revised_cash_plans(in_force, proposed, {1: 600, 3: 300}, plan_id="p")
    with pytest.raises(FailedPrecondition, match=r"line 1 adds up to Rp600, not the revised Rp500 \(Rp100 over\)"):
        revised_cash_plans(in_force, proposed, {1: 500, 3: 300}, plan_id="p")
    utc = dt.UTC
    paid = monthly_disbursements(
        [(1, 70, dt.datetime(2026, 1, 31, 16, 59, tzinfo=utc)), (1, 30, dt.datetime(2026, 1, 31, 17, 0, tzinfo=utc)),
         (2, 5, dt.datetime(2026, 2, 3, tzinfo=utc))]
    )  # fmt: skip
    assert paid[1][:2] == (70, 30) and paid[2][1] == 5  # 17:00 UTC on 31 January is 1 February in WIB
    check_disbursed_months([CashPlan("p", 1, (70, 30) + (0,) * 10), CashPlan("p", 0, (70, 35) + (0,) * 10)], paid)
    with pytest.raises(FailedPrecondition, match=r"month 2 of the plan: Rp34 is below the Rp35"):
        check_disbursed_months([CashPlan("p", 0, (100, 34) + (0,) * 10)], paid)
