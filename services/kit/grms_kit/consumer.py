"""Durable JetStream pull consumers with an inbox: every event takes effect exactly once.

Each fetched batch is applied in one transaction together with its inbox rows, and acked
only after the commit. A redelivered event finds its inbox row and changes nothing. A
transient failure (database busy or down) naks with a delay; an event that cannot be
decoded, or that keeps failing `max_deliver` times, is terminated and kept in the
`dead_letter` table, from which `redrive` applies it again after the fix.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import nats.errors
import nats.js.errors
from google.protobuf.message import DecodeError, Message
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from opentelemetry import trace
from sqlalchemy import exc as sa_exc
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from grms_kit.backoff import Backoff, raise_if_cancelled
from grms_kit.clock import Clock
from grms_kit.db import Database
from grms_kit.events import Header, service_of, stream_for, subject_for
from grms_kit.messaging import ensure_stream
from grms_kit.tables import MessagingTables
from grms_kit.telemetry import extract_context, tracer

__all__ = ["EventConsumer", "EventContext", "Handlers", "consumer_lag"]

log = logging.getLogger(__name__)
_tracer = tracer(__name__)

_TRANSIENT_DB = (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError, TimeoutError, ConnectionError)


@dataclass(frozen=True)
class EventContext:
    """What a handler may know about the event besides its payload."""

    event_id: str
    type: str
    subject: str
    source: str
    government: str
    time: dt.datetime
    deliveries: int


Handler = Callable[[Session, Any, EventContext], None]


@dataclass
class Handlers:
    """The event types one consumer handles, all from one source service's stream."""

    source: str
    _by_type: dict[str, tuple[type[Message], Handler]] = field(default_factory=dict)

    def on(self, message_cls: type[Message]) -> Callable[[Handler], Handler]:
        """Register the decorated function as the handler of `message_cls`."""

        def register(fn: Handler) -> Handler:
            full_name = message_cls.DESCRIPTOR.full_name
            if service_of(full_name) != self.source:
                raise ValueError(f"{full_name} is not published by {self.source}")
            self._by_type[full_name] = (message_cls, fn)
            return fn

        return register

    def subjects(self) -> list[str]:
        """The subjects to filter the consumer on."""
        return sorted(subject_for(name) for name in self._by_type)

    def lookup(self, type_name: str) -> tuple[type[Message], Handler] | None:
        """The message class and handler for `type_name`, if handled."""
        return self._by_type.get(type_name)


class PoisonEvent(Exception):
    """An event that can never be applied as it is."""


@dataclass
class _Item:
    msg: Msg | None
    event: Message
    handler: Handler
    ctx: EventContext
    headers: dict[str, str]


def _parse_time(value: str | None) -> dt.datetime:
    if not value:
        return dt.datetime.now(dt.UTC)
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


class EventConsumer:
    """One durable consumer `name` of the stream of `handlers.source`."""

    def __init__(
        self,
        name: str,
        db: Database,
        tables: MessagingTables,
        handlers: Handlers,
        clock: Clock,
        *,
        batch: int = 256,
        max_deliver: int = 5,
        ack_wait: float = 30.0,
        nak_delay: float = 1.0,
        fetch_timeout: float = 1.0,
    ) -> None:
        self.name = name
        self.db = db
        self.tables = tables
        self.handlers = handlers
        self.clock = clock
        self.batch = batch
        self.max_deliver = max_deliver
        self.ack_wait = ack_wait
        self.nak_delay = nak_delay
        self.fetch_timeout = fetch_timeout
        self.stream = stream_for(handlers.source)
        self.applied = 0

    async def bind(self, js: JetStreamContext) -> JetStreamContext.PullSubscription:
        """Create the stream and the durable consumer if needed, and bind to it."""
        await ensure_stream(js, self.handlers.source)
        config = ConsumerConfig(
            durable_name=self.name,
            ack_policy=AckPolicy.EXPLICIT,
            deliver_policy=DeliverPolicy.ALL,
            filter_subjects=self.handlers.subjects(),
            ack_wait=self.ack_wait,
            max_deliver=-1,  # we count deliveries ourselves and dead-letter in our database
            max_ack_pending=self.batch * 4,
        )
        await js.add_consumer(self.stream, config)
        return await js.pull_subscribe_bind(self.name, self.stream)

    async def run(self, jetstream: Callable[[], JetStreamContext]) -> None:
        """Fetch and apply until cancelled; survives broker restarts."""
        backoff = Backoff(0.1, 5.0)
        sub = None
        while True:
            raise_if_cancelled()
            try:
                if sub is None:
                    sub = await self.bind(jetstream())
                    backoff.reset()
                msgs = await sub.fetch(self.batch, timeout=self.fetch_timeout)
            except (TimeoutError, nats.errors.TimeoutError):
                continue
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                delay = backoff.next()
                log.warning("consumer %s: %s: %s; retrying in %.1fs", self.name, type(exc).__name__, exc, delay)
                if isinstance(exc, nats.js.errors.NotFoundError):
                    sub = None  # stream or consumer gone (fresh broker store): provision again
                await asyncio.sleep(delay)
                continue
            try:
                await self.handle(msgs)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                # E.g. the database is down while dead-lettering, or an ack failed: the
                # unacknowledged messages are redelivered after ack_wait; keep consuming.
                delay = backoff.next()
                log.warning(
                    "consumer %s: batch not settled (%s: %s); retrying in %.1fs",
                    self.name,
                    type(exc).__name__,
                    exc,
                    delay,
                )
                await asyncio.sleep(delay)
                continue
            backoff.reset()

    async def handle(self, msgs: list[Msg]) -> None:
        """Apply one fetched batch and settle every message."""
        items: list[_Item] = []
        for msg in msgs:
            headers = dict(msg.headers or {})
            deliveries = msg.metadata.num_delivered if msg.metadata else 1
            found = self.handlers.lookup(headers.get(Header.TYPE, ""))
            if found is None:
                await msg.ack()  # a type this consumer does not handle
                continue
            message_cls, handler = found
            try:
                event = message_cls.FromString(msg.data)
                ctx = EventContext(
                    event_id=headers[Header.ID],
                    type=headers[Header.TYPE],
                    subject=msg.subject,
                    source=headers.get(Header.SOURCE, ""),
                    government=headers.get(Header.GOVERNMENT, ""),
                    time=_parse_time(headers.get(Header.TIME)),
                    deliveries=deliveries,
                )
            except (DecodeError, KeyError, ValueError) as exc:
                await self._poison(msg, headers, f"undecodable event: {type(exc).__name__}: {exc}", deliveries)
                continue
            items.append(_Item(msg, event, handler, ctx, headers))
        if not items:
            return
        try:
            await self.db.run(self._apply, items)
        except Exception as exc:
            log.info("consumer %s: batch of %d failed (%s); applying one by one", self.name, len(items), exc)
        else:
            for item in items:  # each ack is buffered without yielding: one write for the batch
                if item.msg:
                    await item.msg.ack()
            return
        for item in items:
            assert item.msg is not None
            try:
                await self.db.run(self._apply, [item])
            except Exception as exc:
                if isinstance(exc, _TRANSIENT_DB) or item.ctx.deliveries < self.max_deliver:
                    log.warning(
                        "consumer %s: event %s failed (delivery %d): %s",
                        self.name,
                        item.ctx.event_id,
                        item.ctx.deliveries,
                        exc,
                    )
                    await item.msg.nak(delay=self.nak_delay)
                else:
                    await self._poison(item.msg, item.headers, f"{type(exc).__name__}: {exc}", item.ctx.deliveries)
            else:
                await item.msg.ack()

    def _apply(self, items: list[_Item]) -> None:
        inbox = self.tables.inbox
        now = self.clock.now()
        ids = list(dict.fromkeys(item.ctx.event_id for item in items))
        with self.db.session() as session, session.begin():
            # One look-up and one insert into the inbox per batch, not two statements per event.
            seen: set[str] = set()
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                query = select(inbox.c.event_id).where(inbox.c.consumer == self.name, inbox.c.event_id.in_(chunk))
                seen.update(session.execute(query).scalars())
            handled: list[dict[str, Any]] = []
            for item in items:
                if item.ctx.event_id in seen:
                    continue
                seen.add(item.ctx.event_id)  # the same event twice in one batch applies once
                with _tracer.start_as_current_span(
                    f"{item.ctx.subject} process",
                    context=extract_context(item.headers),
                    kind=trace.SpanKind.CONSUMER,
                    attributes={
                        "messaging.system": "nats",
                        "messaging.destination.name": item.ctx.subject,
                        "messaging.message.id": item.ctx.event_id,
                        "messaging.consumer.group.name": self.name,
                    },
                ):
                    item.handler(session, item.event, item.ctx)
                handled.append(
                    {"consumer": self.name, "event_id": item.ctx.event_id, "type": item.ctx.type, "handled_at": now}
                )
            if handled:
                session.execute(insert(inbox), handled)
        self.applied += len(handled)  # redeliveries found in the inbox are not counted

    async def _poison(self, msg: Msg, headers: dict[str, str], error: str, deliveries: int) -> None:
        log.error("consumer %s: dead-lettering %s: %s", self.name, headers.get(Header.ID, "?"), error)
        await self.db.run(self._store_dead_letter, msg.subject, msg.data, headers, error, deliveries)
        await msg.term()

    def _store_dead_letter(
        self, subject: str, payload: bytes, headers: dict[str, str], error: str, deliveries: int
    ) -> None:
        with self.db.engine.begin() as conn:
            conn.execute(
                insert(self.tables.dead_letter).values(
                    consumer=self.name,
                    event_id=headers.get(Header.ID, ""),
                    type=headers.get(Header.TYPE, ""),
                    subject=subject,
                    payload=payload,
                    headers=headers,
                    error=error[:4000],
                    deliveries=deliveries,
                    created_at=self.clock.now(),
                )
            )

    def redrive(self) -> tuple[int, int]:
        """Apply this consumer's dead letters again (after a fix); return (applied, still failing)."""
        dl = self.tables.dead_letter
        with self.db.engine.connect() as conn:
            rows = conn.execute(
                select(dl.c.id, dl.c.subject, dl.c.payload, dl.c.headers)
                .where(dl.c.consumer == self.name, dl.c.redriven_at.is_(None))
                .order_by(dl.c.id)
            ).all()
        applied = failing = 0
        for row_id, subject, payload, headers in rows:
            try:
                found = self.handlers.lookup(headers.get(Header.TYPE, ""))
                if found is None:
                    raise PoisonEvent(f"no handler for {headers.get(Header.TYPE)!r}")
                message_cls, handler = found
                ctx = EventContext(
                    event_id=headers[Header.ID],
                    type=headers[Header.TYPE],
                    subject=subject,
                    source=headers.get(Header.SOURCE, ""),
                    government=headers.get(Header.GOVERNMENT, ""),
                    time=_parse_time(headers.get(Header.TIME)),
                    deliveries=0,
                )
                self._apply([_Item(None, message_cls.FromString(payload), handler, ctx, headers)])
            except Exception as exc:
                failing += 1
                log.warning("redrive of dead letter %s failed: %s", row_id, exc)
                continue
            with self.db.engine.begin() as conn:
                conn.execute(update(dl).where(dl.c.id == row_id).values(redriven_at=self.clock.now()))
            applied += 1
        return applied, failing


async def consumer_lag(js: JetStreamContext, source: str, durable: str) -> int:
    """Events of `source` not yet acknowledged by consumer `durable`."""
    info = await js.consumer_info(stream_for(source), durable)
    return int((info.num_pending or 0) + (info.num_ack_pending or 0))
