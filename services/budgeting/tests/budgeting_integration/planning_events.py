"""What planning would publish: SubActivityPlanned on GRMS_PLANNING, and a wait until budgeting has applied it."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid

import nats
from grms.planning.v1 import events_pb2, sub_activity_pb2
from grms_budgeting.adapters.tables import sub_activity_output
from grms_kit.db import Database
from grms_kit.events import Envelope
from grms_kit.messaging import ensure_stream
from sqlalchemy import select

__all__ = ["plan_sub_activity"]


def _output(name: str, target: str, unit: str) -> sub_activity_pb2.Indicator:
    return sub_activity_pb2.Indicator(
        level=sub_activity_pb2.INDICATOR_LEVEL_SUB_ACTIVITY,
        kind=sub_activity_pb2.INDICATOR_KIND_OUTPUT,
        name=name,
        unit=unit,
        target=target,
        formula=sub_activity_pb2.INDICATOR_FORMULA_INCREASING,
    )


async def plan_sub_activity(
    nats_url: str,
    db: Database,
    *,
    agency: str,
    sub: str,
    year: int,
    with_output: bool = True,
    version: int = 1,
    timeout: float = 15.0,
) -> None:
    """Publish planning's SubActivityPlanned for one sub-activity and wait until budgeting stored that version."""
    indicators = [
        sub_activity_pb2.Indicator(
            level=sub_activity_pb2.INDICATOR_LEVEL_SUB_ACTIVITY,
            kind=sub_activity_pb2.INDICATOR_KIND_OUTCOME,
            name="Persentase fasilitas kesehatan sesuai standar",
            unit="%",
            target="80",
        )
    ]
    if with_output:
        indicators.append(_output("Jumlah rumah sakit yang dibangun", "1", "unit"))
    event = events_pb2.SubActivityPlanned(
        sub_activity=sub_activity_pb2.SubActivity(
            id=str(uuid.uuid4()),
            government_code="33",
            agency_code=agency,
            fiscal_year=year,
            code=sub,
            name=f"Sub kegiatan {sub}",
            status=sub_activity_pb2.SUB_ACTIVITY_STATUS_PLANNED,
            indicators=indicators,
            version=version,
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
    t = sub_activity_output
    query = select(t.c.version).where(t.c.agency_code == agency, t.c.sub_activity_code == sub, t.c.fiscal_year == year)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        with db.engine.connect() as conn:
            if conn.scalar(query) == version:
                return
        await asyncio.sleep(0.05)
    raise AssertionError(f"budgeting did not apply SubActivityPlanned {agency} {sub} v{version} within {timeout}s")
