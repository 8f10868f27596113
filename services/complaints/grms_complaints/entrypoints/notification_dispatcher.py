"""The notification dispatcher: a loop that delivers queued messages to complainants through their channel adapter.

Each pass claims due notifications (a lease keeps a second dispatcher off them), delivers each
outside any transaction — by e-mail when SMTP is configured and the complainant gave an
address, otherwise into the local log — and records the outcome. A failed delivery is retried
with exponential backoff and given up after a number of attempts. A crash between sending and
recording means the message is sent again after the lease: delivery is at least once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from grms_kit.periodic import every

from grms_complaints.adapters.channels import LOG, SmtpAdapter
from grms_complaints.service_layer import handlers
from grms_complaints.service_layer.ports import UnitOfWork

__all__ = ["NotificationDispatcher"]

log = logging.getLogger(__name__)

Runner = Callable[..., Awaitable[Any]]


class NotificationDispatcher:
    """Delivers due notifications every `interval` seconds, `batch` at a time."""

    def __init__(
        self,
        uow: Callable[[], UnitOfWork],
        *,
        run: Runner,
        smtp: SmtpAdapter | None = None,
        interval: float = 5.0,
        batch: int = 50,
        max_attempts: int = 8,
    ) -> None:
        self.uow = uow
        self._run = run
        self.smtp = smtp
        self.interval = interval
        self.batch = batch
        self.max_attempts = max_attempts

    async def tick(self) -> int:
        """One pass; returns how many notifications were attempted."""
        claimed = await self._run(handlers.claim_notifications, self.batch, uow=self.uow(), with_email=bool(self.smtp))
        for delivery in claimed:
            n = delivery.notification
            try:
                if self.smtp is not None and delivery.email:
                    await asyncio.to_thread(self.smtp.send, n, delivery.email)
                    via = self.smtp.name
                else:
                    via = LOG  # the row itself is the log entry the tracking page lists
            except Exception as exc:  # any adapter failure is retried later
                log.warning("notification %s for %s failed (attempt %s): %s", n.id, n.ticket_id, n.attempts, exc)
                await self._run(
                    handlers.notification_failed, n.id, repr(exc), uow=self.uow(), max_attempts=self.max_attempts
                )
                continue
            await self._run(handlers.notification_delivered, n.id, via, uow=self.uow())
        return len(claimed)

    async def run(self) -> None:
        """Dispatch forever; a failing pass is logged and retried on the next one."""
        await every(self.interval, self.tick, "notification dispatch")
