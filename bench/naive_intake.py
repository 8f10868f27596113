"""The naive intake handler of bench (f): FastAPI POST → INSERT one row → JetStream publish, awaited.

The reference GRMS intake is measured against (BENCH.md: "FastAPI POST: pydantic → INSERT in
a transaction → JetStream publish, await ack"). Served by uvicorn as its own process:

    BENCH_NAIVE_DB_URL=sqlite+aiosqlite:///x.db BENCH_NAIVE_NATS_URL=nats://127.0.0.1:4222 \
        python -m uvicorn bench.naive_intake:app --loop uvloop --http httptools

SQLite gets the same pragmas as GRMS (WAL, synchronous=FULL: durable commits); PostgreSQL runs
through psycopg 3 (async; asyncpg is not installed). The table and the stream are created at start-up.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import nats
from fastapi import FastAPI
from pydantic import BaseModel, Field
from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, Text, event, insert
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

STREAM = "NAIVE"
SUBJECT = "naive.complaint.filed"

metadata = MetaData()
complaint = Table(
    "naive_complaint",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("ticket_id", String(32), nullable=False, unique=True),
    Column("category_code", String(60), nullable=False),
    Column("title", String(200), nullable=False),
    Column("description", Text, nullable=False),
    Column("complainant_name", String(200), nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
)


class ComplainantIn(BaseModel):
    name: str = Field(min_length=2, max_length=200)
    phone: str = Field("", max_length=30)
    email: str = Field("", max_length=200)


class ComplaintIn(BaseModel):
    category_code: str = Field(min_length=1, max_length=60)
    title: str = Field(min_length=1, max_length=200)
    description: str = Field(min_length=1, max_length=5000)
    complainant: ComplainantIn


def _engine(url: str) -> AsyncEngine:
    engine = create_async_engine(url)
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine.sync_engine, "connect")
        def _pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.execute("PRAGMA busy_timeout=5000")
            cursor.close()

    return engine


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    engine = _engine(os.environ["BENCH_NAIVE_DB_URL"])
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    nc = await nats.connect(os.environ["BENCH_NAIVE_NATS_URL"])
    js = nc.jetstream()
    await js.add_stream(name=STREAM, subjects=["naive.>"])
    app.state.engine, app.state.js = engine, js
    yield
    await nc.drain()
    await engine.dispose()


app = FastAPI(lifespan=lifespan)


@app.post("/complaints", status_code=201)
async def file_complaint(body: ComplaintIn) -> dict[str, str]:
    ticket_id = secrets.token_hex(8)
    now = dt.datetime.now(dt.UTC)
    async with app.state.engine.begin() as conn:
        await conn.execute(
            insert(complaint).values(
                ticket_id=ticket_id,
                category_code=body.category_code,
                title=body.title,
                description=body.description,
                complainant_name=body.complainant.name,
                received_at=now,
            )
        )
    payload = json.dumps({"ticket_id": ticket_id, "title": body.title}).encode()
    await app.state.js.publish(SUBJECT, payload)
    return {"ticket_id": ticket_id, "receive_time": now.isoformat()}
