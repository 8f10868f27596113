"""Budgeting's governments and agencies reach every other service's own database."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import grpc
import pytest
from google.protobuf import field_mask_pb2
from grms.budgeting.v1 import agency_pb2
from grms.budgeting.v1 import budgeting_service_pb2 as pb
from grms_kit.testing import SERVICES, NatsServer

from tests.e2e.suite import (
    REPLICAS,
    admin_metadata,
    agency_request,
    budgeting_stub,
    database_urls,
    replica_request,
    replica_stub,
    running_services,
)

pytestmark = pytest.mark.e2e


async def _replica_versions(addresses: dict[str, str], code: str) -> dict[str, int | None]:
    versions: dict[str, int | None] = {}
    for name in REPLICAS:
        async with grpc.aio.insecure_channel(addresses[name]) as channel:
            try:
                reply = await replica_stub(name, channel).GetAgency(
                    replica_request(name, government_code="33", code=code), timeout=5
                )
                versions[name] = reply.agency.version
            except grpc.aio.AioRpcError as exc:
                assert exc.code() == grpc.StatusCode.NOT_FOUND, exc
                versions[name] = None
    return versions


async def _until_versions(addresses: dict[str, str], code: str, version: int, timeout: float = 30) -> None:
    async def reached() -> None:
        while True:
            versions = await _replica_versions(addresses, code)
            if all(v == version for v in versions.values()):
                return
            await asyncio.sleep(0.1)

    await asyncio.wait_for(reached(), timeout)


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
async def test_agency_registered_and_updated_reaches_every_service(
    kind: str, tmp_path: Path, postgres_admin: str | None
) -> None:
    if kind == "postgresql" and postgres_admin is None:
        if os.environ.get("CI"):
            pytest.fail("CI must have PostgreSQL at 127.0.0.1:5432")
        pytest.skip("PostgreSQL is not reachable here; the SQLite variant ran")
    nats = NatsServer(tmp_path / "nats").start()
    try:
        with (
            database_urls(kind, postgres_admin, tmp_path) as urls,
            running_services(SERVICES, nats, urls, tmp_path) as procs,
        ):
            addresses = {name: p.address for name, p in procs.items()}
            md = admin_metadata()
            async with grpc.aio.insecure_channel(addresses["budgeting"]) as channel:
                budgeting = budgeting_stub(channel)
                await budgeting.RegisterGovernment(
                    pb.RegisterGovernmentRequest(code="33", name="Provinsi Jawa Tengah"), metadata=md, timeout=5
                )
                await budgeting.RegisterGovernment(
                    pb.RegisterGovernmentRequest(code="33.74", name="Kota Semarang"), metadata=md, timeout=5
                )
                reply = await budgeting.RegisterAgency(
                    agency_request("4.01.0.00.0.00.01.0000", "Badan Perencanaan Pembangunan Daerah"),
                    metadata=md,
                    timeout=5,
                )
                assert reply.agency.version == 1
                await _until_versions(addresses, "4.01.0.00.0.00.01.0000", 1)

                changed = agency_pb2.Agency(
                    government_code="33",
                    code="4.01.0.00.0.00.01.0000",
                    head=agency_pb2.AgencyHead(name="Dr. Harso Susilo, M.Si.", title="Kepala Bappeda"),
                )
                updated = await budgeting.UpdateAgency(
                    pb.UpdateAgencyRequest(
                        agency=changed, update_mask=field_mask_pb2.FieldMask(paths=["head"]), expected_version=1
                    ),
                    metadata=md,
                    timeout=5,
                )
                assert updated.agency.version == 2
                await _until_versions(addresses, "4.01.0.00.0.00.01.0000", 2)

                # A second writer still holding version 1 is refused, not silently applied.
                with pytest.raises(grpc.aio.AioRpcError) as stale:
                    await budgeting.UpdateAgency(
                        pb.UpdateAgencyRequest(
                            agency=changed, update_mask=field_mask_pb2.FieldMask(paths=["name"]), expected_version=1
                        ),
                        metadata=md,
                        timeout=5,
                    )
                assert stale.value.code() == grpc.StatusCode.ABORTED

            for name in REPLICAS:
                async with grpc.aio.insecure_channel(addresses[name]) as channel:
                    stub = replica_stub(name, channel)
                    module = __import__(f"grms.{name}.v1.{name}_service_pb2", fromlist=["x"])
                    governments = await stub.ListGovernments(module.ListGovernmentsRequest(), timeout=5)
                    assert [g.code for g in governments.governments] == ["33", "33.74"], name
                    agency = (
                        await stub.GetAgency(
                            module.GetAgencyRequest(government_code="33", code="4.01.0.00.0.00.01.0000"), timeout=5
                        )
                    ).agency
                    assert agency.head.name == "Dr. Harso Susilo, M.Si.", name
    finally:
        nats.stop()
