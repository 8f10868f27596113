"""The REAL complaints service for gateway tests: its runtime in-process (SQLite or PostgreSQL, NATS).

`start_complaints` runs it on a free port with the reference copy holding Central Java and one
agency (DINKES), fed by budgeting's facts over NATS as in production; `settings_for` points a
gateway at it and the fake suite; `live_complaints` serves that gateway on a free port for
browser and streaming tests, with the accounts the test logs in with.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import grpc
import nats
from grms.budgeting.v1 import agency_pb2, government_pb2
from grms.budgeting.v1 import events_pb2 as budgeting_events
from grms.complaints.v1 import complaints_service_pb2 as pb
from grms.complaints.v1 import complaints_service_pb2_grpc as pb_grpc
from grms_complaints import bootstrap
from grms_complaints.config import Settings as ComplaintsSettings
from grms_gateway import accounts
from grms_gateway.config import GatewaySettings
from grms_kit.events import Envelope
from grms_kit.identity import Role
from grms_kit.messaging import ensure_stream
from grms_kit.testing import free_port

from .conftest import ADMIN_PASSWORD, TEST_SECRET, FakeSuite, start_suite
from .live_gateway import AfterStart, serve_gateway

AGENCY = "DINKES"
#: (user name, role, display name): an account of government 33 with ADMIN_PASSWORD.
User = tuple[str, Role, str]


async def _publish_budgeting_facts(url: str) -> None:
    """What budgeting publishes: the province and one agency (fresh ids, so never de-duplicated)."""
    nc = await nats.connect(url)
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
        envelope = Envelope.wrap(
            fact, source="grms-budgeting", government="33", time=dt.datetime.now(dt.UTC), event_id=str(uuid.uuid4())
        )
        await js.publish(envelope.subject, envelope.payload, headers=envelope.headers())
    await nc.close()


async def start_complaints(database_url: str, nats_url: str, var_dir: Path) -> tuple[int, asyncio.Event, Any]:
    """The real complaints service on a free port, its reference copy holding Central Java and DINKES."""
    settings = ComplaintsSettings(
        database_url=database_url,
        grpc_port=free_port(),
        nats_url=nats_url,
        auth_secret=TEST_SECRET,
        var_dir=var_dir,
        notify_interval=0.05,
    )
    runtime = bootstrap.build(settings)
    stop = asyncio.Event()
    task = asyncio.create_task(runtime.run(stop))
    await asyncio.wait_for(runtime.ready.wait(), 30)
    await _publish_budgeting_facts(nats_url)
    async with grpc.aio.insecure_channel(settings.grpc_address) as channel:
        stub = pb_grpc.ComplaintsServiceStub(channel)
        for _ in range(200):
            try:
                await stub.GetAgency(pb.GetAgencyRequest(government_code="33", code=AGENCY), timeout=5)
                break
            except grpc.aio.AioRpcError:
                await asyncio.sleep(0.05)
        else:
            raise AssertionError("the reference copy never received budgeting's agency")
    return settings.grpc_port, stop, task


def settings_for(suite: FakeSuite, complaints_port: int, var_dir: Path, **extra: Any) -> GatewaySettings:
    ports = {f"{name}_grpc_port": suite.port(name) for name in suite.servers}
    ports["complaints_grpc_port"] = complaints_port
    return GatewaySettings(
        auth_secret=TEST_SECRET, var_dir=var_dir, grpc_deadline=10.0, probe_timeout=1.0, **ports, **extra
    )


def live_complaints(
    name: str,
    tmp_path: Path,
    nats_server_url: str,
    *,
    users: Sequence[User] = (),
    after_start: AfterStart | None = None,
    **settings: Any,
) -> Iterator[dict[str, Any]]:
    """A live gateway in front of the real complaints service (SQLite) and the fake suite."""

    @asynccontextmanager
    async def backend(http_port: int) -> AsyncIterator[GatewaySettings]:
        suite = await start_suite()
        port, stop, task = await start_complaints(
            f"sqlite:///{tmp_path / 'complaints.db'}", nats_server_url, tmp_path / "complaints"
        )
        try:
            gateway = settings_for(suite, port, tmp_path / "var", port=http_port, **settings)
            if users:
                accounts.migrate(gateway.accounts_database_url())
            for user, role, display in users:
                accounts.create_user(gateway.accounts_database_url(), user, ADMIN_PASSWORD, [role], "33", (), display)
            yield gateway
        finally:
            stop.set()
            await asyncio.wait_for(task, 30)
            await suite.stop_all()

    yield from serve_gateway(name, backend, after_start=after_start)
