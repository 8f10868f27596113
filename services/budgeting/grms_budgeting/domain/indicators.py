"""The output-indicator rule: a plan goes to TAPD only for a sub-activity planning has given an output indicator.

Budgeting learns the indicators from planning's SubActivityPlanned events (DOMAIN §1.1:
"every sub-kegiatan has ≥ 1 output indicator with target and unit").
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from grms_kit.errors import FailedPrecondition

__all__ = ["OutputIndicator", "PlannedSubActivity", "require_output_indicator"]


@dataclass(frozen=True)
class OutputIndicator:
    """One output (keluaran) indicator of a sub-activity with its target and unit."""

    name: str
    target: str
    unit: str

    def label(self) -> str:
        """E.g. "Jumlah puskesmas yang dibangun: 3 unit"."""
        return f"{self.name}: {self.target} {self.unit}".strip()


@dataclass(frozen=True)
class PlannedSubActivity:
    """What planning last published about an agency's sub-activity of a year."""

    government_code: str
    fiscal_year: int
    agency_code: str
    sub_activity_code: str
    planning_id: str
    outputs: tuple[OutputIndicator, ...]
    version: int
    updated_at: dt.datetime

    def newer_than(self, other: PlannedSubActivity | None) -> bool:
        """True when this copy should replace `other` (events may arrive out of order)."""
        return other is None or self.version >= other.version


def require_output_indicator(
    sub_activity_code: str, agency_code: str, fiscal_year: int, planned: PlannedSubActivity | None
) -> None:
    """FailedPrecondition naming the sub-activity unless planning gave it an output indicator with target and unit."""
    if planned is None:
        raise FailedPrecondition(
            f"sub-activity {sub_activity_code} of agency {agency_code} has no output indicator: planning has not "
            f"published it for {fiscal_year} yet"
        )
    if not any(o.target.strip() and o.unit.strip() for o in planned.outputs):
        raise FailedPrecondition(
            f"sub-activity {sub_activity_code} of agency {agency_code} has no output indicator with a target and "
            f"unit in planning for {fiscal_year}"
        )
