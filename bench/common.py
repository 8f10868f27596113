"""Shared helpers of the benchmarks: repeated runs, summaries, the printed table."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import create_engine, text

RUNS = 3


def summary(values: list[float]) -> dict[str, float]:
    """min / median / max of repeated measurements."""
    return {"min": min(values), "median": statistics.median(values), "max": max(values), "runs": len(values)}


def percentiles(values: list[float]) -> dict[str, float]:
    """p50 / p99 / max of a latency sample (same unit as the input)."""
    ordered = sorted(values)

    def at(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    return {"p50": at(0.50), "p99": at(0.99), "max": ordered[-1], "count": len(ordered)}


async def wait_for(condition: Callable[[], bool], timeout: float, what: str, poll: float = 0.002) -> None:  # noqa: ASYNC109
    """Poll `condition` until true; raise TimeoutError naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} did not happen within {timeout:.0f}s")
        await asyncio.sleep(poll)


async def repeat(runs: int, once: Callable[[int], Awaitable[float]]) -> list[float]:
    """Run `once(i)` `runs` times, sequentially; return the figures."""
    return [await once(i) for i in range(runs)]


@dataclass
class Report:
    """The rows of the printed table and the JSON document written at the end."""

    rows: list[tuple[str, str, str]] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)

    def section(self, title: str) -> None:
        """Start a section of the table."""
        self.rows.append((f"— {title}", "", ""))

    def rate(self, label: str, figures: dict[str, float], unit: str, note: str = "") -> None:
        """A rate row: median, with min–max in the note column."""
        spread = f"min {figures['min']:,.0f} / max {figures['max']:,.0f}"
        self.rows.append((label, f"{figures['median']:,.0f} {unit}", f"{spread}  {note}".strip()))

    def line(self, label: str, value: str, note: str = "") -> None:
        """A free-form row."""
        self.rows.append((label, value, note))

    def render(self) -> str:
        """The table as text."""
        body = [r for r in self.rows if not r[0].startswith("— ")]
        width = max((len(r[0]) for r in body), default=0) + 2
        value_width = max((len(r[1]) for r in body), default=0) + 2
        out = []
        for label, value, note in self.rows:
            if label.startswith("— "):
                out.append("")
                out.append(label)
            else:
                out.append(f"  {label:<{width}}{value:>{value_width}}   {note}")
        return "\n".join(out)


PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"


def scratch_pg(name: str) -> str | None:
    """A fresh PostgreSQL database `name` (dropped first), or None when no server answers."""
    try:
        engine = create_engine(PG_ADMIN.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        engine.dispose()
    except Exception:
        return None
    return PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"


def drop_pg(name: str) -> None:
    engine = create_engine(PG_ADMIN.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()
