"""The budget link (approvals kept per plan version) and the citizens' proposal life cycle, without I/O."""

from __future__ import annotations

import datetime as dt

import pytest
from grms_kit.errors import FailedPrecondition, InvalidArgument
from grms_planning.domain.budget_link import ApprovedBudget
from grms_planning.domain.model import SubActivity
from grms_planning.domain.proposal import (
    PUBLIC_ID_PATTERN,
    Proposal,
    ProposalCategory,
    ProposalStatus,
    ProposalStatusChanged,
    new_public_id,
)
from grms_planning.service_layer.budget_link import record_approved_budget

NOW = dt.datetime(2025, 1, 6, 2, 0, tzinfo=dt.UTC)


class FakeBudgets:
    def __init__(self) -> None:
        self.rows: dict[tuple[str, int, str, str], ApprovedBudget] = {}

    def get(self, government_code: str, fiscal_year: int, agency_code: str, code: str) -> ApprovedBudget | None:
        return self.rows.get((government_code, fiscal_year, agency_code, code))

    def put(self, approval: ApprovedBudget, *, replaces: ApprovedBudget | None) -> None:
        key = (approval.government_code, approval.fiscal_year, approval.agency_code, approval.sub_activity_code)
        assert self.rows.get(key) == replaces
        self.rows[key] = approval


def _approval(version: int, amount: int) -> ApprovedBudget:
    return ApprovedBudget("33", "1.02.0.00.0.00.01.0000", "1.02.02.2.01.0001", 2025, amount, "plan-1", version, NOW)


def test_an_approval_applied_twice_changes_nothing_the_second_time() -> None:
    budgets = FakeBudgets()
    assert record_approved_budget(_approval(1, 900), budgets=budgets) is True
    assert record_approved_budget(_approval(1, 900), budgets=budgets) is False
    assert [a.amount for a in budgets.rows.values()] == [900]


@pytest.mark.parametrize("order", [(1, 2, 3), (3, 2, 1), (2, 3, 1), (3, 1, 2)])
def test_approvals_in_any_order_end_at_the_newest_plan_version(order: tuple[int, ...]) -> None:
    budgets = FakeBudgets()
    for version in order:
        record_approved_budget(_approval(version, version * 100), budgets=budgets)
    (kept,) = budgets.rows.values()
    assert (kept.plan_version, kept.amount) == (3, 300)


def _sub_activity(budget: int, approved: int | None) -> SubActivity:
    s = SubActivity.create(
        government_code="33",
        agency_code="1.02.0.00.0.00.01.0000",
        fiscal_year=2025,
        code="1.02.02.2.01.0001",
        name="Pelayanan Kesehatan Ibu Hamil",
        budget=budget,
        now=NOW,
    )
    s.approved_budget = approved
    return s


def test_the_approved_amount_replaces_the_manual_budget_when_there_is_one() -> None:
    assert _sub_activity(1_000, None).effective_budget == 1_000
    assert _sub_activity(1_000, 1_200).effective_budget == 1_200
    assert _sub_activity(1_000, 800).effective_budget == 800


def _proposal() -> Proposal:
    return Proposal.submit(
        government_code="33.74",
        village_code="33.74.01.1001",
        category=ProposalCategory.INFRASTRUCTURE,
        title="Perbaikan jalan kampung",
        description="Jalan kampung berlubang dan tergenang setiap hujan.",
        proposer_name="Siti Aminah",
        proposer_contact="siti@example.org",
        now=NOW,
    )


def test_public_ids_are_random_80_bit_and_readable() -> None:
    ids = {new_public_id() for _ in range(2000)}
    assert len(ids) == 2000
    assert all(PUBLIC_ID_PATTERN.match(i) for i in ids)


def test_a_proposal_moves_submitted_review_accepted_with_public_history() -> None:
    p = _proposal()
    p.review(now=NOW + dt.timedelta(days=1), note="Masuk pembahasan Musrenbang")
    p.accept("sub-1", now=NOW + dt.timedelta(days=2))
    assert p.status == ProposalStatus.ACCEPTED and p.sub_activity_id == "sub-1" and p.version == 3
    assert [c.status for c in p.history] == [
        ProposalStatus.SUBMITTED,
        ProposalStatus.UNDER_REVIEW,
        ProposalStatus.ACCEPTED,
    ]
    assert [type(e) for e in p.events] == [ProposalStatusChanged] * 3
    with pytest.raises(FailedPrecondition):
        p.reject("Terlambat diajukan", now=NOW)


def test_rejection_needs_a_reason_and_acceptance_needs_review_and_a_sub_activity() -> None:
    p = _proposal()
    with pytest.raises(FailedPrecondition):
        p.accept("sub-1", now=NOW)
    p.review(now=NOW)
    with pytest.raises(InvalidArgument):
        p.accept("  ", now=NOW)
    with pytest.raises(InvalidArgument):
        p.reject("", now=NOW)
    p.reject("Bukan kewenangan provinsi", now=NOW)
    assert p.history[-1].note == "Bukan kewenangan provinsi"


def test_a_proposal_outside_its_government_or_too_short_is_refused() -> None:
    with pytest.raises(InvalidArgument) as refused:
        Proposal.submit(
            government_code="33.74",
            village_code="33.01.01.1001",
            category=ProposalCategory.OTHER,
            title="x",
            description="short",
            proposer_name="S",
            proposer_contact="",
            now=NOW,
        )
    fields = {v.field for v in refused.value.violations}
    assert fields == {"village_code", "title", "description", "proposer_name"}
