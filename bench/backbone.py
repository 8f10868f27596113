"""(b) and (c): the GRMS event backbone end to end, on grms_kit's own parts.

UnitOfWork (SQLite WAL, synchronous=FULL) → outbox → OutboxRelay → JetStream
(`sync_interval: always`) → EventConsumer with its inbox, applying into a second SQLite
database. As in the suite, the producing side (unit of work and relay) and the consuming
side run in two processes (bench/backbone_consumer.py is the consuming one); the broker is
a fresh nats-server per run. CPU per event is summed over both processes.

(b) throughput: N events committed in batches (one UnitOfWork per batch), timed from the
    first commit until the consumer has applied the last one.
(c) lag at a steady rate: one event per UnitOfWork commit, paced by the event loop; the
    commit time travels in the event (`agency.update_time`, stamped inside the
    transaction) and the lag is taken when the consumer's transaction has committed.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
from grms.budgeting.v1 import agency_pb2, events_pb2
from grms_kit.clock import SystemClock
from grms_kit.db import Database
from grms_kit.messaging import connect_nats, ensure_stream
from grms_kit.outbox import OutboxRelay
from grms_kit.tables import MessagingTables
from grms_kit.testing import NatsServer
from grms_kit.uow import UnitOfWork
from nats.aio.client import Client as NATS
from sqlalchemy import Table, insert

from bench.backbone_consumer import DURABLE, schema
from bench.common import RUNS, Report, percentiles, repeat, summary, wait_for

N = 5000
BATCH = 100
LAG_RATE = 200.0
LAG_SECONDS = 20.0
TARGET_RATIO = 0.50
TARGET_P99_MS = 250.0


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
    """One run's broker, producer database and relay, and the consumer process."""

    server: NatsServer
    nc: NATS
    producer: Database
    tables: MessagingTables
    agency: Table
    relay: OutboxRelay
    tasks: list[asyncio.Task[None]]
    consumer: subprocess.Popen[bytes]
    workdir: Path

    def applied(self) -> int:
        """Events the consumer process has committed so far."""
        try:
            with sqlite3.connect(self.workdir / "consumer.db", timeout=1) as conn:
                return int(conn.execute("SELECT count(*) FROM agency").fetchone()[0])
        except sqlite3.OperationalError:  # not created yet, or busy this instant
            return 0

    def consumer_cpu(self) -> float:
        """CPU seconds the consumer process has used."""
        times = psutil.Process(self.consumer.pid).cpu_times()
        return times.user + times.system

    def stop_consumer(self) -> None:
        """SIGTERM the consumer process and wait for it."""
        if self.consumer.poll() is None:
            self.consumer.terminate()
            self.consumer.wait(30)

    async def close(self) -> None:
        """Stop the tasks, the consumer, the connection, the broker and the database."""
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        self.stop_consumer()
        await self.nc.close()
        self.server.stop()
        self.producer.dispose()


async def _pipeline(workdir: Path, timed: bool) -> Pipeline:
    server = NatsServer(workdir / "nats").start()  # creates the directory
    nc = await connect_nats(server.url, name="bench-backbone")
    js = nc.jetstream(timeout=10.0)
    await ensure_stream(js, "budgeting")
    clock = SystemClock()
    metadata, tables, agency = schema()
    producer = Database(f"sqlite:///{workdir / 'producer.db'}")
    metadata.create_all(producer.engine)
    relay = OutboxRelay(producer, tables, lambda: js, clock)
    consumer = subprocess.Popen(  # noqa: ASYNC220 - started once per run, returns at once
        [sys.executable, "-m", "bench.backbone_consumer", server.url, str(workdir), *(["--timed"] if timed else [])]
    )
    tasks = [asyncio.create_task(relay.run())]
    return Pipeline(server, nc, producer, tables, agency, relay, tasks, consumer, workdir)


def _register(p: Pipeline, first: int, count: int) -> None:
    """One UnitOfWork: `count` agencies stored by the producer and their events in the outbox."""
    with UnitOfWork(p.producer, p.tables, clock=SystemClock(), source="budgeting") as uow:
        rows = []
        for i in range(first, first + count):
            event = _event(i)
            event.agency.update_time.GetCurrentTime()
            a = event.agency
            rows.append(
                {
                    "government_code": a.government_code,
                    "code": a.code,
                    "name": a.name,
                    "update_time": a.update_time.ToDatetime(dt.UTC),
                }
            )
            uow.publish(event, government="33")
        uow.session.execute(insert(p.agency), rows)
        uow.commit()


async def _wait_consumer_bound(p: Pipeline) -> None:
    async def bound() -> bool:
        try:
            await p.nc.jetstream(timeout=2.0).consumer_info("GRMS_BUDGETING", DURABLE)
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
            started, cpu_started = time.perf_counter(), time.process_time() + p.consumer_cpu()
            for first in range(0, N, BATCH):
                await p.producer.run(_register, p, first, BATCH)
            await wait_for(lambda: p.applied() >= N, 120, f"the consumer to apply {N} events", poll=0.01)
            elapsed = time.perf_counter() - started
            cpu.append((time.process_time() + p.consumer_cpu() - cpu_started) / N * 1e6)
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
        await wait_for(lambda: p.applied() >= total, 60, "the consumer to catch up", poll=0.01)
        offered = total / (loop.time() - start)
        p.stop_consumer()
        return json.loads((p.workdir / "lags.json").read_text()), offered
    finally:
        await p.close()


async def run(report: Report, workdir: Path, ceiling: dict[str, float]) -> dict[str, Any]:
    """Run (b) and (c); add them to `report`; return the figures."""
    rates, cpu = await throughput(workdir)
    rate = summary(rates)
    ratio = rate["median"] / ceiling["median"]
    report.section(
        f"(b) backbone: UnitOfWork ({BATCH}/tx) → outbox → relay → JetStream → consumer+inbox (another process), N={N}"
    )
    report.rate("end-to-end", rate, "events/s", f"CPU {summary(cpu)['median']:.0f} µs/event")
    verdict = "OK" if ratio >= TARGET_RATIO else "BELOW TARGET"
    report.line("ratio to the raw pipelined ceiling", f"{ratio:.0%}", f"target ≥ {TARGET_RATIO:.0%}: {verdict}")

    samples, offered = await lag(workdir)
    pct = percentiles(samples)
    report.section(f"(c) end-to-end lag, {LAG_RATE:.0f} events/s for {LAG_SECONDS:.0f} s, one event per commit")
    verdict = "OK" if pct["p99"] < TARGET_P99_MS else "ABOVE TARGET"
    report.line(
        "lag p50 / p99 / max",
        f"{pct['p50']:.1f} / {pct['p99']:.1f} / {pct['max']:.1f} ms",
        f"target p99 < {TARGET_P99_MS:.0f} ms: {verdict}; offered {offered:.0f}/s, {pct['count']} events",
    )
    return {
        "throughput": {
            "n": N,
            "batch": BATCH,
            "events_per_s": rate,
            "cpu_us_per_event": summary(cpu),
            "ratio_to_pipelined_ceiling": ratio,
            "target_ratio": TARGET_RATIO,
        },
        "lag": {
            "rate": LAG_RATE,
            "seconds": LAG_SECONDS,
            "offered_rate": offered,
            "lag_ms": pct,
            "target_p99_ms": TARGET_P99_MS,
        },
    }
