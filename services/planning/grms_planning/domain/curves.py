"""Default monthly plans (planned S-curves) per kind of work, as pure functions.

The shapes are planning judgement, not regulation: they give a planner a sensible first
draft of form F1 to edit, never a plan that is stored without the planner's say.
"""

from __future__ import annotations

import enum
from decimal import Decimal

from grms_planning.domain.model import MONTHS, MonthlyPlan

__all__ = ["CURVES", "CurveShape", "suggest_monthly_plan"]


class CurveShape(enum.StrEnum):
    """The kind of work a default curve is drawn for."""

    CONSTRUCTION = "construction"
    GOODS = "goods"
    SERVICES = "services"


# Cumulative physical % at the end of each month, in basis points (1/100 %).
CURVES: dict[CurveShape, tuple[int, ...]] = {
    # Tender and contract in Q1 (nothing built), mobilisation in April, the bulk of the work
    # mid-year, finishing and handover (PHO) before the December closing.
    CurveShape.CONSTRUCTION: (0, 0, 0, 200, 600, 1300, 2400, 3800, 5500, 7200, 8800, 10000),
    # Procurement (e-purchasing / pengadaan langsung) in the first two months, then most of
    # the deliveries in the following quarter and a tail of the rest.
    CurveShape.GOODS: (0, 0, 2000, 5000, 7500, 9000, 9500, 10000, 10000, 10000, 10000, 10000),
    # Services (consultants, events, maintenance) are delivered evenly all year.
    CurveShape.SERVICES: tuple(round(10000 * m / MONTHS) for m in range(1, MONTHS + 1)),
}


def suggest_monthly_plan(shape: CurveShape, budget: int) -> MonthlyPlan:
    """A valid F1 for `budget` whose money follows the physical curve of `shape`.

    Each month's disbursement is the rise of floor(budget × cumulative %) so the twelve
    amounts are whole rupiah that never go negative and add up to the budget exactly.

    >>> plan = suggest_monthly_plan(CurveShape.SERVICES, 1_200_000)
    >>> [m.disbursement for m in plan.months][:2]
    [99960, 100080]
    """
    points = CURVES[shape]
    cumulative = [budget * bp // 10000 for bp in points]
    months = [(Decimal(bp) / 100, cumulative[i] - (cumulative[i - 1] if i else 0)) for i, bp in enumerate(points)]
    return MonthlyPlan.create(months, budget=budget)
