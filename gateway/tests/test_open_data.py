"""Open data in front of the REAL budgeting service (in-process runtime, SQLite, NATS), checked by frictionless."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import hashlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import frictionless
import grpc
import httpx
import pytest
from grms.budgeting.v1 import budget_plan_pb2, codes_pb2, prices_pb2
from grms.budgeting.v1 import budgeting_service_pb2 as pb
from grms.budgeting.v1 import budgeting_service_pb2_grpc as pb_grpc
from grms.common.v1 import money_pb2
from grms_budgeting import bootstrap
from grms_budgeting.adapters.anchor_repository import anchor_due_days
from grms_budgeting.config import Settings
from grms_gateway.app import create_app
from grms_gateway.config import GatewaySettings
from grms_kit.clock import SystemClock
from grms_kit.db import Database
from grms_kit.identity import Identity, Role, TokenCodec
from grms_kit.testing import NatsServer, free_port

from .budgeting_stack import planned_sub_activity
from .conftest import TEST_SECRET, with_lifespan_state

YEAR = 2026
AGENCY = "1.02.0.00.0.00.01.0000"
SUB = "1.02.02.2.01.0001"
ATK = "5.1.02.01.01.0024"
ITEM = "1.1.12.01.03.0005"


def _bearer(**identity: Any) -> list[tuple[str, str]]:
    return [("authorization", f"Bearer {TokenCodec(TEST_SECRET).issue(Identity(**identity))}")]


ADMIN = _bearer(sub="admin", roles=frozenset({Role.ADMIN}), government="33")
PLANNER = _bearer(sub="operator", roles=frozenset({Role.PLANNER}), government="33", agencies=frozenset({AGENCY}))
HEAD = _bearer(sub="kepala", roles=frozenset({Role.AGENCY_HEAD}), government="33", agencies=frozenset({AGENCY}))
TAPD = _bearer(sub="tapd", roles=frozenset({Role.TAPD}), government="33")


def rp(value: int) -> money_pb2.Money:
    return money_pb2.Money(rupiah=value)


async def _approved_plan(stub: pb_grpc.BudgetingServiceStub) -> budget_plan_pb2.BudgetPlan:
    await stub.RegisterGovernment(pb.RegisterGovernmentRequest(code="33", name="Provinsi Jawa Tengah"), metadata=ADMIN)
    await stub.RegisterAgency(
        pb.RegisterAgencyRequest(government_code="33", code=AGENCY, name="Dinas Kesehatan"), metadata=ADMIN
    )
    nomenclature = ["1", "1.02", "1.02.02", "1.02.02.2.01", SUB]
    await stub.ImportNomenclature(
        pb.ImportNomenclatureRequest(
            fiscal_year=YEAR,
            codes=[
                codes_pb2.NomenclatureCode(code=c, name=f"Nomenklatur {c}", for_province=True, for_regency_city=True)
                for c in nomenclature
            ],
        ),
        metadata=ADMIN,
    )
    accounts = ["5", "5.1", "5.1.02", "5.1.02.01", "5.1.02.01.01", "5.1.02.01.001.00024"]
    await stub.ImportAccountCodes(
        pb.ImportAccountCodesRequest(
            fiscal_year=YEAR, accounts=[codes_pb2.AccountCode(code=c, name=f"Rekening {c}") for c in accounts]
        ),
        metadata=ADMIN,
    )
    await stub.CreateStandardPrice(
        pb.CreateStandardPriceRequest(
            standard_price=prices_pb2.StandardPrice(
                government_code="33",
                fiscal_year=YEAR,
                group=prices_pb2.STANDARD_PRICE_GROUP_SSH,
                code=ITEM,
                name="Kertas HVS",
                specification="A4 70 gram",
                unit="rim",
                price=rp(55_000),
                account_codes=[ATK],
            )
        ),
        metadata=TAPD,
    )
    for sub, amount in ((SUB, 10_000_000), ("", 50_000_000)):
        await stub.SetCeiling(
            pb.SetCeilingRequest(
                government_code="33", fiscal_year=YEAR, agency_code=AGENCY, sub_activity_code=sub, amount=rp(amount)
            ),
            metadata=TAPD,
        )
    plan = (
        await stub.CreateBudgetPlan(
            pb.CreateBudgetPlanRequest(
                government_code="33", agency_code=AGENCY, sub_activity_code=SUB, fiscal_year=YEAR
            ),
            metadata=PLANNER,
        )
    ).budget_plan
    for volume, price, text in (("10 rim", 55_000, 'Kertas HVS A4, "putih"'), ("10 orang x 2 kali", 40_000, "HVS")):
        line = budget_plan_pb2.BudgetLineInput(
            account_code=ATK,
            standard_item_code=ITEM,
            specification=text,
            volume=volume,
            unit="rim",
            unit_price=rp(price),
            funding_source="PAD",
        )
        await stub.AddBudgetLine(pb.AddBudgetLineRequest(plan_id=plan.id, line=line), metadata=PLANNER)
    await stub.SubmitBudgetPlan(pb.SubmitBudgetPlanRequest(plan_id=plan.id), metadata=HEAD)
    await stub.VerifyBudgetPlan(pb.VerifyBudgetPlanRequest(plan_id=plan.id), metadata=TAPD)
    return (await stub.ApproveBudgetPlan(pb.ApproveBudgetPlanRequest(plan_id=plan.id), metadata=TAPD)).budget_plan


@pytest.fixture
async def world(
    nats_server: NatsServer, tmp_path: Path
) -> AsyncIterator[tuple[httpx.AsyncClient, budget_plan_pb2.BudgetPlan]]:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'budgeting.db'}",
        grpc_port=free_port(),
        nats_url=nats_server.url,
        auth_secret=TEST_SECRET,
        var_dir=tmp_path,
    )
    runtime = bootstrap.build(settings)
    stop = asyncio.Event()
    task = asyncio.create_task(runtime.run(stop))
    await asyncio.wait_for(runtime.ready.wait(), 30)
    await planned_sub_activity(runtime, nats_server.url, agency=AGENCY, sub=SUB, year=YEAR)
    async with grpc.aio.insecure_channel(settings.grpc_address) as channel:
        plan = await _approved_plan(pb_grpc.BudgetingServiceStub(channel))
    gateway_settings = GatewaySettings(
        auth_secret=TEST_SECRET, var_dir=tmp_path / "var", grpc_deadline=5.0, budgeting_grpc_port=settings.grpc_port
    )
    app = create_app(gateway_settings)
    async with app.router.lifespan_context(app) as state:
        transport = httpx.ASGITransport(app=with_lifespan_state(app, dict(state or {})), raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as client:
            yield client, plan
    stop.set()
    await asyncio.wait_for(task, 30)


async def test_the_approved_budget_is_a_valid_data_package_whose_csv_adds_up_to_the_plan(world, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    http, plan = world
    descriptor = await http.get(f"/open-data/budget/{YEAR}/datapackage.json")
    assert descriptor.status_code == 200, descriptor.text
    lines = await http.get(f"/open-data/budget/{YEAR}/budget-lines.csv")
    assert lines.status_code == 200, lines.text
    assert lines.headers["content-type"].startswith("text/csv")
    folder = tmp_path / "package"
    folder.mkdir()
    (folder / "datapackage.json").write_text(descriptor.text, encoding="utf-8")
    (folder / "budget-lines.csv").write_bytes(lines.content)

    report = frictionless.validate(str(folder / "datapackage.json"))
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])
    package = json.loads(descriptor.text)
    assert package["profile"] == "tabular-data-package"
    schema = package["resources"][0]["schema"]
    assert {f["name"]: f["type"] for f in schema["fields"]}["amount"] == "integer"
    assert schema["primaryKey"] == ["agency_code", "sub_activity_code", "line_number"]

    rows = list(csv.DictReader(lines.text.splitlines()))
    assert len(rows) == len(plan.lines) == 2
    assert sum(int(r["amount"]) for r in rows) == plan.total.rupiah == 1_350_000
    assert sum(int(r["disbursed"]) for r in rows) == 0
    first = rows[0]
    assert (first["agency_name"], first["account_code"], first["account_display_code"]) == (
        "Dinas Kesehatan",
        "5.1.02.01.001.00024",
        ATK,
    )
    assert first["description"] == 'Kertas HVS A4, "putih"'

    empty = await http.get(f"/open-data/budget/{YEAR + 1}/budget-lines.csv")
    assert empty.status_code == 200
    assert empty.text.splitlines() == [",".join(schema_field["name"] for schema_field in schema["fields"])]
    bad = await http.get("/open-data/budget/1900/budget-lines.csv")
    assert bad.status_code in (400, 422)


async def test_anomalies_and_audit_heads_are_public(world) -> None:  # type: ignore[no-untyped-def]
    http, plan = world
    anomalies = await http.get(f"/open-data/budget/{YEAR}/anomalies.json", params={"government": "33"})
    assert anomalies.status_code == 200, anomalies.text
    body = anomalies.json()
    assert body["ceiling_threshold_percent"] == 98.0
    assert [
        (b["agency_code"], b["priced_lines"], b["lines_at_ceiling"], b["line_share_percent"])
        for b in body["ceiling_bunching"]
    ] == [(AGENCY, 2, 1, 50.0)]
    assert body["ceiling_bunching"][0]["amount_at_ceiling"] == 550_000
    assert body["price_spreads"] == []  # one agency only: nothing to compare

    heads = await http.get("/open-data/audit/heads.json")
    assert heads.status_code == 200, heads.text
    published = heads.json()
    [head] = published["plans"]
    assert (head["plan_id"], head["fiscal_year"]) == (plan.id, YEAR)
    assert head["seq"] >= 5 and len(head["hash"]) == 64
    text = f"{head['plan_id']} {head['seq']} {head['hash']}\n"
    assert published["combined_hash"] == hashlib.sha256(text.encode()).hexdigest()


async def test_the_daily_anchors_are_public_newest_first_with_next_links(world, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    http, _ = world
    # Four days go by with no change: budgeting anchors each of them (its loop, run here at "now + 4 days").
    db = Database(f"sqlite:///{tmp_path / 'budgeting.db'}")
    try:
        later = dt.datetime.now(dt.UTC) + dt.timedelta(days=4)
        assert await asyncio.to_thread(anchor_due_days, bootstrap.unit_of_work_factory(db, SystemClock()), later) == 4
    finally:
        db.dispose()
    heads = (await http.get("/open-data/audit/heads.json")).json()
    assert heads["anchors"] == "http://gateway.test/open-data/audit/anchors.json?government=33"

    first = await http.get(heads["anchors"], params={"limit": 3})
    assert first.status_code == 200, first.text
    page = first.json()
    assert page["government_code"] == "33"
    days = [a["day"] for a in page["anchors"]]
    assert days == sorted(days, reverse=True) and len(days) == 3
    assert page["next"] == f"http://gateway.test/open-data/audit/anchors.json?government=33&before={days[-1]}&limit=3"
    rest = (await http.get(page["next"])).json()
    assert "next" not in rest
    anchors = page["anchors"] + rest["anchors"]
    assert len(anchors) == 4 and anchors[-1]["day"] < days[-1]
    for anchor in anchors:  # nothing changed since the approval: every day's head is today's
        assert (anchor["combined_hash"], anchor["plan_count"]) == (heads["combined_hash"], 1)
        assert anchor["entry_count"] == heads["plans"][0]["seq"] and anchor["computed_at"].endswith("Z")

    for params, status in (
        ({"before": "yesterday"}, 422),
        ({"before": "2025-02-30"}, 400),  # the right shape, not a day: budgeting says INVALID_ARGUMENT
        ({"limit": 0}, 422),
        ({"limit": 501}, 422),
        ({"government": "99"}, 404),
    ):
        bad = await http.get("/open-data/audit/anchors.json", params=params)
        assert bad.status_code == status, (params, bad.text)
        assert bad.headers["content-type"].startswith("application/problem+json")
