"""The outbox relay: publishes committed events to JetStream, forever, in order of commit.

- many publishes in flight at once (one batch pipelined on the connection), never one at a
  time; a row is marked sent only after its PubAck;
- `Nats-Msg-Id` = event id, so a republish after a crash between ack and mark is dropped by
  the broker (inside its window) or by the consumers' inboxes (after it);
- transient failures (broker down, timeouts) retry forever with backoff; a message the
  broker refuses outright is retried a few times, then dead-lettered (`dead_at`) until an
  operator redrives it with `grms outbox redrive <service>`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass

import nats.errors
import nats.js.errors
from nats.js import JetStreamContext
from sqlalchemy import and_, func, or_, select, update

from grms_kit.backoff import Backoff
from grms_kit.clock import Clock
from grms_kit.db import Database
from grms_kit.tables import MessagingTables

__all__ = ["OutboxRelay", "OutboxStats", "outbox_stats", "redrive_outbox"]

log = logging.getLogger(__name__)

# Errors that say "the broker cannot take it now": retried forever.
_TRANSIENT: tuple[type[BaseException], ...] = (
    asyncio.TimeoutError,
    nats.errors.TimeoutError,
    nats.errors.NoRespondersError,
    nats.errors.ConnectionClosedError,
    nats.errors.ConnectionReconnectingError,
    nats.errors.OutboundBufferLimitError,
    nats.errors.StaleConnectionError,
    nats.js.errors.NoStreamResponseError,
    nats.js.errors.ServiceUnavailableError,
    nats.js.errors.ServerError,
    nats.js.errors.TooManyStalledMsgsError,
    OSError,
)


@dataclass(frozen=True)
class _Row:
    seq: int
    subject: str
    payload: bytes
    headers: dict[str, str]
    attempts: int


@dataclass(frozen=True)
class OutboxStats:
    """How far the relay is behind: unsent rows, dead rows, oldest unsent age in seconds."""

    pending: int
    dead: int
    oldest_pending_seconds: float


class OutboxRelay:
    """Moves outbox rows to JetStream; run one per service process."""

    def __init__(
        self,
        db: Database,
        tables: MessagingTables,
        jetstream: Callable[[], JetStreamContext],
        clock: Clock,
        *,
        batch: int = 512,
        ack_timeout: float = 5.0,
        idle_poll: float = 0.5,
        max_refusals: int = 5,
    ) -> None:
        self.db = db
        self.t = tables.outbox
        self.jetstream = jetstream
        self.clock = clock
        self.batch = batch
        self.ack_timeout = ack_timeout
        self.idle_poll = idle_poll
        self.max_refusals = max_refusals
        self._wake = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self.published = 0

    def wake(self) -> None:
        """Tell the relay new rows were committed; safe from any thread."""
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._wake.set)

    async def run(self) -> None:
        """Publish until cancelled."""
        self._loop = asyncio.get_running_loop()
        self.db.on_commit(self.wake)
        backoff = Backoff(0.05, 5.0)
        while True:
            try:
                rows = await self.db.run(self._fetch)
            except Exception as exc:  # database unreachable: keep trying
                log.warning("outbox: cannot read pending rows: %s", exc)
                await asyncio.sleep(backoff.next())
                continue
            if not rows:
                self._wake.clear()
                try:
                    await asyncio.wait_for(self._wake.wait(), self.idle_poll)
                except asyncio.TimeoutError:
                    pass
                continue
            sent, failed = await self._publish(rows)
            try:
                await self.db.run(self._settle, sent, failed)
            except Exception as exc:
                # Unmarked rows are published again; Nats-Msg-Id and inboxes absorb that.
                log.warning("outbox: cannot mark rows sent: %s", exc)
            self.published += len(sent)
            if failed:
                delay = backoff.next()
                log.warning("outbox: %d of %d not published (%s); retrying in %.2fs",
                            len(failed), len(rows), next(iter(failed.values())), delay)
                await asyncio.sleep(delay)
            else:
                backoff.reset()

    async def _publish(self, rows: list[_Row]) -> tuple[list[int], dict[int, BaseException]]:
        js = self.jetstream()
        futures: list[tuple[_Row, asyncio.Future]] = []
        failed: dict[int, BaseException] = {}
        for row in rows:
            try:
                fut = await js.publish_async(row.subject, row.payload, headers=dict(row.headers), wait_stall=self.ack_timeout)
            except Exception as exc:
                failed[row.seq] = exc
                # The connection is not taking messages: the rest would fail the same way.
                for rest in rows[rows.index(row) + 1 :]:
                    failed[rest.seq] = exc
                break
            futures.append((row, fut))
        sent: list[int] = []
        results = await asyncio.gather(
            *(asyncio.wait_for(fut, self.ack_timeout) for _, fut in futures), return_exceptions=True
        )
        for (row, _), result in zip(futures, results, strict=True):
            if isinstance(result, BaseException):
                failed[row.seq] = result
            else:
                sent.append(row.seq)
        return sent, failed

    def _fetch(self) -> list[_Row]:
        now = self.clock.now()
        t = self.t
        query = (
            select(t.c.seq, t.c.subject, t.c.payload, t.c.headers, t.c.attempts)
            .where(t.c.sent_at.is_(None), t.c.dead_at.is_(None))
            .where(or_(t.c.next_attempt_at.is_(None), t.c.next_attempt_at <= now))
            .order_by(t.c.seq)
            .limit(self.batch)
        )
        with self.db.engine.connect() as conn:
            return [_Row(*r) for r in conn.execute(query)]

    def _settle(self, sent: list[int], failed: dict[int, BaseException]) -> None:
        now = self.clock.now()
        t = self.t
        with self.db.engine.begin() as conn:
            for start in range(0, len(sent), 500):
                chunk = sent[start : start + 500]
                conn.execute(update(t).where(t.c.seq.in_(chunk)).values(sent_at=now))
            for seq, exc in failed.items():
                refused = not isinstance(exc, _TRANSIENT)
                values: dict[str, object] = {"last_error": f"{type(exc).__name__}: {exc}"[:2000]}
                if refused:
                    values["attempts"] = t.c.attempts + 1
                    conn.execute(update(t).where(t.c.seq == seq).values(**values))
                    conn.execute(
                        update(t)
                        .where(and_(t.c.seq == seq, t.c.attempts >= self.max_refusals))
                        .values(dead_at=now)
                    )
                else:
                    conn.execute(update(t).where(t.c.seq == seq).values(**values))


def redrive_outbox(db: Database, tables: MessagingTables) -> int:
    """Put every dead-lettered outbox row back in line; return how many."""
    t = tables.outbox
    with db.engine.begin() as conn:
        result = conn.execute(
            update(t).where(t.c.dead_at.is_not(None)).values(dead_at=None, attempts=0, next_attempt_at=None)
        )
        return result.rowcount or 0


def outbox_stats(db: Database, tables: MessagingTables, clock: Clock) -> OutboxStats:
    """Pending and dead counts and the age of the oldest unsent row."""
    t = tables.outbox
    with db.engine.connect() as conn:
        pending, oldest = conn.execute(
            select(func.count(), func.min(t.c.created_at)).where(t.c.sent_at.is_(None), t.c.dead_at.is_(None))
        ).one()
        dead = conn.execute(select(func.count()).where(t.c.dead_at.is_not(None))).scalar_one()
    age = 0.0
    if oldest is not None:
        if oldest.tzinfo is None:  # SQLite returns aggregates without the column's type
            oldest = oldest.replace(tzinfo=dt.timezone.utc)
        age = max(0.0, (clock.now() - oldest).total_seconds())
    return OutboxStats(pending=pending, dead=dead, oldest_pending_seconds=age)
