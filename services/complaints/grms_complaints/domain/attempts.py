"""The PIN attempt limit: after too many wrong PINs for one ticket, that ticket rests a while.

RELIABILITY.md B.3 rule 5: the status lookup needs ticket + PIN and is rate-limited. The limit
is per ticket id as typed, whether or not such a ticket exists (so the answer says nothing about
which tickets exist), and counts only wrong PINs: a complainant who knows the PIN is never slowed.
With 10 wrong PINs per 15 minutes, searching 10^8 PINs for one ticket takes ~285 years.

Kept in the service's memory (bounded; the oldest tickets are forgotten first): a restart
forgets the counts, which an attacker cannot force; pushing a ticket out of the table takes
`max_tickets` requests for `max_failures` more guesses. Each replica counts on its own, so N
replicas allow N times the attempts — still centuries.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from dataclasses import dataclass, field

from grms_kit.errors import ResourceExhausted

__all__ = ["AttemptLimiter"]

TOO_MANY = "too many wrong PINs for this ticket; try again later"


@dataclass
class _Window:
    started: dt.datetime
    failures: int = 0


@dataclass
class AttemptLimiter:
    """Counts wrong PINs per ticket in a fixed window; `check` refuses a ticket over the limit."""

    max_failures: int = 10
    window: dt.timedelta = dt.timedelta(minutes=15)
    max_tickets: int = 100_000
    _windows: OrderedDict[str, _Window] = field(default_factory=OrderedDict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def _current(self, ticket_id: str, now: dt.datetime) -> _Window | None:
        found = self._windows.get(ticket_id)
        if found is not None and now - found.started >= self.window:
            del self._windows[ticket_id]
            return None
        return found

    def check(self, ticket_id: str, now: dt.datetime) -> None:
        """ResourceExhausted when `ticket_id` had `max_failures` wrong PINs in the current window."""
        with self._lock:
            found = self._current(ticket_id, now)
            if found is not None and found.failures >= self.max_failures:
                raise ResourceExhausted(TOO_MANY)

    def failed(self, ticket_id: str, now: dt.datetime) -> None:
        """Count one wrong PIN (or a PIN for a ticket that does not exist)."""
        with self._lock:
            found = self._current(ticket_id, now)
            if found is None:
                found = self._windows[ticket_id] = _Window(now)
                while len(self._windows) > self.max_tickets:
                    self._windows.popitem(last=False)
            found.failures += 1
