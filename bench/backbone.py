"""(b) and (c): the GRMS event backbone end to end, on grms_kit's own parts.

UnitOfWork (SQLite WAL, synchronous=FULL) → outbox → OutboxRelay → JetStream
(`sync_interval: always`) → EventConsumer with its inbox, applying into a second SQLite
database. Everything runs in this process on one event loop, as in a service; the broker is
a fresh nats-server per run.

(b) throughput: N events committed in batches (one UnitOfWork per batch), timed from the
    first commit until the consumer has applied the last one.
(c) lag at a steady rate: one event per UnitOfWork commit, paced by the event loop; the
    commit time travels in the event (`agency.update_time`, stamped inside the
    transaction) and the lag is taken when the consumer's transaction has committed.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grms.budgeting.v1 import agency_pb2, events_pb2
from grms_kit.clock import SystemClock
from grms_kit.consumer import EventConsumer, EventContext, Handlers
from grms_kit.db import Database
from grms_kit.messaging import connect_nats, ensure_stream
from grms_kit.outbox import OutboxRelay
from grms_kit.tables import MessagingTables, add_messaging_tables
from grms_kit.testing import NatsServer
from grms_kit.uow import UnitOfWork
from nats.aio.client import Client as NATS
from sqlalchemy import Column, DateTime, MetaData, String, Table, insert
from sqlalchemy.orm import Session

from bench.common import RUNS, Report, percentiles, repeat, summary, wait_for

N = 5000
BATCH = 100
LAG_RATE = 200.0
LAG_SECONDS = 20.0
TARGET_RATIO = 0.50
TARGET_P99_MS = 250.0


def _schema() -> tuple[MetaData, MessagingTables, Table]:
    metadata = MetaData()
    tables = add_messaging_tables(metadata)
    agency = Table(
        "agency",
        metadata,
        Column("government_code", String(20), primary_key=True),
        Column("code", String(50), primary_key=True),
        Column("name", String(200), nullable=False),
        Column("update_time", DateTime(timezone=True)),
    )
    return metadata, tables, agency


def _event(i: int) -> events_pb2.AgencyRegistered:
    agency = agency_pb2.Agency(
        government_code="33",
        code=f"{i // 100}.{i % 100:02d}.{i:06d}",
        name=f"Dinas Kesehatan Kabupaten Bench {i:06d} — Bidang Pelayanan dan Sumber Daya Kesehatan",
        short_name="Dinkes",
    )
    return events_pb2.AgencyRegistered(agency=agency)


@dataclass
class Pipeline:
    """One run's producer and consumer databases, broker, relay and consumer."""

    server: NatsServer
    nc: NATS
    producer: Database
    consumer_db: Database
    tables: MessagingTables
    agency: Table
    relay: OutboxRelay
    consumer: EventConsumer
    tasks: list[asyncio.Task[None]]

    async def close(self) -> None:
        """Stop the tasks, the connection, the broker and the databases."""
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await self.nc.close()
        self.server.stop()
        self.producer.dispose()
        self.consumer_db.dispose()


class TimedConsumer(EventConsumer):
    """An EventConsumer that notes, after each committed batch, how late each event is."""

    lags_ms: list[float]

    def _apply(self, items: list[Any]) -> None:
        super()._apply(items)
        now = time.time()
        for item in items:
            committed = item.event.agency.update_time.ToMicroseconds() / 1e6
            self.lags_ms.append((now - committed) * 1000.0)


async def _pipeline(workdir: Path, timed: bool) -> Pipeline:
    server = NatsServer(workdir / "nats").start()  # creates the directory
    nc = await connect_nats(server.url, name="bench-backbone")
    js = nc.jetstream(timeout=10.0)
    await ensure_stream(js, "budgeting")
    clock = SystemClock()

    metadata, tables, agency = _schema()
    producer = Database(f"sqlite:///{workdir / 'producer.db'}")
    consumer_db = Database(f"sqlite:///{workdir / 'consumer.db'}")
    metadata.create_all(producer.engine)
    metadata.create_all(consumer_db.engine)

    handlers = Handlers(source="budgeting")
    # Built once: a statement made per event (`insert(t).values(...)`) costs SQLAlchemy a new
    # cache key each time, more than the rest of the consumer together.
    store_agency = insert(agency)

    @handlers.on(events_pb2.AgencyRegistered)
    def apply(session: Session, event: events_pb2.AgencyRegistered, ctx: EventContext) -> None:
        a = event.agency
        session.execute(store_agency, {"government_code": a.government_code, "code": a.code, "name": a.name,
                                       "update_time": a.update_time.ToDatetime(dt.UTC)})

    consumer_cls = TimedConsumer if timed else EventConsumer
    consumer = consumer_cls("bench-copy", consumer_db, tables, handlers, clock, fetch_timeout=0.05)
    if timed:
        consumer.lags_ms = []  # type: ignore[attr-defined]
    relay = OutboxRelay(producer, tables, lambda: js, clock)
    tasks = [asyncio.create_task(relay.run()), asyncio.create_task(consumer.run(lambda: js))]
    return Pipeline(server, nc, producer, consumer_db, tables, agency, relay, consumer, tasks)


def _register(p: Pipeline, first: int, count: int) -> None:
    """One UnitOfWork: `count` agencies stored by the producer and their events in the outbox."""
    with UnitOfWork(p.producer, p.tables, clock=SystemClock(), source="budgeting") as uow:
        rows = []
        for i in range(first, first + count):
            event = _event(i)
            event.agency.update_time.GetCurrentTime()
            a = event.agency
            rows.append({"government_code": a.government_code, "code": a.code, "name": a.name,
                         "update_time": a.update_time.ToDatetime(dt.UTC)})
            uow.publish(event, government="33")
        uow.session.execute(insert(p.agency), rows)
        uow.commit()


async def _wait_consumer_bound(p: Pipeline) -> None:
    async def bound() -> bool:
        try:
            await p.nc.jetstream(timeout=2.0).consumer_info("GRMS_BUDGETING", "bench-copy")
            return True
        except Exception:
            return False

    deadline = time.monotonic() + 15
    while not await bound():
        if time.monotonic() > deadline:
            raise TimeoutError("the consumer did not bind")
        await asyncio.sleep(0.02)


async def throughput(workdir: Path) -> tuple[list[float], list[float]]:
    """(b): events/s end to end and process CPU µs per event, for each of RUNS runs."""

    async def once(i: int, cpu: list[float]) -> float:
        p = await _pipeline(workdir / f"throughput-{i}", timed=False)
        try:
            await _wait_consumer_bound(p)
            started, cpu_started = time.perf_counter(), time.process_time()
            for first in range(0, N, BATCH):
                await p.producer.run(_register, p, first, BATCH)
            await wait_for(lambda: p.consumer.applied >= N, 120, f"the consumer to apply {N} events")
            elapsed = time.perf_counter() - started
            cpu.append((time.process_time() - cpu_started) / N * 1e6)
            assert p.relay.published == N, p.relay.published
            return N / elapsed
        finally:
            await p.close()

    cpu: list[float] = []
    rates = await repeat(RUNS, lambda i: once(i, cpu))
    return rates, cpu


async def lag(workdir: Path) -> tuple[list[float], float]:
    """(c): lag samples in ms at a steady LAG_RATE events/s for LAG_SECONDS, and the rate offered."""
    p = await _pipeline(workdir / "lag", timed=True)
    try:
        await _wait_consumer_bound(p)
        loop = asyncio.get_running_loop()
        total = int(LAG_RATE * LAG_SECONDS)
        commits: list[asyncio.Future[None]] = []
        start = loop.time()
        for i in range(total):
            # Schedule on the clock, not after the previous commit: a slow commit must not
            # lower the offered rate.
            delay = start + i / LAG_RATE - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            commits.append(asyncio.ensure_future(p.producer.run(_register, p, i, 1)))
        await asyncio.gather(*commits)
        await wait_for(lambda: p.consumer.applied >= total, 60, "the consumer to catch up")
        offered = total / (loop.time() - start)
        return p.consumer.lags_ms, offered  # type: ignore[attr-defined]
    finally:
        await p.close()


async def run(report: Report, workdir: Path, ceiling: dict[str, float]) -> dict[str, Any]:
    """Run (b) and (c); add them to `report`; return the figures."""
    rates, cpu = await throughput(workdir)
    rate = summary(rates)
    ratio = rate["median"] / ceiling["median"]
    report.section(f"(b) backbone: UnitOfWork ({BATCH}/tx) → outbox → relay → JetStream → consumer+inbox, N={N}")
    report.rate("end-to-end", rate, "events/s", f"CPU {summary(cpu)['median']:.0f} µs/event")
    verdict = "OK" if ratio >= TARGET_RATIO else "BELOW TARGET"
    report.line("ratio to the raw pipelined ceiling", f"{ratio:.0%}", f"target ≥ {TARGET_RATIO:.0%}: {verdict}")

    samples, offered = await lag(workdir)
    pct = percentiles(samples)
    report.section(f"(c) end-to-end lag, {LAG_RATE:.0f} events/s for {LAG_SECONDS:.0f} s, one event per commit")
    verdict = "OK" if pct["p99"] < TARGET_P99_MS else "ABOVE TARGET"
    report.line("lag p50 / p99 / max", f"{pct['p50']:.1f} / {pct['p99']:.1f} / {pct['max']:.1f} ms",
                f"target p99 < {TARGET_P99_MS:.0f} ms: {verdict}; offered {offered:.0f}/s, {pct['count']} events")
    return {
        "throughput": {"n": N, "batch": BATCH, "events_per_s": rate, "cpu_us_per_event": summary(cpu),
                       "ratio_to_pipelined_ceiling": ratio, "target_ratio": TARGET_RATIO},
        "lag": {"rate": LAG_RATE, "seconds": LAG_SECONDS, "offered_rate": offered, "lag_ms": pct,
                "target_p99_ms": TARGET_P99_MS},
    }

