"""The REAL budgeting service for gateway tests: its runtime in-process (SQLite, NATS) and the world plans need.

`planned_sub_activity` publishes what planning would (SubActivityPlanned with an output
indicator) and waits until budgeting's consumer has stored it, so plans may be submitted.
`budget_world` runs budgeting with Central Java's reference data of 2026 (one agency, two
sub-activities with ceilings, two standard prices) and the gateway app in front of it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import httpx
import nats
from grms.budgeting.v1 import budget_plan_pb2, codes_pb2, prices_pb2
from grms.budgeting.v1 import budgeting_service_pb2 as pb
from grms.budgeting.v1 import budgeting_service_pb2_grpc as pb_grpc
from grms.common.v1 import money_pb2
from grms.planning.v1 import events_pb2, sub_activity_pb2
from grms_budgeting import bootstrap
from grms_budgeting.config import Settings
from grms_gateway.app import create_app
from grms_gateway.config import GatewaySettings
from grms_kit.events import Envelope
from grms_kit.identity import Identity, Role, TokenCodec
from grms_kit.messaging import ensure_stream
from grms_kit.runtime import ServiceRuntime
from grms_kit.testing import free_port
from sqlalchemy import text

from .conftest import TEST_SECRET, with_lifespan_state

__all__ = [
    "AGENCY",
    "ATK",
    "ITEM",
    "SNACK",
    "SNACK_ITEM",
    "SUB",
    "SUB_2",
    "YEAR",
    "BudgetWorld",
    "budget_world",
    "planned_sub_activity",
    "token",
]

YEAR = 2026
AGENCY = "1.02.0.00.0.00.01.0000"
SUB = "1.02.02.2.01.0001"
SUB_2 = "1.02.02.2.01.0003"
ATK = "5.1.02.01.01.0024"
SNACK = "5.1.02.01.01.0052"
ITEM = "1.1.12.01.03.0005"
SNACK_ITEM = "SBU-MAMIN-01"


def token(sub: str, role: str, *, agency: bool = True) -> str:
    """A bearer token the gateway (and budgeting) accept, for a user of government 33."""
    identity = Identity(
        sub=sub, roles=frozenset({role}), government="33", agencies=frozenset({AGENCY}) if agency else frozenset()
    )
    return TokenCodec(TEST_SECRET).issue(identity)


def _metadata(sub: str, role: str, *, agency: bool = True) -> list[tuple[str, str]]:
    return [("authorization", f"Bearer {token(sub, role, agency=agency)}")]


ADMIN_MD = _metadata("admin", Role.ADMIN, agency=False)
TAPD_MD = _metadata("tapd", Role.TAPD, agency=False)


def rp(value: int) -> money_pb2.Money:
    return money_pb2.Money(rupiah=value)


async def seed_reference(stub: pb_grpc.BudgetingServiceStub) -> None:
    """Province 33, Dinas Kesehatan, the 2026 codes, two standard prices, ceilings of both sub-activities."""
    await stub.RegisterGovernment(
        pb.RegisterGovernmentRequest(code="33", name="Provinsi Jawa Tengah"), metadata=ADMIN_MD
    )
    await stub.RegisterAgency(
        pb.RegisterAgencyRequest(government_code="33", code=AGENCY, name="Dinas Kesehatan"), metadata=ADMIN_MD
    )
    nomenclature = [
        ("1", "URUSAN PEMERINTAHAN WAJIB YANG BERKAITAN DENGAN PELAYANAN DASAR"),
        ("1.02", "URUSAN PEMERINTAHAN BIDANG KESEHATAN"),
        ("1.02.02", "PROGRAM PEMENUHAN UPAYA KESEHATAN PERORANGAN DAN UPAYA KESEHATAN MASYARAKAT"),
        ("1.02.02.2.01", "Penyediaan Fasilitas Pelayanan Kesehatan"),
        (SUB, "Pembangunan Rumah Sakit beserta Sarana dan Prasarana Pendukungnya"),
        (SUB_2, "Pembangunan Fasilitas Kesehatan Lainnya"),
    ]
    await stub.ImportNomenclature(
        pb.ImportNomenclatureRequest(
            fiscal_year=YEAR,
            codes=[
                codes_pb2.NomenclatureCode(code=c, name=n, for_province=True, for_regency_city=True)
                for c, n in nomenclature
            ],
        ),
        metadata=ADMIN_MD,
    )
    accounts = ["5", "5.1", "5.1.02", "5.1.02.01", "5.1.02.01.01", ATK, SNACK]
    await stub.ImportAccountCodes(
        pb.ImportAccountCodesRequest(
            fiscal_year=YEAR, accounts=[codes_pb2.AccountCode(code=c, name=f"Rekening {c}") for c in accounts]
        ),
        metadata=ADMIN_MD,
    )
    for group, code, name, spec, unit, price, account in (
        (prices_pb2.STANDARD_PRICE_GROUP_SSH, ITEM, "Kertas HVS", "A4 70 gram", "rim", 55_000, ATK),
        (prices_pb2.STANDARD_PRICE_GROUP_SBU, SNACK_ITEM, "Kudapan rapat", "per orang per kali", "OK", 15_000, SNACK),
    ):
        await stub.CreateStandardPrice(
            pb.CreateStandardPriceRequest(
                standard_price=prices_pb2.StandardPrice(
                    government_code="33",
                    fiscal_year=YEAR,
                    group=group,
                    code=code,
                    name=name,
                    specification=spec,
                    unit=unit,
                    price=rp(price),
                    account_codes=[account],
                )
            ),
            metadata=TAPD_MD,
        )
    for sub, amount in ((SUB, 10_000_000), (SUB_2, 5_000_000), ("", 50_000_000)):
        await stub.SetCeiling(
            pb.SetCeilingRequest(
                government_code="33", fiscal_year=YEAR, agency_code=AGENCY, sub_activity_code=sub, amount=rp(amount)
            ),
            metadata=TAPD_MD,
        )


def paper_line(volume: str = "10 rim", price: int = 50_000) -> budget_plan_pb2.BudgetLineInput:
    """A line of paper on the ATK account."""
    return budget_plan_pb2.BudgetLineInput(
        account_code=ATK,
        standard_item_code=ITEM,
        specification="Kertas HVS A4 70 gram",
        volume=volume,
        unit="rim",
        unit_price=rp(price),
        funding_source="PAD",
    )


@dataclass
class BudgetWorld:
    http: httpx.AsyncClient
    stub: pb_grpc.BudgetingServiceStub
    runtime: Any
    settings: GatewaySettings


@asynccontextmanager
async def budget_world(nats_url: str, tmp_path: Path) -> AsyncIterator[BudgetWorld]:
    """Budgeting with the reference data and both sub-activities planned, and the gateway over ASGI."""
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'budgeting.db'}",
        grpc_port=free_port(),
        nats_url=nats_url,
        auth_secret=TEST_SECRET,
        var_dir=tmp_path,
    )
    runtime = bootstrap.build(settings)
    stop = asyncio.Event()
    task = asyncio.create_task(runtime.run(stop))
    try:
        await asyncio.wait_for(runtime.ready.wait(), 30)
        for sub in (SUB, SUB_2):
            await planned_sub_activity(runtime, nats_url, agency=AGENCY, sub=sub, year=YEAR)
        async with grpc.aio.insecure_channel(settings.grpc_address) as channel:
            stub = pb_grpc.BudgetingServiceStub(channel)
            await seed_reference(stub)
            gateway_settings = GatewaySettings(
                auth_secret=TEST_SECRET,
                var_dir=tmp_path / "var",
                grpc_deadline=5.0,
                budgeting_grpc_port=settings.grpc_port,
            )
            app = create_app(gateway_settings)
            async with app.router.lifespan_context(app) as state:
                transport = httpx.ASGITransport(
                    app=with_lifespan_state(app, dict(state or {})), raise_app_exceptions=False
                )
                async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as http:
                    yield BudgetWorld(http, stub, runtime, gateway_settings)
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)


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
