"""e-budgeting rules and workflow, run for real on in-memory fakes: codes, prices, ceilings, plans, audit."""

from __future__ import annotations

import dataclasses

import pytest
from grms_budgeting.domain.audit import GENESIS_HASH, AuditEntry, entry_hash, verify_chain
from grms_budgeting.domain.budget import (
    TRANSITIONS,
    BudgetPlanApproved,
    BudgetPlanReturned,
    BudgetPlanSubmitted,
    PlanState,
    RevisionKind,
    VolumeFactor,
    diff_snapshots,
    parse_volume,
)
from grms_budgeting.domain.codes import NomenclatureLevel, normalize_account_code, parse_nomenclature_code
from grms_budgeting.service_layer import budget
from grms_kit.errors import AlreadyExists, Conflict, FailedPrecondition, InvalidArgument, PermissionDenied
from grms_kit.paging import Page

from .fakes import FakeUnitOfWork
from .world import (
    ADMIN,
    AGENCY,
    ATK,
    HEAD,
    OTHER_HEAD,
    PLANNER,
    SALARY,
    SUB,
    SUB_2,
    TAPD,
    YEAR,
    add,
    build,
    ceilings,
    new_plan,
    paper,
    snack,
)


@pytest.fixture
def uow() -> FakeUnitOfWork:
    return build()


def fields(exc: InvalidArgument) -> list[str]:
    return [v.field for v in exc.violations]


# ---- volume, codes ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "factors"),
    [
        ("10 orang × 2 kali", [(10, "orang"), (2, "kali")]),
        ("10 Orang x 2 Kali", [(10, "Orang"), (2, "Kali")]),
        ("5 box X 3 bulan * 2 paket", [(5, "box"), (3, "bulan"), (2, "paket")]),
        ("1.000 lembar", [(1000, "lembar")]),
        ("12", [(12, "")]),
    ],
)
def test_volumes_parse_into_factors(text: str, factors: list[tuple[int, str]]) -> None:
    assert parse_volume(text, "v") == tuple(VolumeFactor(q, u) for q, u in factors)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("0 orang", "must be positive"),
        ("10 orang x 0 kali", "factor 2"),
        ("-5 orang", "positive whole number"),
        ("1,5 m3", "positive whole number"),
        ("orang", "positive whole number"),
        ("", "must say the volume"),
        ("1 a x 2 b x 3 c x 4 d x 5 e", "at most 4"),
    ],
)
def test_bad_volumes_are_refused(text: str, message: str) -> None:
    with pytest.raises(InvalidArgument, match=message) as info:
        parse_volume(text, "lines[3].volume")
    assert fields(info.value) == ["lines[3].volume"]


@pytest.mark.parametrize(
    ("given", "canonical", "display"),
    [
        ("5.1.02.01.01.0024", "5.1.02.01.001.00024", "5.1.02.01.01.0024"),
        ("5.1.02.01.001.00024", "5.1.02.01.001.00024", "5.1.02.01.01.0024"),
        (" 5.1.02.01.101.00024 ", "5.1.02.01.101.00024", "5.1.02.01.101.00024"),
        ("5.1.02", "5.1.02", "5.1.02"),
        ("5.1.02.01.01", "5.1.02.01.001", "5.1.02.01.01"),
        ("5", "5", "5"),
    ],
)
def test_account_codes_normalise_to_the_wide_form(given: str, canonical: str, display: str) -> None:
    assert normalize_account_code(given) == (canonical, display)


@pytest.mark.parametrize("bad", ["5.1.2", "5.1.02.01.01.024", "5..02", "5.1.02.01.0001.00024", "A.1", "51.02"])
def test_malformed_account_codes_are_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="account code like"):
        normalize_account_code(bad)


@pytest.mark.parametrize(
    ("code", "level", "parent"),
    [
        ("1", NomenclatureLevel.AFFAIR, ""),
        ("1.02", NomenclatureLevel.SECTOR, "1"),
        ("1.02.02", NomenclatureLevel.PROGRAM, "1.02"),
        ("1.02.02.2.01", NomenclatureLevel.ACTIVITY, "1.02.02"),
        ("1.02.02.2.01.0001", NomenclatureLevel.SUB_ACTIVITY, "1.02.02.2.01"),
    ],
)
def test_nomenclature_levels_follow_the_shape_of_the_code(code: str, level: NomenclatureLevel, parent: str) -> None:
    assert parse_nomenclature_code(code) == (level, parent)


def test_a_code_import_is_all_or_nothing_and_names_every_bad_row(uow: FakeUnitOfWork) -> None:
    from .world import nomenclature_rows

    rows = nomenclature_rows()
    rows = [
        dataclasses.replace(rows[0], code="2.22"),  # parent 2 neither stored nor imported
        dataclasses.replace(rows[0], code="3.01.01.2.1"),  # malformed
        dataclasses.replace(rows[0], code="1.02.02.2.01.0009", name="x"),  # name too short
        dataclasses.replace(rows[0], code="1.02.02.2.01.0010"),  # fine
        dataclasses.replace(rows[0], code="1.02"),  # already imported for 2026
    ]
    with pytest.raises(InvalidArgument) as info:
        budget.import_nomenclature(YEAR, rows, uow=uow, actor=ADMIN)
    assert fields(info.value) == ["codes[0].code", "codes[1].code", "codes[2].name", "codes[4].code"]
    assert uow.nomenclature.get(YEAR, "1.02.02.2.01.0010") is None
    with pytest.raises(InvalidArgument) as accounts:
        budget.import_account_codes(
            YEAR, [("5.1.02.01.01.0099", "Belanja Lain"), ("9.9.9", "Rusak")], uow=uow, actor=ADMIN
        )
    assert fields(accounts.value) == ["accounts[1].code"]
    assert uow.accounts.get_many(YEAR, {"5.1.02.01.001.00099"}) == {}
    with pytest.raises(PermissionDenied):
        budget.import_account_codes(YEAR, [("6", "PEMBIAYAAN")], uow=uow, actor=TAPD)


# ---- standard prices ---------------------------------------------------------------------------


def test_a_standard_price_needs_known_expenditure_accounts(uow: FakeUnitOfWork) -> None:
    with pytest.raises(InvalidArgument) as info:
        budget.create_standard_price(
            budget.CreateStandardPrice(
                "33", YEAR, budget.PriceGroup.SSH, "X-1", "Map", "", "buah", 0, ["5.1.02", "7.x"]
            ),
            uow=uow,
            actor=TAPD,
        )
    assert fields(info.value) == ["price", "account_codes[0]", "account_codes[1]"]
    with pytest.raises(AlreadyExists):
        budget.create_standard_price(
            budget.CreateStandardPrice(
                "33", YEAR, budget.PriceGroup.SSH, "SBU-MAMIN-01", "Kudapan", "", "OK", 1, [ATK]
            ),
            uow=uow,
            actor=TAPD,
        )


def test_search_standard_prices_by_words_and_account(uow: FakeUnitOfWork) -> None:
    items, _ = budget.search_standard_prices("33", YEAR, "hvs A4", "", Page(), uow=uow)
    assert [p.code for p in items] == ["1.1.12.01.03.0005"]
    items, _ = budget.search_standard_prices("33", YEAR, "", "5.1.02.01.001.00052", Page(), uow=uow)
    assert [p.code for p in items] == ["SBU-MAMIN-01"]
    with pytest.raises(InvalidArgument):
        budget.search_standard_prices("33", YEAR, "", "5.x", Page(), uow=uow)


# ---- lines ----------------------------------------------------------------------------------


def test_a_line_amount_is_volume_times_unit_price_in_whole_rupiah(uow: FakeUnitOfWork) -> None:
    plan = new_plan(uow)
    plan = add(uow, plan.id, snack("10 orang x 2 kali", 15_000), version=1)
    line = plan.lines[1]
    assert (line.amount, plan.total, plan.version) == (300_000, 300_000, 2)
    assert line.account_code == "5.1.02.01.001.00052"


def test_a_unit_price_above_the_standard_price_is_refused_naming_the_line(uow: FakeUnitOfWork) -> None:
    plan = new_plan(uow)
    add(uow, plan.id, paper())
    add(uow, plan.id, paper())
    with pytest.raises(InvalidArgument, match="above the standard price Rp55,000") as info:
        add(uow, plan.id, paper(price=55_001))
    assert fields(info.value) == ["lines[3].unit_price"]
    assert len(uow.plans.get(plan.id).lines) == 2  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"account_code": "5.1.02.01.01.9999"}, "lines[1].account_code"),  # unknown for the year
        ({"account_code": "5.1.02"}, "lines[1].account_code"),  # not six levels
        ({"account_code": "5.1.02.01.01.0052"}, "lines[1].account_code"),  # item not allowed on that account
        ({"standard_item_code": ""}, "lines[1].standard_item_code"),  # goods need an item
        ({"standard_item_code": "NOPE"}, "lines[1].standard_item_code"),
        ({"unit_price": 0}, "lines[1].unit_price"),
        ({"volume": "0 rim"}, "lines[1].volume"),
        ({"funding_source": ""}, "lines[1].funding_source"),
        ({"unit": ""}, "lines[1].unit"),
    ],
)
def test_line_rules_name_the_line_and_field(uow: FakeUnitOfWork, changes: dict[str, object], field: str) -> None:
    plan = new_plan(uow)
    with pytest.raises(InvalidArgument) as info:
        add(uow, plan.id, paper(**changes))
    assert fields(info.value) == [field]


def test_a_standard_item_is_optional_where_no_price_list_applies(uow: FakeUnitOfWork) -> None:
    plan = new_plan(uow)
    plan = add(uow, plan.id, paper(account_code=SALARY, standard_item_code="", volume="12 bulan", price=4_000_000))
    assert plan.total == 48_000_000


def test_update_and_remove_lines_keep_numbers_stable(uow: FakeUnitOfWork) -> None:
    plan = new_plan(uow)
    add(uow, plan.id, paper())
    add(uow, plan.id, snack())
    plan = budget.remove_budget_line(budget.RemoveBudgetLine(plan.id, 3, 1), uow=uow, actor=PLANNER, request_id="r")
    plan = add(uow, plan.id, paper("2 rim"))
    assert sorted(plan.lines) == [2, 3]
    plan = budget.update_budget_line(
        budget.UpdateBudgetLine(plan.id, plan.version, 3, paper("4 rim")), uow=uow, actor=PLANNER, request_id="r"
    )
    assert plan.lines[3].amount == 200_000
    with pytest.raises(InvalidArgument, match="no line 1"):
        budget.remove_budget_line(budget.RemoveBudgetLine(plan.id, None, 1), uow=uow, actor=PLANNER, request_id="r")


def test_a_stale_expected_version_is_a_conflict(uow: FakeUnitOfWork) -> None:
    plan = new_plan(uow)
    add(uow, plan.id, paper(), version=1)
    with pytest.raises(Conflict, match="version 2, not 1"):
        add(uow, plan.id, paper(), version=1)


def test_a_locked_ceiling_freezes_the_lines_and_its_amount(uow: FakeUnitOfWork) -> None:
    plan = new_plan(uow)
    budget.set_ceiling(budget.SetCeiling("33", YEAR, AGENCY, SUB, 1_000_000, True), uow=uow, actor=TAPD)
    with pytest.raises(FailedPrecondition, match="locked"):
        add(uow, plan.id, paper())
    with pytest.raises(FailedPrecondition, match="unlock it"):
        budget.set_ceiling(budget.SetCeiling("33", YEAR, AGENCY, SUB, 2_000_000, True), uow=uow, actor=TAPD)
    budget.set_ceiling(budget.SetCeiling("33", YEAR, AGENCY, SUB, 1_000_000, False), uow=uow, actor=TAPD)
    assert add(uow, plan.id, paper()).total == 500_000


def test_plans_are_only_made_on_sub_activities_allowed_for_the_government(uow: FakeUnitOfWork) -> None:
    for code, message in (("1.02.02.2.01", "only sub-activities"), ("1.02.02.2.01.0002", "not for a province")):
        with pytest.raises(InvalidArgument, match=message):
            new_plan(uow, code)
    new_plan(uow)
    with pytest.raises(AlreadyExists):
        new_plan(uow)
    with pytest.raises(PermissionDenied):
        budget.create_budget_plan(
            budget.CreateBudgetPlan("33", AGENCY, SUB_2, YEAR), uow=uow, actor=OTHER_HEAD, request_id="r"
        )


# ---- workflow -------------------------------------------------------------------------------


def submitted(uow: FakeUnitOfWork):  # type: ignore[no-untyped-def]
    ceilings(uow)
    plan = new_plan(uow)
    add(uow, plan.id, paper())
    add(uow, plan.id, snack())
    return budget.submit_budget_plan(budget.PlanTransition(plan.id), uow=uow, actor=HEAD, request_id="r-submit")


def test_draft_to_approved_with_snapshots_and_events(uow: FakeUnitOfWork) -> None:
    plan = submitted(uow)
    assert (plan.state, plan.version) == (PlanState.SUBMITTED, 4)
    plan = budget.verify_budget_plan(budget.PlanTransition(plan.id, 4), uow=uow, actor=TAPD, request_id="r")
    plan = budget.approve_budget_plan(budget.PlanTransition(plan.id), uow=uow, actor=TAPD, request_id="r")
    assert plan.state is PlanState.APPROVED
    versions = budget.list_budget_plan_versions(plan.id, uow=uow, actor=TAPD)
    assert [(v.version, v.state, v.action) for v in versions] == [
        (4, PlanState.SUBMITTED, "submit"),
        (5, PlanState.VERIFIED, "verify"),
        (6, PlanState.APPROVED, "approve"),
    ]
    assert versions[-1].content["lines"][1]["amount"] == 300_000
    events = uow.published
    assert [type(e) for e in events] == [BudgetPlanSubmitted, BudgetPlanApproved]
    approved = events[-1].plan  # type: ignore[attr-defined]
    assert (approved.version, approved.total, approved.line_count, approved.sub_activity_code) == (6, 800_000, 2, SUB)
    with pytest.raises(FailedPrecondition, match="is approved"):
        add(uow, plan.id, paper())


@pytest.mark.parametrize(
    ("state", "action"),
    [(state, action) for action, (sources, _) in TRANSITIONS.items() for state in PlanState if state not in sources],
)
def test_forbidden_transitions_name_the_state(uow: FakeUnitOfWork, state: PlanState, action: str) -> None:
    plan = add(uow, new_plan(uow).id, paper())
    plan.state = state
    now = uow.clock.now()
    do = {
        "submit": lambda: plan.submit(expected_version=None, actor="a", now=now),
        "verify": lambda: plan.verify(expected_version=None, actor="a", now=now),
        "return": lambda: plan.return_for_rework("periksa", {}, expected_version=None, actor="a", now=now),
        "approve": lambda: plan.approve(expected_version=None, actor="a", now=now),
        "revise": lambda: plan.revise(RevisionKind.SHIFT, "pergeseran", expected_version=None, actor="a", now=now),
    }[action]
    with pytest.raises(FailedPrecondition, match=f"is {state.value}; {action} is allowed only when"):
        do()
    assert plan.state is state and not plan.snapshots and not plan.events and plan.version == 2


@pytest.mark.parametrize(
    ("who", "step"),
    [
        (PLANNER, "submit"),
        (TAPD, "submit"),
        (OTHER_HEAD, "submit"),
        (HEAD, "verify"),
        (ADMIN, "verify"),
        (HEAD, "return"),
        (HEAD, "approve"),
        (PLANNER, "approve"),
    ],
)
def test_each_step_needs_its_role(uow: FakeUnitOfWork, who, step: str) -> None:  # type: ignore[no-untyped-def]
    ceilings(uow)
    plan = new_plan(uow)
    add(uow, plan.id, paper())
    cmd = budget.PlanTransition(plan.id)
    use_case = {
        "submit": budget.submit_budget_plan,
        "verify": budget.verify_budget_plan,
        "approve": budget.approve_budget_plan,
    }.get(step)
    with pytest.raises(PermissionDenied):
        if use_case is None:
            budget.return_budget_plan(budget.ReturnBudgetPlan(plan.id, "cek", {}), uow=uow, actor=who, request_id="r")
        else:
            use_case(cmd, uow=uow, actor=who, request_id="r")


def test_over_the_sub_activity_ceiling_cannot_be_submitted(uow: FakeUnitOfWork) -> None:
    ceilings(uow, sub=400_000)
    plan = new_plan(uow)
    add(uow, plan.id, paper())  # 500,000
    with pytest.raises(FailedPrecondition, match="above the sub-activity ceiling of Rp400,000 by Rp100,000"):
        budget.submit_budget_plan(budget.PlanTransition(plan.id), uow=uow, actor=HEAD, request_id="r")
    assert uow.plans.get(plan.id).state is PlanState.DRAFT  # type: ignore[union-attr]
    assert uow.published == []


def test_the_agency_plans_together_cannot_exceed_the_agency_ceiling(uow: FakeUnitOfWork) -> None:
    ceilings(uow, sub=1_000_000, agency=900_000)
    budget.set_ceiling(budget.SetCeiling("33", YEAR, AGENCY, SUB_2, 1_000_000, False), uow=uow, actor=TAPD)
    first, second = new_plan(uow), new_plan(uow, SUB_2)
    add(uow, first.id, paper())  # 500,000
    add(uow, second.id, paper())  # 500,000
    with pytest.raises(FailedPrecondition, match="together total Rp1,000,000, above its ceiling of Rp900,000"):
        budget.submit_budget_plan(budget.PlanTransition(second.id), uow=uow, actor=HEAD, request_id="r")


def test_a_plan_without_ceilings_or_lines_cannot_be_submitted(uow: FakeUnitOfWork) -> None:
    plan = new_plan(uow)
    with pytest.raises(FailedPrecondition, match="no lines"):
        budget.submit_budget_plan(budget.PlanTransition(plan.id), uow=uow, actor=HEAD, request_id="r")
    add(uow, plan.id, paper())
    with pytest.raises(FailedPrecondition, match="no ceiling is set for sub-activity"):
        budget.submit_budget_plan(budget.PlanTransition(plan.id), uow=uow, actor=HEAD, request_id="r")


def test_a_standard_price_lowered_after_entry_stops_the_submission(uow: FakeUnitOfWork) -> None:
    ceilings(uow)
    plan = new_plan(uow)
    add(uow, plan.id, paper(price=55_000))
    key = ("33", YEAR, "1.1.12.01.03.0005")
    uow.prices.rows[key] = dataclasses.replace(uow.prices.rows[key], price=54_000)
    with pytest.raises(InvalidArgument) as info:
        budget.submit_budget_plan(budget.PlanTransition(plan.id), uow=uow, actor=HEAD, request_id="r")
    assert fields(info.value) == ["lines[1].unit_price"]


def test_returned_with_line_notes_then_edited_back_to_draft_and_diffed(uow: FakeUnitOfWork) -> None:
    plan = submitted(uow)
    with pytest.raises(InvalidArgument) as bad:
        budget.return_budget_plan(budget.ReturnBudgetPlan(plan.id, "", {9: "?"}), uow=uow, actor=TAPD, request_id="r")
    assert fields(bad.value) == ["notes[9].line_number", "notes[9].note"]
    plan = budget.return_budget_plan(
        budget.ReturnBudgetPlan(plan.id, "Sesuaikan", {2: "Kurangi peserta rapat"}), uow=uow, actor=TAPD, request_id="r"
    )
    assert (plan.state, plan.line_notes) == (PlanState.RETURNED, {2: "Kurangi peserta rapat"})
    assert isinstance(uow.published[-1], BudgetPlanReturned) and uow.published[-1].notes == {2: "Kurangi peserta rapat"}
    plan = budget.update_budget_line(
        budget.UpdateBudgetLine(plan.id, plan.version, 2, snack("5 orang x 2 kali")),
        uow=uow,
        actor=PLANNER,
        request_id="r",
    )
    assert plan.state is PlanState.DRAFT
    plan = add(uow, plan.id, paper("1 rim"))
    plan = budget.submit_budget_plan(budget.PlanTransition(plan.id), uow=uow, actor=HEAD, request_id="r")
    assert plan.line_notes == {} and plan.review_note == ""
    first, second, lines = budget.diff_budget_plan_versions(plan.id, 4, plan.version, uow=uow, actor=TAPD)
    assert (first.total, second.total) == (800_000, 700_000)
    assert [(d.kind, d.number) for d in lines] == [("changed", 2), ("added", 3)]
    changed = {c.field: (c.old, c.new) for c in lines[0].changes}
    assert changed["volume"] == ("10 orang x 2 kali", "5 orang x 2 kali")
    assert changed["amount"] == (300_000, 150_000)
    with pytest.raises(InvalidArgument, match="no snapshot at version 1"):
        budget.diff_budget_plan_versions(plan.id, 1, plan.version, uow=uow, actor=TAPD)


def test_diff_reports_removed_lines_with_their_old_values() -> None:
    old = {"lines": [{"number": 1, "amount": 5}, {"number": 2, "amount": 7}]}
    new = {"lines": [{"number": 2, "amount": 7}]}
    (only,) = diff_snapshots(old, new)
    assert (only.kind, only.number, [(c.field, c.old, c.new) for c in only.changes]) == (
        "removed",
        1,
        [("amount", 5, None), ("number", 1, None)],
    )
    assert diff_snapshots(new, new) == []


# ---- audit chain ------------------------------------------------------------------------------


def test_every_change_is_chained_and_verifies(uow: FakeUnitOfWork) -> None:
    plan = submitted(uow)
    entries, token, broken = budget.list_audit_entries(plan.id, Page(size=2), uow=uow, actor=TAPD)
    assert [e.action for e in entries] == ["create", "add_line"] and token and broken is None
    chain = uow.plans.chains[plan.id]
    assert [e.action for e in chain] == ["create", "add_line", "add_line", "submit"]
    assert [e.seq for e in chain] == [1, 2, 3, 4]
    assert chain[0].prev_hash == GENESIS_HASH and chain[1].prev_hash == chain[0].hash
    assert chain[3].request_id == "r-submit" and chain[3].actor == "kepala" and chain[3].agency_code == AGENCY
    assert chain[3].new == {"state": "submitted"} and chain[3].old == {"state": "draft"}
    assert verify_chain(chain) is None


def _sample_chain() -> list[AuditEntry]:
    uow = build()
    return uow.plans.chains[submitted(uow).id]


@pytest.mark.parametrize(
    ("tamper", "broken"),
    [
        (lambda c: c.__setitem__(2, dataclasses.replace(c[2], new={**c[2].new, "unit_price": 1})), 3),
        (lambda c: c.__setitem__(1, dataclasses.replace(c[1], actor="someone-else")), 2),
        (lambda c: c.pop(1), 3),  # a deleted entry breaks the next link
        (lambda c: c.pop(), None),  # truncating the head is what anchoring the head hash catches
    ],
)
def test_verify_chain_names_the_first_broken_entry(tamper, broken: int | None) -> None:  # type: ignore[no-untyped-def]
    chain = _sample_chain()
    tamper(chain)
    assert verify_chain(chain) == broken


def test_recomputing_one_hash_is_still_caught_at_the_next_link() -> None:
    chain = _sample_chain()
    forged = dataclasses.replace(chain[1], new={"forged": True})
    chain[1] = dataclasses.replace(forged, hash=entry_hash(forged, forged.prev_hash))
    assert verify_chain(chain) == 3
