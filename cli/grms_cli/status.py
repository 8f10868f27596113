"""`grms status`: the health of each process in suite.json and the lag of each durable consumer."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
from dataclasses import dataclass
from typing import Any

from grms_cli.probes import grpc_health, http_status, pid_alive, port_open

__all__ = ["ProcessStatus", "consumer_lags", "outbox_pending", "process_statuses"]

STREAM = "GRMS_BUDGETING"


@dataclass(frozen=True)
class ProcessStatus:
    """One row of the status table."""

    name: str
    pid: int | None
    alive: bool
    port: int
    health: str

    @property
    def ok(self) -> bool:
        """True when the process runs and reports itself healthy."""
        return self.alive and self.health in ("SERVING", "200", "LISTENING")


def process_statuses(suite: dict[str, Any], timeout: float = 1.0) -> list[ProcessStatus]:
    """Probe every process listed in suite.json."""
    out = []
    for proc in suite.get("processes", []):
        host, port, kind = proc.get("host", "127.0.0.1"), int(proc["port"]), proc.get("kind")
        if kind == "service":
            health = grpc_health(f"{host}:{port}", timeout)
        elif kind == "gateway":
            code = http_status(f"{proc['url']}/healthz", timeout)
            health = str(code) if code is not None else "UNREACHABLE"
        else:
            health = "LISTENING" if port_open(host, port, timeout) else "UNREACHABLE"
        out.append(ProcessStatus(proc["name"], proc.get("pid"), pid_alive(proc.get("pid")), port, health))
    return out


async def _lags(nats_url: str, durables: list[str], deadline: float) -> dict[str, int | str]:
    import nats
    from nats.errors import Error as NatsError
    from nats.js.errors import NotFoundError

    result: dict[str, int | str] = {}
    try:
        nc = await nats.connect(
            nats_url.split(","), connect_timeout=deadline, max_reconnect_attempts=0, allow_reconnect=False
        )
    except (TimeoutError, OSError, NatsError) as exc:
        return dict.fromkeys(durables, f"NATS unreachable: {exc or type(exc).__name__}")
    try:
        js = nc.jetstream(timeout=deadline)
        for durable in durables:
            try:
                info = await js.consumer_info(STREAM, durable)
                result[durable] = int((info.num_pending or 0) + (info.num_ack_pending or 0))
            except NotFoundError:
                result[durable] = "not found"
            except (TimeoutError, NatsError) as exc:
                result[durable] = f"error: {exc or type(exc).__name__}"
    finally:
        with contextlib.suppress(Exception):
            await nc.close()
    return result


def consumer_lags(nats_url: str, durables: list[str], timeout: float = 2.0) -> dict[str, int | str]:
    """num_pending + num_ack_pending of each durable consumer on GRMS_BUDGETING (or why not)."""
    return asyncio.run(_lags(nats_url, durables, timeout))


def outbox_pending(service: str, database_url: str) -> tuple[int, int] | None:
    """(pending, dead) outbox rows of `service`, or None when its tables cannot be read."""
    try:
        tables = importlib.import_module(f"grms_{service}.adapters.tables").messaging
    except (ImportError, AttributeError):
        return None
    from grms_kit.clock import SystemClock
    from grms_kit.db import Database
    from grms_kit.outbox import outbox_stats

    db = Database(database_url)
    try:
        stats = outbox_stats(db, tables, SystemClock())
    except Exception:
        return None
    finally:
        db.dispose()
    return stats.pending, stats.dead
