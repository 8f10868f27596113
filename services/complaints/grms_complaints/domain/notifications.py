"""Messages to the complainant: queued with the change that causes them, delivered later through a channel adapter.

When staff answer publicly, resolve or reject, the complaint queues a notification in the
same transaction (table `complaint_notification`); a dispatcher delivers it through the
adapter of the complaint's channel — by e-mail when SMTP is configured and the complainant
gave an address, otherwise into the local notification log that the tracking page shows.
A failed delivery is retried with exponential backoff, then given up and marked failed.
The text is what the complainant may read (redacted like the public replies); the recipient's
address is looked up from the identity store only at delivery, never copied into the queue.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass

__all__ = [
    "BACKOFF_BASE",
    "BACKOFF_MAX",
    "MAX_ATTEMPTS",
    "DeliveryStatus",
    "Notification",
    "NotificationKind",
    "OutboundNotification",
    "backoff",
]

BACKOFF_BASE = dt.timedelta(seconds=30)
BACKOFF_MAX = dt.timedelta(hours=1)
MAX_ATTEMPTS = 8
#: How long a claimed notification is held by one dispatcher before another may try it.
LEASE = dt.timedelta(minutes=5)


class NotificationKind(enum.StrEnum):
    REPLY = "reply"  # a public answer (tindak lanjut)
    RESOLVED = "resolved"  # selesai: rate it or reopen it
    REJECTED = "rejected"  # tidak dapat diproses, with the reason
    MERGED = "merged"  # digabungkan: the same problem is handled under another ticket


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"  # given up after MAX_ATTEMPTS


@dataclass(frozen=True)
class Notification:
    """A message the complaint queued for its complainant."""

    kind: NotificationKind
    text: str
    created_at: dt.datetime


def backoff(attempts: int) -> dt.timedelta:
    """The wait after the `attempts`-th failed delivery: 30 s, 1 min, 2 min, … at most an hour."""
    return min(BACKOFF_BASE * 2 ** max(0, attempts - 1), BACKOFF_MAX)


@dataclass
class OutboundNotification:
    """A queued notification and its delivery state."""

    id: int
    ticket_id: str
    channel: str
    kind: NotificationKind
    text: str
    created_at: dt.datetime
    status: DeliveryStatus = DeliveryStatus.PENDING
    attempts: int = 0
    next_attempt_at: dt.datetime | None = None
    sent_at: dt.datetime | None = None
    delivered_via: str = ""
    last_error: str = ""

    def claim(self, now: dt.datetime) -> None:
        """One dispatcher takes it: nobody else tries it until the lease ends."""
        self.attempts += 1
        self.next_attempt_at = now + LEASE

    def delivered(self, via: str, now: dt.datetime) -> None:
        """It reached the complainant (or the log) through adapter `via`."""
        self.status = DeliveryStatus.SENT
        self.sent_at = now
        self.delivered_via = via
        self.next_attempt_at = None
        self.last_error = ""

    def failed(self, error: str, now: dt.datetime, *, max_attempts: int = MAX_ATTEMPTS) -> None:
        """The adapter failed: try again after the backoff, or give up after `max_attempts`."""
        self.last_error = error[:500]
        if self.attempts >= max_attempts:
            self.status = DeliveryStatus.FAILED
            self.next_attempt_at = None
        else:
            self.next_attempt_at = now + backoff(self.attempts)
