"""The consuming side of the backbone bench, run as its own process like a consuming service.

`python -m bench.backbone_consumer <nats_url> <workdir> [--timed]` keeps an EventConsumer with
its inbox applying budgeting's AgencyRegistered events into `<workdir>/consumer.db` until
SIGTERM; with --timed it then writes each event's lag (commit in the producer → commit here,
in ms) to `<workdir>/lags.json`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import signal
import sys
import time
from pathlib import Path
from typing import Any

from grms.budgeting.v1 import events_pb2
from grms_kit.clock import SystemClock
from grms_kit.consumer import EventConsumer, EventContext, Handlers
from grms_kit.db import Database
from grms_kit.messaging import connect_nats
from grms_kit.tables import MessagingTables, add_messaging_tables
from sqlalchemy import Column, DateTime, MetaData, String, Table, insert
from sqlalchemy.orm import Session

DURABLE = "bench-copy"


def schema() -> tuple[MetaData, MessagingTables, Table]:
    """The messaging tables plus the copied agencies."""
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


class TimedConsumer(EventConsumer):
    """An EventConsumer that notes, after each committed batch, how late each event is."""

    lags_ms: list[float]

    def _apply(self, items: list[Any]) -> None:
        super()._apply(items)
        now = time.time()
        for item in items:
            committed = item.event.agency.update_time.ToMicroseconds() / 1e6
            self.lags_ms.append((now - committed) * 1000.0)


async def main(nats_url: str, workdir: Path, timed: bool) -> None:
    """Consume until SIGTERM."""
    metadata, tables, agency = schema()
    db = Database(f"sqlite:///{workdir / 'consumer.db'}")
    metadata.create_all(db.engine)
    handlers = Handlers(source="budgeting")
    # Built once: a statement made per event (`insert(t).values(...)`) costs SQLAlchemy a new
    # cache key each time, more than the rest of the consumer together.
    store_agency = insert(agency)

    @handlers.on(events_pb2.AgencyRegistered)
    def apply(session: Session, event: events_pb2.AgencyRegistered, ctx: EventContext) -> None:
        a = event.agency
        session.execute(
            store_agency,
            {
                "government_code": a.government_code,
                "code": a.code,
                "name": a.name,
                "update_time": a.update_time.ToDatetime(dt.UTC),
            },
        )

    consumer_cls = TimedConsumer if timed else EventConsumer
    consumer = consumer_cls(DURABLE, db, tables, handlers, SystemClock(), fetch_timeout=0.05)
    consumer.lags_ms = []  # type: ignore[attr-defined]
    nc = await connect_nats(nats_url, name="bench-consumer")
    js = nc.jetstream(timeout=10.0)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    task = asyncio.create_task(consumer.run(lambda: js))
    await stop.wait()
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    await nc.close()
    db.dispose()
    if timed:
        (workdir / "lags.json").write_text(json.dumps(consumer.lags_ms))  # type: ignore[attr-defined]


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], Path(sys.argv[2]), "--timed" in sys.argv[3:]))
