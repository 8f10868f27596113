"""The unit of work writes state and outbox rows atomically; the relay moves them to JetStream."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from grms.budgeting.v1 import agency_pb2, events_pb2
from grms_kit.clock import ManualClock
from grms_kit.events import Header, stream_for
from grms_kit.messaging import connect_nats
from grms_kit.outbox import OutboxRelay, outbox_stats, redrive_outbox
from grms_kit.testing import NatsServer
from grms_kit.uow import UnitOfWork
from nats.aio.client import Client as NATS
from sqlalchemy import func, insert, select

STREAM = stream_for("budgeting")


def _event(code: str, name: str = "Dinas") -> events_pb2.AgencyRegistered:
    return events_pb2.AgencyRegistered(agency=agency_pb2.Agency(government_code="33", code=code, name=name))


def _count(store: Any, table: Any, *where: Any) -> int:
    with store.db.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one()


def _register(store: Any, codes: list[str], *, fail: bool = False, name: str = "Dinas") -> None:
    """One transaction: an effect row and an AgencyRegistered event per code."""
    with UnitOfWork(store.db, store.tables, clock=store.clock, source="budgeting") as uow:
        for code in codes:
            uow.session.execute(insert(store.effect).values(event_id=code, code=code))
            uow.publish(_event(code, name), government="33")
        if fail:
            raise RuntimeError("use case failed before commit")
        uow.commit()


async def test_commit_writes_state_and_outbox_together(store: Any) -> None:
    await store.db.run(_register, store, ["1.01", "1.02"])
    assert _count(store, store.effect) == 2
    with store.db.engine.connect() as conn:
        rows = conn.execute(select(store.tables.outbox)).mappings().all()
    assert [r["subject"] for r in rows] == ["grms.budgeting.agency_registered.v1"] * 2
    assert all(r["sent_at"] is None and r["government"] == "33" for r in rows)
    assert rows[0]["headers"][Header.MSG_ID] == rows[0]["event_id"]
    assert rows[0]["created_at"].tzinfo is not None
    assert events_pb2.AgencyRegistered.FromString(rows[1]["payload"]).agency.code == "1.02"


async def test_rollback_writes_neither(store: Any) -> None:
    with pytest.raises(RuntimeError):
        await store.db.run(_register, store, ["1.01"], fail=True)
    assert _count(store, store.effect) == 0
    assert _count(store, store.tables.outbox) == 0

    def explicit_rollback() -> None:
        with UnitOfWork(store.db, store.tables, clock=store.clock, source="budgeting") as uow:
            uow.session.execute(insert(store.effect).values(event_id="x", code="x"))
            uow.publish(_event("x"), government="33")
            uow.rollback()
            uow.commit()  # commits nothing: the events went with the rollback

    await store.db.run(explicit_rollback)
    assert _count(store, store.effect) == 0
    assert _count(store, store.tables.outbox) == 0


async def _stream_messages(nc: NATS) -> list[Any]:
    js = nc.jetstream(timeout=2.0)
    info = await js.stream_info(STREAM)
    return [await js.get_msg(STREAM, seq) for seq in range(info.state.first_seq, info.state.last_seq + 1)]


async def test_relay_publishes_pending_rows_with_msg_id(store: Any, nc: NATS, wait_until: Any, stop_task: Any) -> None:
    await store.db.run(_register, store, [f"1.{i:02d}" for i in range(20)])
    relay = OutboxRelay(store.db, store.tables, lambda: nc.jetstream(timeout=2.0), store.clock, batch=7)
    task = asyncio.create_task(relay.run())
    try:
        await wait_until(lambda: outbox_stats(store.db, store.tables, store.clock).pending == 0, what="relay")
        # A commit made while the relay idles is woken through Database.on_commit.
        await store.db.run(_register, store, ["9.99"])
        await wait_until(lambda: relay.published == 21, timeout=5, what="woken relay")
    finally:
        await stop_task(task)
    msgs = await _stream_messages(nc)
    assert len(msgs) == 21
    with store.db.engine.connect() as conn:
        rows = conn.execute(select(store.tables.outbox).order_by(store.tables.outbox.c.seq)).mappings().all()
    assert all(r["sent_at"] is not None for r in rows)
    for row, msg in zip(rows, msgs, strict=True):  # in commit order
        assert msg.headers[Header.MSG_ID] == row["event_id"] == msg.headers[Header.ID]
        assert msg.headers[Header.TYPE] == "grms.budgeting.v1.AgencyRegistered"
        assert msg.headers[Header.GOVERNMENT] == "33"
        assert msg.subject == "grms.budgeting.agency_registered.v1"
        assert msg.data == row["payload"]


async def test_rows_stay_unsent_until_the_ack(store: Any, broker: NatsServer) -> None:
    """Without a stream nothing acks: the rows stay pending with the error recorded."""
    await store.db.run(_register, store, ["1.01", "1.02"])
    conn = await connect_nats(broker.url, name="no-stream")  # the stream was never created
    relay = OutboxRelay(store.db, store.tables, lambda: conn.jetstream(timeout=1.0), store.clock, ack_timeout=0.5)
    try:
        rows = await store.db.run(relay._fetch)
        sent, failed = await relay._publish(rows)
        await store.db.run(relay._settle, sent, failed)
    finally:
        await conn.close()
    assert sent == [] and len(failed) == 2
    stats = outbox_stats(store.db, store.tables, store.clock)
    assert stats.pending == 2 and stats.dead == 0
    with store.db.engine.connect() as conn_db:
        errors = conn_db.execute(select(store.tables.outbox.c.last_error, store.tables.outbox.c.attempts)).all()
    assert all(e and "NoStreamResponse" in e for e, _ in errors)
    assert all(a == 0 for _, a in errors)  # transient: retried forever, never dead


@pytest.mark.chaos
async def test_relay_survives_a_broker_crash(
    store: Any, broker: NatsServer, nc: NATS, wait_until: Any, stop_task: Any
) -> None:
    relay = OutboxRelay(
        store.db, store.tables, lambda: nc.jetstream(timeout=1.0), store.clock, batch=50, ack_timeout=0.5
    )
    task = asyncio.create_task(relay.run())
    try:
        for i in range(5):
            await store.db.run(_register, store, [f"a.{i}.{j}" for j in range(20)])
        broker.kill()
        for i in range(5):  # committed while the broker is down
            await store.db.run(_register, store, [f"b.{i}.{j}" for j in range(20)])

        def failing() -> bool:
            with store.db.engine.connect() as conn:
                return (
                    conn.execute(
                        select(func.count())
                        .where(store.tables.outbox.c.last_error.is_not(None))
                        .select_from(store.tables.outbox)
                    ).scalar_one()
                    > 0
                )

        await wait_until(failing, timeout=10, what="the relay to fail against the dead broker")
        assert outbox_stats(store.db, store.tables, store.clock).pending > 0
        broker.start()
        await wait_until(
            lambda: outbox_stats(store.db, store.tables, store.clock).pending == 0,
            timeout=30,
            what="the relay to catch up after the restart",
        )
    finally:
        await stop_task(task)
    stats = outbox_stats(store.db, store.tables, store.clock)
    assert stats.dead == 0
    msgs = await _stream_messages(nc)
    ids = [m.headers[Header.ID] for m in msgs]
    assert len(ids) == len(set(ids)) == 200
    with store.db.engine.connect() as conn:
        expected = set(conn.execute(select(store.tables.outbox.c.event_id)).scalars())
    assert set(ids) == expected


async def test_fetch_skips_only_the_batch_in_flight(store: Any) -> None:
    """A row committed late with a lower seq is still read while a later batch is in flight."""
    await store.db.run(_register, store, [f"1.{i:02d}" for i in range(10)])
    relay = OutboxRelay(store.db, store.tables, lambda: None, store.clock, batch=5)  # type: ignore[arg-type]
    first = [r.seq for r in await store.db.run(relay._fetch)]
    assert len(first) == 5
    skipped = [r.seq for r in await store.db.run(relay._fetch, (first[1], first[3]))]
    assert skipped == [first[0], first[4], first[4] + 1, first[4] + 2, first[4] + 3]


async def test_batch_larger_than_the_in_flight_limit(store: Any, nc: NATS) -> None:
    await store.db.run(_register, store, [f"1.{i:02d}" for i in range(30)])
    js = nc.jetstream(timeout=2.0, publish_async_max_pending=4)  # slots free up as acks arrive
    relay = OutboxRelay(store.db, store.tables, lambda: js, store.clock, batch=30)
    sent, failed = await relay._publish(await store.db.run(relay._fetch))
    assert len(sent) == 30 and not failed
    assert len(await _stream_messages(nc)) == 30


async def test_republish_is_deduplicated_by_msg_id(store: Any, nc: NATS) -> None:
    """A crash between the ack and the mark republishes: the broker drops the copy."""
    await store.db.run(_register, store, ["1.01", "1.02", "1.03"])
    relay = OutboxRelay(store.db, store.tables, lambda: nc.jetstream(timeout=2.0), store.clock)
    rows = await store.db.run(relay._fetch)
    for _ in range(2):  # published twice, never marked in between
        sent, failed = await relay._publish(rows)
        assert len(sent) == 3 and not failed
    assert len(await _stream_messages(nc)) == 3


async def test_refused_row_goes_dead_and_redrive_brings_it_back(
    store: Any, nc: NATS, wait_until: Any, stop_task: Any
) -> None:
    clock = ManualClock()
    huge = "x" * (nc.max_payload + 1)  # above the broker's max_payload: refused every time
    await store.db.run(_register, store, ["1.01"])
    await store.db.run(_register, store, ["1.02"], name=huge)
    await store.db.run(_register, store, ["1.03"])
    relay = OutboxRelay(store.db, store.tables, lambda: nc.jetstream(timeout=2.0), clock, max_refusals=3)
    relay_task = asyncio.create_task(relay.run())
    try:
        await wait_until(lambda: outbox_stats(store.db, store.tables, clock).dead == 1, what="the dead row")
        stats = outbox_stats(store.db, store.tables, clock)
        assert stats.pending == 0  # the good rows around it went out
    finally:
        await stop_task(relay_task)
    t = store.tables.outbox
    with store.db.engine.connect() as conn:
        attempts, error, dead_at = conn.execute(
            select(t.c.attempts, t.c.last_error, t.c.dead_at).where(t.c.dead_at.is_not(None))
        ).one()
    assert attempts == 3 and "MaxPayload" in error and dead_at == clock.now()
    assert len(await _stream_messages(nc)) == 2

    # The operator fixes the cause (here: shrink the payload) and redrives.
    def shrink() -> None:
        with store.db.engine.begin() as conn:
            conn.execute(t.update().where(t.c.dead_at.is_not(None)).values(payload=_event("1.02").SerializeToString()))

    await store.db.run(shrink)
    assert await store.db.run(redrive_outbox, store.db, store.tables) == 1
    assert outbox_stats(store.db, store.tables, clock).pending == 1
    relay_task = asyncio.create_task(relay.run())
    try:
        await wait_until(lambda: outbox_stats(store.db, store.tables, clock).pending == 0, what="redriven row")
    finally:
        await stop_task(relay_task)
    msgs = await _stream_messages(nc)
    assert [events_pb2.AgencyRegistered.FromString(m.data).agency.code for m in msgs] == ["1.01", "1.03", "1.02"]
    assert outbox_stats(store.db, store.tables, clock).dead == 0


async def test_outbox_stats_age(store: Any) -> None:
    clock = ManualClock()
    store.clock = clock
    await store.db.run(_register, store, ["1.01"])
    clock.advance(__import__("datetime").timedelta(seconds=90))
    stats = outbox_stats(store.db, store.tables, clock)
    assert stats.pending == 1 and stats.oldest_pending_seconds == pytest.approx(90.0)
