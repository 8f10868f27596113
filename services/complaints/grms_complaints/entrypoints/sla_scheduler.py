"""The SLA scheduler: a loop that scans the durable deadlines and raises warnings and escalations.

It keeps no timers of its own: every pass asks the database which deadlines have something
due at the clock's now, in batches, so a restart (or a second replica running the same
loop) neither loses nor repeats a step.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from grms_kit.periodic import every

from grms_complaints.service_layer import handlers
from grms_complaints.service_layer.ports import UnitOfWork

__all__ = ["SlaScheduler"]


Runner = Callable[..., Awaitable[Any]]


class SlaScheduler:
    """Scans due SLA deadlines every `interval` seconds, `batch` complaints at a time."""

    def __init__(
        self,
        uow: Callable[[], UnitOfWork],
        *,
        run: Runner,
        interval: float = 30.0,
        batch: int = 200,
        max_batches: int = 50,
        fold_board: bool = False,
    ) -> None:
        self.uow = uow
        self._run = run  # Database.run in production: one hop to the database thread per call
        self.interval = interval
        self.batch = batch
        self.max_batches = max_batches
        self.fold_board = fold_board  # also fold the board's past intake shards on each pass

    async def tick(self) -> int:
        """One pass: scan batches until one comes back short; return how many complaints were looked at."""
        total = 0
        for _ in range(self.max_batches):
            scanned = await self._run(handlers.scan_sla, self.batch, uow=self.uow())
            total += scanned
            if scanned < self.batch:
                break
        if self.fold_board:
            await self._run(handlers.fold_board_shards, uow=self.uow())
        return total

    async def run(self) -> None:
        """Scan forever; a failing pass is logged and retried on the next one."""
        await every(self.interval, self.tick, "SLA scan")
