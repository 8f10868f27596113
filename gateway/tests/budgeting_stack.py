"""The REAL budgeting service for gateway tests: its runtime in-process (SQLite, NATS) and the world plans need.

`planned_sub_activity` publishes what planning would (SubActivityPlanned with an output
indicator) and waits until budgeting's consumer has stored it, so plans may be submitted.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid

import nats
from grms.planning.v1 import events_pb2, sub_activity_pb2
from grms_kit.events import Envelope
from grms_kit.messaging import ensure_stream
from grms_kit.runtime import ServiceRuntime
from sqlalchemy import text

__all__ = ["planned_sub_activity"]


async def planned_sub_activity(
    runtime: ServiceRuntime, nats_url: str, *, agency: str, sub: str, year: int, timeout: float = 15.0
) -> None:
    """Publish planning's SubActivityPlanned (one output indicator) and wait until budgeting applied it."""
    output = sub_activity_pb2.Indicator(
        level=sub_activity_pb2.INDICATOR_LEVEL_SUB_ACTIVITY,
        kind=sub_activity_pb2.INDICATOR_KIND_OUTPUT,
        name="Jumlah dokumen perencanaan",
        unit="dokumen",
        target="2",
    )
    event = events_pb2.SubActivityPlanned(
        sub_activity=sub_activity_pb2.SubActivity(
            id=str(uuid.uuid4()),
            government_code="33",
            agency_code=agency,
            fiscal_year=year,
            code=sub,
            name=f"Sub kegiatan {sub}",
            indicators=[output],
            version=1,
        )
    )
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        await ensure_stream(js, "planning")
        envelope = Envelope.wrap(event, source="grms-planning", government="33", time=dt.datetime.now(dt.UTC))
        await js.publish(envelope.subject, envelope.payload, headers=envelope.headers())
    finally:
        await nc.close()
    query = text(
        "SELECT COUNT(*) FROM sub_activity_output"
        " WHERE agency_code = :a AND sub_activity_code = :s AND fiscal_year = :y"
    )
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        with runtime.db.engine.connect() as conn:
            if conn.scalar(query, {"a": agency, "s": sub, "y": year}):
                return
        await asyncio.sleep(0.05)
    raise AssertionError(f"budgeting did not apply SubActivityPlanned {agency} {sub} within {timeout}s")
