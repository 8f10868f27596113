"""Use case of the output-indicator rule's copy: keep the newest of what planning published."""

from __future__ import annotations

from grms_budgeting.domain.indicators import PlannedSubActivity
from grms_budgeting.service_layer.ports import PlannedSubActivityRepository

__all__ = ["record_planned_sub_activity"]


def record_planned_sub_activity(value: PlannedSubActivity, *, planned: PlannedSubActivityRepository) -> bool:
    """Store `value` unless a newer version is already stored; True when stored."""
    current = planned.get(value.government_code, value.fiscal_year, value.agency_code, value.sub_activity_code)
    if not value.newer_than(current):
        return False
    planned.put(value)
    return True
