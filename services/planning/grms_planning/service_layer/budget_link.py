"""Applying budgeting's approvals (BudgetPlanApproved) to planning's copy of approved amounts.

Runs inside the consumer's transaction (the inbox row and the effect commit together), so it
takes the repository of that transaction rather than opening a unit of work of its own.
"""

from __future__ import annotations

from grms_planning.domain.budget_link import ApprovedBudget
from grms_planning.service_layer.ports import ApprovedBudgetRepository

__all__ = ["record_approved_budget"]


def record_approved_budget(approval: ApprovedBudget, *, budgets: ApprovedBudgetRepository) -> bool:
    """Keep `approval` unless a newer (or the same) plan version is already kept; True when it took effect."""
    current = budgets.get(
        approval.government_code, approval.fiscal_year, approval.agency_code, approval.sub_activity_code
    )
    if not approval.supersedes(current):
        return False
    budgets.put(approval, replaces=current)
    return True
