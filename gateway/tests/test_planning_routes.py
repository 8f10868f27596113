"""Planning's HTTP routes in front of the REAL planning service (in-process runtime, SQLite, NATS)."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import nats
import pytest
from grms.budgeting.v1 import agency_pb2, government_pb2
from grms.budgeting.v1 import events_pb2 as budgeting_events
from grms_gateway.app import create_app
from grms_gateway.config import GatewaySettings
from grms_kit.events import Envelope
from grms_kit.messaging import ensure_stream
from grms_kit.testing import NatsServer, free_port
from grms_planning import bootstrap
from grms_planning.config import Settings

from .conftest import TEST_SECRET, with_lifespan_state

AGENCY = "1.02.0.00.0.00.01.0000"


@dataclass(frozen=True)
class PlanningStack:
    """The gateway in front of the real planning runtime: its HTTP client and planning's own address."""

    http: httpx.AsyncClient
    planning_address: str
    gateway_settings: GatewaySettings


async def start_planning(nats_url: str, var_dir: Path) -> tuple[Settings, asyncio.Event, asyncio.Task[None]]:
    """Run planning (SQLite, NATS) and feed it budgeting's facts: province 33 and its health agency."""
    settings = Settings(
        database_url=f"sqlite:///{var_dir / 'planning.db'}",
        grpc_port=free_port(),
        nats_url=nats_url,
        auth_secret=TEST_SECRET,
        var_dir=var_dir,
    )
    runtime = bootstrap.build(settings)
    stop = asyncio.Event()
    task = asyncio.create_task(runtime.run(stop))
    await asyncio.wait_for(runtime.ready.wait(), 30)
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    await ensure_stream(js, "budgeting")
    facts = [
        budgeting_events.GovernmentRegistered(
            government=government_pb2.Government(code="33", name="Provinsi Jawa Tengah")
        ),
        budgeting_events.AgencyRegistered(
            agency=agency_pb2.Agency(government_code="33", code=AGENCY, name="Dinas Kesehatan", version=1)
        ),
    ]
    for fact in facts:
        envelope = Envelope.wrap(fact, source="grms-budgeting", government="33", time=dt.datetime.now(dt.UTC))
        await js.publish(envelope.subject, envelope.payload, headers=envelope.headers())
    await nc.close()
    return settings, stop, task


@asynccontextmanager
async def planning_stack(nats_url: str, tmp_path: Path) -> AsyncIterator[PlanningStack]:
    """Planning running, the gateway's lifespan started, an httpx client on it; all stopped on exit."""
    settings, stop, task = await start_planning(nats_url, tmp_path)
    gateway_settings = GatewaySettings(
        auth_secret=TEST_SECRET,
        var_dir=tmp_path / "var",
        grpc_deadline=3.0,
        planning_grpc_port=settings.grpc_port,
        ratelimit_intake_burst=1000,  # the tests file many proposals from one address; test_rate_limits tests the limit
    )
    app = create_app(gateway_settings)
    try:
        async with app.router.lifespan_context(app) as state:
            transport = httpx.ASGITransport(app=with_lifespan_state(app, dict(state or {})), raise_app_exceptions=False)
            async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as client:
                yield PlanningStack(client, settings.grpc_address, gateway_settings)
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)


@pytest.fixture
async def http(nats_server: NatsServer, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    async with planning_stack(nats_server.url, tmp_path) as stack:
        yield stack.http


BODY: dict[str, Any] = {
    "government_code": "33",
    "category": "health",
    "title": "Posyandu baru di RW 05",
    "description": "Warga membutuhkan posyandu yang lebih dekat untuk balita.",
    "proposer_name": "Siti Aminah",
    "proposer_contact": "+6281234567890",
}


async def test_public_submit_and_track_a_proposal_without_personal_data(http: httpx.AsyncClient) -> None:
    for _ in range(100):  # the reference copy (government 33) arrives through the consumer
        created = await http.post("/api/v1/proposals", json=BODY)
        if created.status_code == 201:
            break
        await asyncio.sleep(0.05)
    assert created.status_code == 201, created.text
    public_id = created.json()["public_id"]
    assert created.headers["location"] == f"/api/v1/proposals/{public_id}"
    tracked = await http.get(f"/api/v1/proposals/{public_id}")
    assert tracked.status_code == 200
    assert tracked.json()["status"] == "submitted"
    assert [h["status"] for h in tracked.json()["history"]] == ["submitted"]
    assert "Siti" not in tracked.text and "+62812" not in tracked.text

    missing = await http.get("/api/v1/proposals/U-0000000000000000")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")

    invalid = await http.post("/api/v1/proposals", json={**BODY, "title": "x"})
    assert invalid.status_code == 400
    assert invalid.headers["content-type"].startswith("application/problem+json")

    anonymous = await http.post(f"/api/v1/proposals/{public_id}/reject", json={"reason": "Bukan kewenangan"})
    assert anonymous.status_code == 401
    assert anonymous.headers["content-type"].startswith("application/problem+json")


async def test_sub_activities_need_a_login(http: httpx.AsyncClient) -> None:
    response = await http.get("/api/v1/sub-activities", params={"government": "33"})
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")
