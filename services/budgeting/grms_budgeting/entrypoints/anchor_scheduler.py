"""The audit anchor loop: after each WIB midnight, anchor the day(s) that ended (RELIABILITY §B.4).

It keeps no timers: every pass asks the database which days are not anchored yet, so a restart
catches up what was missed, and a second replica running the same loop writes nothing twice
(the anchor's key is government and day). Each anchor it writes publishes AuditHeadAnchored
through the outbox, in the anchor's own transaction.
"""

from __future__ import annotations

from collections.abc import Callable

from grms_kit.clock import Clock
from grms_kit.db import Database
from grms_kit.periodic import every

from grms_budgeting.adapters.anchor_repository import anchor_due_days
from grms_budgeting.adapters.unit_of_work import SqlUnitOfWork

__all__ = ["AnchorScheduler"]


class AnchorScheduler:
    """Anchors the ended WIB days every `interval` seconds."""

    def __init__(
        self, db: Database, uow: Callable[[], SqlUnitOfWork], clock: Clock, *, interval: float = 60.0, batch: int = 31
    ) -> None:
        self.db = db
        self.uow = uow
        self.clock = clock
        self.interval = interval
        self.batch = batch

    async def tick(self) -> int:
        """One pass: anchor due days until none are left; return how many were written."""
        total = 0
        while True:
            written = await self.db.run(anchor_due_days, self.uow, self.clock.now(), limit=self.batch)
            total += written
            if written == 0:
                return total

    async def run(self) -> None:
        """Anchor forever; a failing pass is logged and retried on the next one."""
        await every(self.interval, self.tick, "audit anchoring")
