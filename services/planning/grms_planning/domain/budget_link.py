"""The link to budgeting: the amount TAPD approved (DPA) for a sub-activity, kept per plan version."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

__all__ = ["ApprovedBudget"]


@dataclass(frozen=True)
class ApprovedBudget:
    """The approved amount of one sub-activity of one agency in one fiscal year, as budgeting approved it.

    Budgeting approves a plan again after a revision with a higher plan version; the copy keeps
    the highest version it has seen, so a late or repeated approval changes nothing.
    """

    government_code: str
    agency_code: str
    sub_activity_code: str
    fiscal_year: int
    amount: int
    plan_id: str
    plan_version: int
    approved_at: dt.datetime

    def supersedes(self, current: ApprovedBudget | None) -> bool:
        """Whether this approval should replace `current` (none yet, or an older plan version)."""
        return current is None or self.plan_version > current.plan_version
