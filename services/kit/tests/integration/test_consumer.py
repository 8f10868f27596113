"""EventConsumer: each event applied once, poison and failing events dead-lettered, redrive."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import pytest
from grms.budgeting.v1 import agency_pb2, events_pb2
from grms_kit.consumer import EventConsumer, EventContext, Handlers, consumer_lag
from grms_kit.events import Envelope, Header
from nats.aio.client import Client as NATS
from sqlalchemy import exc as sa_exc
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session


def _envelope(code: str, event_id: str | None = None) -> Envelope:
    event = events_pb2.AgencyRegistered(agency=agency_pb2.Agency(government_code="33", code=code, name="Dinas"))
    return Envelope.wrap(event, source="budgeting", government="33", time=dt.datetime.now(dt.UTC), event_id=event_id)


async def _publish(nc: NATS, env: Envelope, *, msg_id: str | None = None, payload: bytes | None = None) -> None:
    headers = env.headers()
    if msg_id is not None:
        headers[Header.MSG_ID] = msg_id
    await nc.jetstream(timeout=2.0).publish(env.subject, env.payload if payload is None else payload, headers=headers)


def _count(store: Any, table: Any, *where: Any) -> int:
    with store.db.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one()


class Recorder:
    """A handler that records an effect row per call, and can be told to fail."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self.calls: list[EventContext] = []
        self.fail_with: BaseException | None = None
        self.fail_times = 0  # fail this many calls, then succeed (with fail_with)

    def __call__(self, session: Session, event: events_pb2.AgencyRegistered, ctx: EventContext) -> None:
        self.calls.append(ctx)
        session.execute(insert(self.store.effect).values(event_id=ctx.event_id, code=event.agency.code))
        if self.fail_with is not None and self.fail_times != 0:
            self.fail_times -= 1
            raise self.fail_with


def _consumer(store: Any, recorder: Recorder, name: str = "kit-test", **kwargs: Any) -> EventConsumer:
    handlers = Handlers(source="budgeting")
    handlers.on(events_pb2.AgencyRegistered)(recorder)
    return EventConsumer(name, store.db, store.tables, handlers, store.clock, fetch_timeout=0.2, **kwargs)


async def test_handlers_refuse_foreign_events() -> None:
    handlers = Handlers(source="complaints")
    with pytest.raises(ValueError, match="not published by complaints"):
        handlers.on(events_pb2.AgencyRegistered)(lambda *_: None)


async def test_each_event_applied_once(store: Any, nc: NATS, wait_until: Any, stop_task: Any) -> None:
    recorder = Recorder(store)
    consumer = _consumer(store, recorder)
    first, second = _envelope("1.01"), _envelope("1.02")
    await _publish(nc, first)
    await _publish(nc, second)
    # The same event again under other message ids (past the broker's de-duplication).
    await _publish(nc, first, msg_id="again-1")
    await _publish(nc, first, msg_id="again-2")
    task = asyncio.create_task(consumer.run(lambda: nc.jetstream(timeout=2.0)))
    try:
        await wait_until(self_lag_zero(nc), what="all acked")
    finally:
        await stop_task(task)
    assert _count(store, store.effect) == 2
    assert _count(store, store.effect, store.effect.c.event_id == first.event_id) == 1
    assert _count(store, store.tables.inbox) == 2
    assert consumer.applied == 2
    assert {c.event_id for c in recorder.calls} == {first.event_id, second.event_id}
    ctx = recorder.calls[0]
    assert ctx.government == "33" and ctx.source == "budgeting"
    assert ctx.subject == "grms.budgeting.agency_registered.v1" and ctx.time.tzinfo is not None


def self_lag_zero(nc: NATS) -> Any:
    async def check() -> bool:
        try:
            return await consumer_lag(nc.jetstream(timeout=2.0), "budgeting", "kit-test") == 0
        except Exception:
            return False

    return check


async def test_poison_payload_is_dead_lettered_and_terminated(
    store: Any, nc: NATS, wait_until: Any, stop_task: Any
) -> None:
    recorder = Recorder(store)
    consumer = _consumer(store, recorder)
    bad = _envelope("1.01")
    await _publish(nc, bad, payload=b"\x0a\xff\xff\xff\xff\x0f")  # a length beyond the end
    good = _envelope("1.02")
    await _publish(nc, good)
    task = asyncio.create_task(consumer.run(lambda: nc.jetstream(timeout=2.0)))
    try:
        await wait_until(lambda: _count(store, store.tables.dead_letter) == 1, what="dead letter")
        await wait_until(self_lag_zero(nc), what="terminated, not redelivered")
    finally:
        await stop_task(task)
    with store.db.engine.connect() as conn:
        row = conn.execute(select(store.tables.dead_letter)).mappings().one()
    assert row["event_id"] == bad.event_id and row["type"] == "grms.budgeting.v1.AgencyRegistered"
    assert "undecodable" in row["error"] and row["deliveries"] == 1
    assert row["payload"] == b"\x0a\xff\xff\xff\xff\x0f"
    assert [c.event_id for c in recorder.calls] == [good.event_id]


async def test_failing_handler_dead_letters_then_redrive_applies(
    store: Any, nc: NATS, wait_until: Any, stop_task: Any
) -> None:
    recorder = Recorder(store)
    recorder.fail_with = ValueError("bug in the handler")
    recorder.fail_times = -1  # always
    consumer = _consumer(store, recorder, max_deliver=3, nak_delay=0.05)
    env = _envelope("1.01")
    await _publish(nc, env)
    task = asyncio.create_task(consumer.run(lambda: nc.jetstream(timeout=2.0)))
    try:
        await wait_until(lambda: _count(store, store.tables.dead_letter) == 1, what="dead letter")
        await wait_until(self_lag_zero(nc), what="terminated")
    finally:
        await stop_task(task)
    assert max(c.deliveries for c in recorder.calls) == 3
    assert _count(store, store.effect) == 0  # every attempt rolled back
    with store.db.engine.connect() as conn:
        row = conn.execute(select(store.tables.dead_letter)).mappings().one()
    assert "ValueError: bug in the handler" in row["error"] and row["deliveries"] == 3

    assert await store.db.run(consumer.redrive) == (0, 1)  # still broken
    recorder.fail_with = None  # the fix is deployed
    assert await store.db.run(consumer.redrive) == (1, 0)
    assert await store.db.run(consumer.redrive) == (0, 0)  # done once
    assert _count(store, store.effect) == 1
    assert _count(store, store.tables.inbox) == 1
    assert _count(store, store.tables.dead_letter, store.tables.dead_letter.c.redriven_at.is_not(None)) == 1


async def test_transient_database_error_naks_and_succeeds_later(
    store: Any, nc: NATS, wait_until: Any, stop_task: Any
) -> None:
    recorder = Recorder(store)
    recorder.fail_with = sa_exc.OperationalError("INSERT", {}, Exception("database is locked"))
    recorder.fail_times = 6  # more calls than max_deliver: transient errors never dead-letter
    consumer = _consumer(store, recorder, max_deliver=2, nak_delay=0.05)
    env = _envelope("1.01")
    await _publish(nc, env)
    task = asyncio.create_task(consumer.run(lambda: nc.jetstream(timeout=2.0)))
    try:
        await wait_until(lambda: _count(store, store.effect) == 1, what="the late success")
        await wait_until(self_lag_zero(nc), what="acked")
    finally:
        await stop_task(task)
    assert _count(store, store.tables.dead_letter) == 0
    assert max(c.deliveries for c in recorder.calls) >= 3  # naked and redelivered
    assert _count(store, store.tables.inbox) == 1


async def test_unhandled_types_are_acked_and_ignored(store: Any, nc: NATS, wait_until: Any, stop_task: Any) -> None:
    recorder = Recorder(store)
    consumer = _consumer(store, recorder)
    gov = events_pb2.GovernmentRegistered()
    env = Envelope.wrap(gov, source="budgeting", government="33", time=dt.datetime.now(dt.UTC))
    # Published on a handled subject but with another type: acked, never applied.
    headers = env.headers()
    await nc.jetstream(timeout=2.0).publish("grms.budgeting.agency_registered.v1", env.payload, headers=headers)
    task = asyncio.create_task(consumer.run(lambda: nc.jetstream(timeout=2.0)))
    try:
        await wait_until(self_lag_zero(nc), what="acked")
    finally:
        await stop_task(task)
    assert recorder.calls == [] and _count(store, store.tables.dead_letter) == 0


async def test_consumer_survives_a_failure_while_settling(
    store: Any, nc: NATS, wait_until: Any, stop_task: Any
) -> None:
    """The database fails while dead-lettering: the loop goes on and the redelivery settles it."""
    recorder = Recorder(store)
    consumer = _consumer(store, recorder, ack_wait=0.5)
    real_store = consumer._store_dead_letter
    calls = 0

    def flaky_store(*args: Any) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise sa_exc.OperationalError("INSERT", {}, Exception("disk I/O error"))
        real_store(*args)

    consumer._store_dead_letter = flaky_store  # type: ignore[method-assign]
    await _publish(nc, _envelope("1.01"), payload=b"\x0a\xff\xff\xff\xff\x0f")
    task = asyncio.create_task(consumer.run(lambda: nc.jetstream(timeout=2.0)))
    try:
        await wait_until(lambda: _count(store, store.tables.dead_letter) == 1, what="dead letter after redelivery")
        assert not task.done()
        await _publish(nc, _envelope("1.02"))
        await wait_until(lambda: _count(store, store.effect) == 1, what="later events still applied")
    finally:
        await stop_task(task)
    with store.db.engine.connect() as conn:
        assert conn.execute(select(store.tables.dead_letter.c.deliveries)).scalar_one() == 2
