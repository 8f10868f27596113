"""The complaint board's trend per day as coordinates for an inline SVG, computed on the server.

Received complaints are bars; first responses and missed deadlines are lines. The plot is
660 × 240 user units; day i of n has a slot of 660/n units whose centre is x; the y axis runs
from 0 at the bottom to a round maximum at the top.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["TrendChart", "nice_max", "trend_chart"]

LEFT, TOP = 56, 16
PLOT_W, PLOT_H = 660, 240
WIDTH, HEIGHT = LEFT + PLOT_W + 16, TOP + PLOT_H + 48
MAX_LABELS = 10


@dataclass(frozen=True)
class Bar:
    day: dt.date
    value: int
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class TrendChart:
    """What the template draws: axes, ticks, one bar per day and two lines."""

    width: int
    height: int
    left: int
    top: int
    right: int
    bottom: int
    y_ticks: list[tuple[int, float]]
    x_labels: list[tuple[str, float]]
    bars: list[Bar]
    responded: str
    breached: str
    total_received: int
    total_responded: int
    total_breached: int


def nice_max(value: int) -> int:
    """The smallest of 1, 2, 5 × 10^k at least `value` (at least 5), so the ticks are round."""
    value = max(value, 5)
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if step * power >= value:
            return step * power
    return 10 * power  # pragma: no cover - the loop always returns


def _num(value: float) -> str:
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return text or "0"


def trend_chart(days: Sequence[tuple[dt.date, int, int, int]]) -> TrendChart | None:
    """Chart geometry from (day, received, responded, breached); None without days."""
    if not days:
        return None
    top = nice_max(max(max(r, s, b) for _, r, s, b in days))
    slot = PLOT_W / len(days)

    def y(value: int) -> float:
        return TOP + PLOT_H - PLOT_H * value / top

    def x(i: int) -> float:
        return LEFT + slot * (i + 0.5)

    bars = [
        Bar(
            day,
            received,
            round(x(i) - slot * 0.35, 2),
            round(y(received), 2),
            round(slot * 0.7, 2),
            round(PLOT_H * received / top, 2),
        )
        for i, (day, received, _, _) in enumerate(days)
    ]
    every = max(1, math.ceil(len(days) / MAX_LABELS))
    return TrendChart(
        width=WIDTH,
        height=HEIGHT,
        left=LEFT,
        top=TOP,
        right=LEFT + PLOT_W,
        bottom=TOP + PLOT_H,
        y_ticks=[(top * k // 5, y(top * k // 5)) for k in range(6)],
        x_labels=[(day.strftime("%d/%m"), x(i)) for i, (day, *_rest) in enumerate(days) if i % every == 0],
        bars=bars,
        responded=" ".join(f"{_num(x(i))},{_num(y(s))}" for i, (_, _, s, _) in enumerate(days)),
        breached=" ".join(f"{_num(x(i))},{_num(y(b))}" for i, (_, _, _, b) in enumerate(days)),
        total_received=sum(d[1] for d in days),
        total_responded=sum(d[2] for d in days),
        total_breached=sum(d[3] for d in days),
    )
