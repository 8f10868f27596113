"""Exponential backoff with jitter, for every retry loop in GRMS."""

from __future__ import annotations

import asyncio
import random

__all__ = ["Backoff", "raise_if_cancelled"]


class Backoff:
    """Delays that double from `initial` up to `maximum`, each jittered by ±20 %."""

    def __init__(self, initial: float = 0.1, maximum: float = 5.0, factor: float = 2.0) -> None:
        self.initial = initial
        self.maximum = maximum
        self.factor = factor
        self._current = initial

    def next(self) -> float:
        """The next delay in seconds."""
        delay = self._current
        self._current = min(self._current * self.factor, self.maximum)
        return delay * random.uniform(0.8, 1.2)

    def reset(self) -> None:
        """Start again from `initial` after a success."""
        self._current = self.initial


def raise_if_cancelled() -> None:
    """Raise CancelledError if this task was asked to stop, even if an await swallowed the request.

    On Python 3.11, asyncio.wait_for (used inside nats-py) can drop a cancellation that races
    the inner result; the task's `cancelling()` count still records it. Every forever-loop calls
    this at the top of each turn, so a lost cancel cannot keep a service from shutting down.
    """
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError
