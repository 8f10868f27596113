"""A background pass repeated forever: the loop of every scheduler (SLA scan, notifications, audit anchors).

The pass itself asks the database what is due, so the loop keeps no state: a failing pass is
logged and the next one, `interval` seconds later, tries again; cancelling the task stops it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

__all__ = ["every"]

log = logging.getLogger(__name__)


async def every(interval: float, tick: Callable[[], Awaitable[object]], what: str) -> None:
    """Run `tick` now and then every `interval` seconds after each pass ends, forever."""
    while True:
        try:
            await tick()
        except Exception:
            log.exception("%s failed; retrying in %.1fs", what, interval)
        await asyncio.sleep(interval)
