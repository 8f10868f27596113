"""Injectable clocks: services ask a Clock for the time, tests move a ManualClock."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Protocol

__all__ = ["Clock", "ManualClock", "SystemClock", "utc"]

utc = dt.UTC


class Clock(Protocol):
    """Anything that can tell the current time, always timezone-aware UTC."""

    def now(self) -> dt.datetime: ...


class SystemClock:
    """The real wall clock in UTC."""

    def now(self) -> dt.datetime:
        """Return the current UTC time."""
        return dt.datetime.now(utc)


class ManualClock:
    """A clock that only moves when a test moves it."""

    def __init__(self, start: dt.datetime | None = None) -> None:
        self._now = start or dt.datetime(2025, 1, 6, 1, 0, tzinfo=utc)
        if self._now.tzinfo is None:
            raise ValueError("ManualClock needs an aware datetime")
        self._lock = threading.Lock()

    def now(self) -> dt.datetime:
        """Return the clock's current time."""
        with self._lock:
            return self._now

    def advance(self, delta: dt.timedelta) -> dt.datetime:
        """Move the clock forward by `delta` and return the new time."""
        with self._lock:
            self._now += delta
            return self._now

    def set(self, when: dt.datetime) -> None:
        """Jump to `when` (aware)."""
        with self._lock:
            self._now = when
