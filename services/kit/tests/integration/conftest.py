"""Fixtures of the kit's integration tests: a database with the messaging tables, a broker."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from grms_kit.clock import SystemClock
from grms_kit.db import Database
from grms_kit.messaging import connect_nats, ensure_stream
from grms_kit.tables import MessagingTables, add_messaging_tables
from grms_kit.testing import NatsServer
from nats.aio.client import Client as NATS
from sqlalchemy import Column, Integer, MetaData, String, Table

Waiter = Callable[..., Awaitable[None]]


@dataclass
class Store:
    """A test database: the Database, the messaging tables and a small `effect` table."""

    db: Database
    tables: MessagingTables
    effect: Table
    clock: SystemClock


def _metadata() -> tuple[MetaData, MessagingTables, Table]:
    metadata = MetaData()
    tables = add_messaging_tables(metadata)
    effect = Table(
        "effect",
        metadata,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("event_id", String(36), nullable=False),  # deliberately not unique: doubles would show
        Column("code", String(50), nullable=False),
    )
    return metadata, tables, effect


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    """A fresh database (SQLite and PostgreSQL) with the tables created."""
    metadata, tables, effect = _metadata()
    db = Database(database_url, pool_size=4)
    metadata.create_all(db.engine)
    yield Store(db, tables, effect, SystemClock())
    db.dispose()


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[NatsServer]:
    """A nats-server of this test alone (it may be killed), with its own store."""
    server = NatsServer(tmp_path / "nats").start()
    yield server
    server.kill()


@pytest.fixture
async def nc(broker: NatsServer) -> AsyncIterator[NATS]:
    """A connection to the test's broker, with the budgeting stream in place."""
    conn = await connect_nats(broker.url, name="kit-test")
    await ensure_stream(conn.jetstream(timeout=2.0), "budgeting")
    yield conn
    if not conn.is_closed:
        await conn.close()


async def _wait_until(
    condition: Callable[[], bool | Awaitable[bool]], timeout: float = 15.0, what: str = "condition"
) -> None:
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.02)


@pytest.fixture
def wait_until() -> Waiter:
    """`await wait_until(predicate, timeout=…, what=…)`: poll a sync or async predicate."""
    return _wait_until


async def cancel(task: asyncio.Task[None]) -> None:
    """Cancel a background task and wait until it is gone."""
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


@pytest.fixture
def stop_task() -> Callable[[asyncio.Task[None]], Awaitable[None]]:
    """`await stop_task(task)`."""
    return cancel
