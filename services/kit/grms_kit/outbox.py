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

from grms_kit.backoff import Backoff, raise_if_cancelled
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


def _max_payload(js: JetStreamContext) -> int:
    """The connected server's max_payload (0 when unknown)."""
    nc = getattr(js, "_nc", None)
    return int(getattr(nc, "max_payload", 0) or 0)


def _wire_size(row: _Row) -> int:
    """Payload plus the NATS/1.0 header block, which the server counts against max_payload."""
    return len(row.payload) + 12 + sum(len(k) + len(str(v)) + 4 for k, v in row.headers.items())


# A handed-over batch: its rows with their ack futures, and the rows that failed at once.
_Batch = tuple[list[tuple[_Row, asyncio.Future]], dict[int, BaseException]]


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
        """Publish until cancelled.

        Two batches overlap: while the broker acks batch k (and k is marked sent), batch k+1
        is already read and handed to the connection, so the pipe to the broker never runs
        dry between batches. Each read skips only the seq range of the batch in flight, so a
        row that commits late with a lower seq (PostgreSQL, concurrent writers) is read next
        time. When a batch fails, both in flight are settled first, then a backoff.
        """
        self._loop = asyncio.get_running_loop()
        self.db.on_commit(self.wake)
        backoff = Backoff(0.05, 5.0)
        in_flight: tuple[int, int] | None = None  # seq range handed over, not yet settled
        previous: asyncio.Task[bool] | None = None  # its acks + marking
        current: asyncio.Task[bool] | None = None
        try:
            while True:
                raise_if_cancelled()
                self._wake.clear()  # before reading: a commit during the read wakes the wait below
                try:
                    rows = await self.db.run(self._fetch, in_flight)
                except Exception as exc:  # database unreachable: keep trying
                    log.warning("outbox: cannot read pending rows: %s", exc)
                    await asyncio.sleep(backoff.next())
                    continue
                if not rows:
                    if previous is not None:
                        ok, previous, in_flight = await previous, None, None
                        await self._pause(ok, backoff)
                        continue
                    try:
                        await asyncio.wait_for(self._wake.wait(), self.idle_poll)
                    except TimeoutError:
                        pass
                    continue
                current = asyncio.create_task(self._complete(rows, await self._hand_over(rows)))
                if previous is not None and not await previous:
                    await current  # settle what is in flight before reading again
                    previous, in_flight = None, None
                    await self._pause(False, backoff)
                    continue
                previous, in_flight = current, (rows[0].seq, rows[-1].seq)
        finally:
            unsettled = {task for task in (previous, current) if task is not None and not task.done()}
            for task in unsettled:
                task.cancel()
            await asyncio.gather(*unsettled, return_exceptions=True)

    @staticmethod
    async def _pause(ok: bool, backoff: Backoff) -> None:
        """After a settled batch: reset the backoff when it went out, else wait before retrying."""
        if ok:
            backoff.reset()
        else:
            await asyncio.sleep(backoff.next())

    async def _complete(self, rows: list[_Row], batch: _Batch) -> bool:
        """Wait for a handed-over batch's acks and mark it; True when every row went out."""
        sent, failed = await self._acks(*batch)
        try:
            await self.db.run(self._settle, sent, failed)
        except Exception as exc:
            # Unmarked rows are published again; Nats-Msg-Id and inboxes absorb that.
            log.warning("outbox: cannot mark rows sent: %s", exc)
            failed = failed or {rows[0].seq: exc}
        self.published += len(sent)
        if failed:
            log.warning(
                "outbox: %d of %d not published (%s); retrying", len(failed), len(rows), next(iter(failed.values()))
            )
        return not failed

    async def _publish(self, rows: list[_Row]) -> tuple[list[int], dict[int, BaseException]]:
        """Publish `rows` and wait for their acks: (seqs acked, seq → error of the others)."""
        return await self._acks(*await self._hand_over(rows))

    async def _hand_over(self, rows: list[_Row]) -> _Batch:
        """Give every row to the connection (publish_async); the acks come later."""
        js = self.jetstream()
        futures: list[tuple[_Row, asyncio.Future]] = []
        failed: dict[int, BaseException] = {}
        nc = getattr(js, "_nc", None)
        if nc is not None and not nc.is_connected:
            # Not now: nats-py would buffer these, or raise after taking an in-flight slot it
            # never gives back (OutboundBufferLimitError); retried after a backoff instead.
            down = nats.errors.ConnectionReconnectingError()
            return [], {row.seq: down for row in rows}
        max_payload = _max_payload(js)
        # A stalled hand-over (no free in-flight slot) surfaces as TooManyStalledMsgsError.
        async with asyncio.timeout(self.ack_timeout):
            for index, row in enumerate(rows):
                if max_payload and _wire_size(row) > max_payload:
                    # Refuse it here: nats-py leaks an in-flight slot when its own check raises, and
                    # the server answers an oversized message by closing the connection.
                    failed[row.seq] = nats.errors.MaxPayloadError()
                    continue
                try:
                    # No wait_stall: it wraps every publish in a task (a third of the relay's CPU);
                    # the timeout above bounds the whole batch instead.
                    fut = await js.publish_async(row.subject, row.payload, headers=dict(row.headers))
                except Exception as exc:
                    failed[row.seq] = exc
                    if not isinstance(exc, _TRANSIENT):
                        # Refused for this row alone (too large, bad subject): the others still go.
                        continue
                    # The connection is not taking messages: the rest would fail the same way.
                    for rest in rows[index + 1 :]:
                        failed[rest.seq] = exc
                    break
                futures.append((row, fut))
        return futures, failed

    async def _acks(
        self, futures: list[tuple[_Row, asyncio.Future]], failed: dict[int, BaseException]
    ) -> tuple[list[int], dict[int, BaseException]]:
        """Wait for the acks of a handed-over batch: (seqs acked, seq → error of the others)."""
        sent: list[int] = []
        if futures:
            # One wait for the whole batch (no task per future); late acks count as timeouts.
            await asyncio.wait([fut for _, fut in futures], timeout=self.ack_timeout)
        for row, fut in futures:
            if not fut.done():
                fut.cancel()  # gives its in-flight slot back
                failed[row.seq] = TimeoutError(f"no ack within {self.ack_timeout}s")
            elif fut.cancelled():
                failed[row.seq] = TimeoutError("publish cancelled")
            elif fut.exception() is not None:
                failed[row.seq] = fut.exception()  # type: ignore[assignment]
            else:
                sent.append(row.seq)
        return sent, failed

    def _fetch(self, skip: tuple[int, int] | None = None) -> list[_Row]:
        """The oldest pending rows, leaving out the seq range `skip` (the batch in flight)."""
        now = self.clock.now()
        t = self.t
        query = (
            select(t.c.seq, t.c.subject, t.c.payload, t.c.headers, t.c.attempts)
            .where(t.c.sent_at.is_(None), t.c.dead_at.is_(None))
            .where(or_(t.c.next_attempt_at.is_(None), t.c.next_attempt_at <= now))
            .order_by(t.c.seq)
            .limit(self.batch)
        )
        if skip is not None:
            query = query.where(or_(t.c.seq < skip[0], t.c.seq > skip[1]))
        with self.db.engine.connect() as conn:
            return [_Row(*r) for r in conn.execute(query)]

    def _settle(self, sent: list[int], failed: dict[int, BaseException]) -> None:
        now = self.clock.now()
        t = self.t
        # Bookkeeping that needs no fsync of its own: a mark lost to a power cut only means the
        # row is published again, which Nats-Msg-Id and the consumers' inboxes absorb. The next
        # durable commit of the service makes it durable anyway (SQLite WAL: the fsync covers all
        # frames before it). Saves one fsync per relay round on the service's database thread.
        with self.db.lazy_commit() as conn:
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
                        update(t).where(and_(t.c.seq == seq, t.c.attempts >= self.max_refusals)).values(dead_at=now)
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
            oldest = oldest.replace(tzinfo=dt.UTC)
        age = max(0.0, (clock.now() - oldest).total_seconds())
    return OutboxStats(pending=pending, dead=dead, oldest_pending_seconds=age)
