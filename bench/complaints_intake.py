"""(f) complaint intake: gateway → gRPC → database + outbox, beside the naive handler, at concurrency 32.

GRMS: nats-server, the complaints service (`python -m grms_complaints`, its outbox relay
included) and the gateway (`python -m grms_gateway`, uvicorn) as real processes on loopback;
the load is `POST /api/v1/complaints` (JSON, no photos). The complaints database is migrated
and given the government "33" beforehand (in production budgeting's event brings it). The
gateway runs with its filing rate limit switched off (`GRMS_GATEWAY_RATELIMIT_INTAKE_PER_MINUTE=0`):
the load comes from one IP at hundreds of requests a second, which the production default
(a few filings a minute per IP) would refuse, and the naive handler has no limiter either.

Naive: `bench.naive_intake` under uvicorn (uvloop + httptools, one worker) — pydantic → one
INSERT in a transaction → JetStream publish, ack awaited — on the same kind of database and
the same nats-server, in the same run.

Both are driven by the same lean keep-alive HTTP/1.1 load generator (bench.http_load, in this
process, wrk's way: tens of microseconds a request, where httpx took 2.5–3 ms of the machine's
two cores): 32 workers posting back to back for `SECONDS` after a warm-up, three runs each. Figures: req/s
(min / median / max), p50 / p99 latency of the median run. Target: GRMS ≥ 1.5× naive.
SQLite always; PostgreSQL when a server answers on 127.0.0.1:5432 (a scratch database each).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import secrets
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import psutil
from grms_complaints.adapters.tables import reference
from grms_complaints.bootstrap import MIGRATIONS, SERVICE
from grms_kit.db import Database
from grms_kit.migrations import upgrade
from grms_kit.testing import NatsServer, free_port, wait_for_port
from sqlalchemy import create_engine, insert, text

from bench.common import RUNS, Report, drop_pg, percentiles, scratch_pg, summary
from bench.http_load import post_load
from bench.suite_rss import GATEWAY, SERVICES, Proc, _terminate, _wait_ready

CONCURRENCY = 32
SECONDS = 8.0
WARMUP_SECONDS = 2.0
TARGET_RATIO = 1.5
ROOT = Path(__file__).resolve().parent.parent

BODY: dict[str, Any] = {
    "category_code": "jalan_rusak",
    "title": "Jalan berlubang di Jl. Pemuda",
    "description": "Lubang besar di depan kantor pos Semarang, sudah tiga minggu tidak diperbaiki.",
    "location": {"latitude": -6.982634, "longitude": 110.409812, "address": "Jl. Pemuda, Semarang"},
    "complainant": {"name": "Budi Santoso", "phone": "0812 2555 0101", "email": "budi@example.id"},
}
NAIVE_BODY = {k: v for k, v in BODY.items() if k != "location"}


async def _load(url: str, body: dict[str, Any], seconds: float) -> tuple[float, list[float], Counter[str]]:
    """32 workers POST `body` back to back for `seconds`: (201s per s, their latencies in ms, other statuses).

    The gateway answers 504 when the service's reply misses its gRPC deadline (5 s by default).
    """
    return await post_load(url, body, seconds, concurrency=CONCURRENCY)


def _spawn(name: str, args: list[str], env: dict[str, str], port: int, workdir: Path) -> Proc:
    log = workdir / f"intake-{name}.log"
    log_file = open(log, "wb")
    popen = subprocess.Popen(args, env=env, cwd=ROOT, stdout=log_file, stderr=subprocess.STDOUT)
    return Proc(name, popen, port, log, log_file)


def _prepare_complaints_db(url: str) -> None:
    upgrade(url, MIGRATIONS, SERVICE)
    db = Database(url)
    with db.session() as session, session.begin():
        session.execute(
            insert(reference.government).values(
                code="33", name="Jawa Tengah", payload=b"", synced_at=dt.datetime.now(dt.UTC)
            )
        )
    db.dispose()


def _cpu_seconds(pid: int) -> float:
    times = psutil.Process(pid).cpu_times()
    return times.user + times.system


def _measure(url: str, body: dict[str, Any], procs: list[Proc]) -> dict[str, Any]:
    """Warm up, then RUNS loads; with each server process's CPU per request over the measured runs."""
    asyncio.run(_load(url, body, WARMUP_SECONDS))
    before = {p.name: _cpu_seconds(p.popen.pid) for p in procs}
    runs = [asyncio.run(_load(url, body, SECONDS)) for _ in range(RUNS)]
    requests = sum(len(r[1]) + sum(r[2].values()) for r in runs)
    figures = _figures(runs)
    figures["cpu_us_per_request"] = {
        p.name: (_cpu_seconds(p.popen.pid) - before[p.name]) / max(requests, 1) * 1e6 for p in procs
    }
    return figures


def _figures(runs: list[tuple[float, list[float], Counter[str]]]) -> dict[str, Any]:
    rates = [r[0] for r in runs]
    median_run = sorted(runs, key=lambda r: r[0])[len(runs) // 2]
    return {
        "req_per_s": summary(rates),
        "latency_ms": percentiles(median_run[1]) if median_run[1] else {},
        "errors": sum((r[2] for r in runs), Counter()),
    }


def _kind(workdir: Path, kind: str, nats: NatsServer) -> dict[str, Any]:
    """Both paths on one database kind ("sqlite" or "postgresql"); None figures when unavailable."""
    var_dir = workdir / f"intake-{kind}"
    var_dir.mkdir(parents=True, exist_ok=True)
    pg_names = (f"bench_f_grms_{os.getpid()}", f"bench_f_naive_{os.getpid()}")
    if kind == "sqlite":
        grms_url = f"sqlite:///{var_dir / 'complaints.db'}"
        naive_url = f"sqlite+aiosqlite:///{var_dir / 'naive.db'}"
    else:
        grms_pg, naive_pg = scratch_pg(pg_names[0]), scratch_pg(pg_names[1])
        if grms_pg is None or naive_pg is None:
            return {"ran": False, "reason": "no PostgreSQL at 127.0.0.1:5432"}
        grms_url = grms_pg.replace("postgresql://", "postgresql+psycopg://")
        naive_url = naive_pg.replace("postgresql://", "postgresql+psycopg://")
    _prepare_complaints_db(grms_url)
    ports = {name: free_port() for name in (*SERVICES, GATEWAY, "naive")}
    env = {
        **os.environ,
        "GRMS_VAR_DIR": str(var_dir),
        "GRMS_AUTH_SECRET": secrets.token_urlsafe(48),
        "GRMS_NATS_URL": nats.url,
        "GRMS_COMPLAINTS_DATABASE_URL": grms_url,
        "GRMS_GATEWAY_PORT": str(ports[GATEWAY]),
        "GRMS_GATEWAY_RATELIMIT_INTAKE_PER_MINUTE": "0",  # one IP, hundreds of req/s: see the docstring
        **{f"GRMS_{name.upper()}_GRPC_PORT": str(ports[name]) for name in SERVICES},
        "BENCH_NAIVE_DB_URL": naive_url,
        "BENCH_NAIVE_NATS_URL": nats.url,
    }
    procs: list[Proc] = []
    try:
        procs.append(_spawn("complaints", [sys.executable, "-m", "grms_complaints"], env, ports["complaints"], workdir))
        procs.append(_spawn(GATEWAY, [sys.executable, "-m", "grms_gateway"], env, ports[GATEWAY], workdir))
        naive_args = [
            sys.executable, "-m", "uvicorn", "bench.naive_intake:app", "--host", "127.0.0.1",
            "--port", str(ports["naive"]), "--loop", "uvloop", "--http", "httptools", "--no-access-log",
            "--log-level", "warning",
        ]  # fmt: skip
        naive = _spawn("naive", naive_args, env, ports["naive"], workdir)
        procs.append(naive)
        _wait_ready(procs[:2])
        wait_for_port(ports["naive"], timeout=30)
        grms = _measure(f"http://127.0.0.1:{ports[GATEWAY]}/api/v1/complaints", BODY, procs[:2])
        raw = _measure(f"http://127.0.0.1:{ports['naive']}/complaints", NAIVE_BODY, [naive])
        grms["outbox_pending_after"] = _pending_outbox(grms_url)
        ratio = grms["req_per_s"]["median"] / raw["req_per_s"]["median"]
        return {"ran": True, "grms": grms, "naive": raw, "ratio": ratio}
    except (RuntimeError, TimeoutError) as exc:
        return {"ran": False, "reason": str(exc)}
    finally:
        _terminate(procs)
        if kind == "postgresql":
            for name in pg_names:
                drop_pg(name)


def _pending_outbox(url: str) -> int:
    """Events still waiting in the outbox a moment after the load (the relay keeps up when ~0)."""
    engine = create_engine(url)
    time.sleep(1.0)
    with engine.connect() as conn:
        pending = conn.execute(text("SELECT count(*) FROM outbox_message WHERE sent_at IS NULL")).scalar_one()
    engine.dispose()
    return int(pending)


def _errors(errors: Counter[str]) -> str:
    if not errors:
        return "no errors"
    return "errors " + ", ".join(f"{count}× {what}" for what, count in sorted(errors.items()))


def run_f(report: Report, workdir: Path) -> dict[str, Any]:
    """(f): intake through the gateway beside the naive handler, SQLite then PostgreSQL."""
    nats = NatsServer(workdir / "intake-nats").start()
    out: dict[str, Any] = {"concurrency": CONCURRENCY, "seconds": SECONDS, "runs": RUNS}
    try:
        for kind in ("sqlite", "postgresql"):
            out[kind] = _kind(workdir, kind, nats)
    finally:
        nats.stop()
    report.section(f"(f) complaint intake, concurrency {CONCURRENCY}: gateway → gRPC → DB + outbox vs naive")
    for kind in ("sqlite", "postgresql"):
        data = out[kind]
        if not data["ran"]:
            report.line(f"{kind}: not measured", "—", data["reason"].splitlines()[0])
            continue
        for name, label in (("grms", "GRMS intake"), ("naive", "naive FastAPI → INSERT → publish")):
            fig = data[name]
            lat = fig["latency_ms"]
            cpu = ", ".join(f"{name} {us:,.0f}" for name, us in fig["cpu_us_per_request"].items())
            report.rate(
                f"{kind}: {label}",
                fig["req_per_s"],
                "req/s",
                f"p50 {lat.get('p50', 0):,.0f} / p99 {lat.get('p99', 0):,.0f} ms; CPU µs/req {cpu}; "
                f"{_errors(fig['errors'])}",
            )
        verdict = "OK" if data["ratio"] >= TARGET_RATIO else "BELOW TARGET"
        report.line(
            f"{kind}: GRMS / naive",
            f"×{data['ratio']:.2f}",
            f"target ≥ ×{TARGET_RATIO}: {verdict}; outbox pending 1 s after: {data['grms']['outbox_pending_after']}",
        )
    return out
