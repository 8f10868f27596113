"""The planned S-curve (kurva S) as coordinates for an inline SVG, computed on the server.

The plot is 660 × 300 user units: month m (1…12) sits at x = 56 + 60·(m − 1) and p percent at
y = 320 − 3·p, so January is at the left edge, December at the right, 0 % at the bottom.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

__all__ = ["SCurveChart", "s_curve_chart"]

LEFT, TOP = 56, 20
STEP_X, PLOT_W, PLOT_H = 60, 660, 300
WIDTH, HEIGHT = LEFT + PLOT_W + 24, TOP + PLOT_H + 56


@dataclass(frozen=True)
class Point:
    month: int
    percent: Decimal
    x: float
    y: float


@dataclass(frozen=True)
class SCurveChart:
    """What the template draws: axes, ticks and the two lines of twelve points each."""

    width: int
    height: int
    left: int
    top: int
    right: int
    bottom: int
    x_ticks: list[tuple[int, float]]
    y_ticks: list[tuple[int, float]]
    physical: list[Point]
    financial: list[Point]

    @staticmethod
    def polyline(points: Sequence[Point]) -> str:
        return " ".join(f"{_num(p.x)},{_num(p.y)}" for p in points)


def _num(value: float) -> str:
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return text or "0"


def x_of(month: int) -> float:
    return float(LEFT + STEP_X * (month - 1))


def y_of(percent: Decimal) -> float:
    clamped = min(max(percent, Decimal(0)), Decimal(100))
    return float(TOP + PLOT_H - PLOT_H * clamped / 100)


def s_curve_chart(points: Sequence[tuple[int, str, str]]) -> SCurveChart:
    """Chart geometry from (month, physical %, financial %) triples as the service sends them."""
    physical, financial = [], []
    for month, physical_percent, financial_percent in sorted(points):
        ph, fi = Decimal(physical_percent or "0"), Decimal(financial_percent or "0")
        physical.append(Point(month, ph, x_of(month), y_of(ph)))
        financial.append(Point(month, fi, x_of(month), y_of(fi)))
    return SCurveChart(
        width=WIDTH,
        height=HEIGHT,
        left=LEFT,
        top=TOP,
        right=LEFT + PLOT_W,
        bottom=TOP + PLOT_H,
        x_ticks=[(m, x_of(m)) for m in range(1, 13)],
        y_ticks=[(p, y_of(Decimal(p))) for p in range(0, 101, 20)],
        physical=physical,
        financial=financial,
    )
