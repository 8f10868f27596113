"""(d) The database access path, which justifies grms_kit.db's design.

The same SQLite file settings as a service (WAL, synchronous=FULL), a 10-column row, and
per run: 2,000 one-row INSERT+COMMIT transactions, then 20,000 reads by primary key, each
its own short transaction as a request would do. Three paths:

1. SQLAlchemy async engine + aiosqlite — every statement is an awaited hop to a thread;
2. grms_kit.db.Database — a sync pysqlite engine, one whole transaction per `db.run` hop;
3. raw sqlite3 called inline — the floor.
"""

from __future__ import annotations

import random
import sqlite3
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from grms_kit.db import Database, _sqlite_pragmas
from sqlalchemy import Column, Integer, MetaData, String, Table, event, insert, select
from sqlalchemy.ext.asyncio import create_async_engine

from bench.common import RUNS, Report, summary

INSERTS = 2000
READS = 20000

metadata = MetaData()
row_table = Table(
    "item",
    metadata,
    Column("id", Integer, primary_key=True),
    *(Column(f"c{i}", String(40), nullable=False) for i in range(1, 10)),
)


def _row(i: int) -> dict[str, Any]:
    return {"id": i, **{f"c{k}": f"value {k} of row {i:08d}" for k in range(1, 10)}}


def _read_order() -> list[int]:
    rng = random.Random(7)
    return [rng.randrange(1, INSERTS + 1) for _ in range(READS)]


async def _aiosqlite(path: Path) -> tuple[float, float]:
    engine = create_async_engine(f"sqlite+aiosqlite:///{path}")
    event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(metadata.create_all)
        started = time.perf_counter()
        for i in range(1, INSERTS + 1):
            async with engine.begin() as conn:
                await conn.execute(insert(row_table).values(_row(i)))
        writes = INSERTS / (time.perf_counter() - started)
        query = select(row_table)
        started = time.perf_counter()
        for key in _read_order():
            async with engine.connect() as conn:
                (await conn.execute(query.where(row_table.c.id == key))).one()
        reads = READS / (time.perf_counter() - started)
        return writes, reads
    finally:
        await engine.dispose()


async def _grms_db(path: Path) -> tuple[float, float]:
    db = Database(f"sqlite:///{path}")
    try:
        metadata.create_all(db.engine)

        def write(i: int) -> None:
            with db.engine.begin() as conn:
                conn.execute(insert(row_table).values(_row(i)))

        query = select(row_table)

        def read(key: int) -> None:
            with db.engine.connect() as conn:
                conn.execute(query.where(row_table.c.id == key)).one()

        started = time.perf_counter()
        for i in range(1, INSERTS + 1):
            await db.run(write, i)
        writes = INSERTS / (time.perf_counter() - started)
        started = time.perf_counter()
        for key in _read_order():
            await db.run(read, key)
        reads = READS / (time.perf_counter() - started)
        return writes, reads
    finally:
        db.dispose()


async def _raw_sqlite3(path: Path) -> tuple[float, float]:
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        _sqlite_pragmas(conn, None)
        columns = ", ".join(f"c{i} TEXT NOT NULL" for i in range(1, 10))
        conn.execute(f"CREATE TABLE item (id INTEGER PRIMARY KEY, {columns})")
        names = ", ".join(["id", *(f"c{i}" for i in range(1, 10))])
        sql = f"INSERT INTO item ({names}) VALUES ({', '.join('?' * 10)})"
        started = time.perf_counter()
        for i in range(1, INSERTS + 1):
            conn.execute("BEGIN")
            conn.execute(sql, tuple(_row(i).values()))
            conn.execute("COMMIT")
        writes = INSERTS / (time.perf_counter() - started)
        started = time.perf_counter()
        for key in _read_order():
            conn.execute("SELECT * FROM item WHERE id = ?", (key,)).fetchone()
        reads = READS / (time.perf_counter() - started)
        return writes, reads
    finally:
        conn.close()


PATHS: list[tuple[str, str, Callable[[Path], Awaitable[tuple[float, float]]]]] = [
    ("aiosqlite", "SQLAlchemy async + aiosqlite", _aiosqlite),
    ("grms_kit_db", "sync pysqlite, one tx per Database.run hop (grms_kit.db)", _grms_db),
    ("raw_sqlite3", "raw sqlite3 inline", _raw_sqlite3),
]


async def run(report: Report, workdir: Path) -> dict[str, Any]:
    """Measure the three paths RUNS times each, interleaved; add them to `report`."""
    writes: dict[str, list[float]] = {key: [] for key, _, _ in PATHS}
    reads: dict[str, list[float]] = {key: [] for key, _, _ in PATHS}
    for run_no in range(RUNS):
        for key, _, measure in PATHS:
            path = workdir / f"db-{key}-{run_no}.db"
            w, r = await measure(path)
            writes[key].append(w)
            reads[key].append(r)
    result: dict[str, Any] = {"inserts": INSERTS, "reads": READS}
    report.section(f"(d) SQLite WAL synchronous=FULL: {INSERTS:,} INSERT+COMMIT, {READS:,} reads by primary key")
    base_w = summary(writes["aiosqlite"])["median"]
    base_r = summary(reads["aiosqlite"])["median"]
    for key, label, _ in PATHS:
        w, r = summary(writes[key]), summary(reads[key])
        report.rate(f"{label}: commits", w, "/s", f"×{w['median'] / base_w:.1f} aiosqlite")
        report.rate(f"{label}: reads", r, "/s", f"×{r['median'] / base_r:.1f} aiosqlite")
        result[key] = {"label": label, "commits_per_s": w, "reads_per_s": r}
    return result
