"""(j) Planning a province-year through planning's gRPC API, beside the raw insert ceiling of the same rows.

The demo year (grms_cli.planning_demo, budgeting's catalogue): 3,000 sub-activities of 48
agencies, each created, given its output indicator, its F1 (12 monthly rows adding up to the
amount budgeting approved, which planning's copy holds as if learned from BudgetPlanApproved)
and marked planned — four calls, as a planner's screen makes them — then 1,200 RUP packages; 8 agencies in flight at a
time. The service is the real PlanningApi on a real grpc.aio server with the GRMS interceptors
(token check, deadline) and a SQLite file with the service's settings (WAL, synchronous=FULL);
every transaction also writes its outbox rows, as in production (the relay is not running:
publishing is measured by sections a–c).

The ceiling writes the same rows (sub_activity, indicator, location, monthly_plan,
procurement_package, outbox-free) straight into a migrated database of the same kind with
SQLAlchemy Core executemany, one transaction per agency: what the disk and driver allow
with no validation, no gRPC and no per-call transaction.

The bulk path: the same year through ImportSubActivities, one request (one transaction,
the same domain rules) per agency, 8 agencies in flight, built as `grms seed-planning` builds them.

Also timed: the split-package detector over the whole year (DetectSplitPackages), target < 1 s.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import grpc
from grms.common.v1 import paging_pb2
from grms.planning.v1 import planning_service_pb2 as pb
from grms.planning.v1 import planning_service_pb2_grpc as pb_grpc
from grms_cli import planning_demo
from grms_cli.planning_seed import import_request, plan_of
from grms_kit.clock import SystemClock
from grms_kit.db import Database
from grms_kit.grpc_server import GrpcServer
from grms_kit.identity import Identity, Role, TokenCodec
from grms_kit.migrations import alembic_config
from grms_kit.testing import free_port
from grms_planning import bootstrap
from grms_planning.adapters import tables
from grms_planning.domain.procurement import DEFAULT_THRESHOLDS
from grms_planning.entrypoints.grpc_api import PlanningApi
from sqlalchemy import insert

from bench.common import Report

SECRET = "bench-planning-secret-0123456789abcdef"
IN_FLIGHT = 8
YEAR = planning_demo.FISCAL_YEAR


def _migrate(path: Path) -> str:
    from alembic import command

    url = f"sqlite:///{path}"
    command.upgrade(alembic_config(url, bootstrap.MIGRATIONS, bootstrap.SERVICE), "head")
    return url


def _reference(db: Database, subs: list[Any]) -> None:
    """The copy of budgeting's province, agencies and approved amounts (set-up, not measured)."""
    agencies = list(dict.fromkeys(s.agency_code for s in subs))
    now = dt.datetime.now(dt.UTC)
    with db.engine.begin() as conn:
        conn.execute(
            insert(tables.reference.government).values(
                code="33", name="Provinsi Jawa Tengah", payload=b"", synced_at=now
            )
        )
        conn.execute(
            insert(tables.reference.agency),
            [
                {"government_code": "33", "code": a, "name": a, "version": 1, "payload": b"", "synced_at": now}
                for a in agencies
            ],
        )
        conn.execute(
            insert(tables.approved_budget),
            [
                {"government_code": "33", "fiscal_year": YEAR, "agency_code": s.agency_code,
                 "sub_activity_code": s.code, "amount_rupiah": s.approved, "plan_id": f"plan-{s.code}",
                 "plan_version": 1, "approved_at": now}
                for s in subs
            ],
        )  # fmt: skip


async def _bulk_import(workdir: Path, subs: list[Any], packages: list[Any]) -> dict[str, float]:
    url = _migrate(workdir / "planning-import.db")
    db = Database(url)
    _reference(db, subs)
    clock = SystemClock()
    api = PlanningApi(db, bootstrap.unit_of_work_factory(db, clock), None, DEFAULT_THRESHOLDS)
    name = pb.DESCRIPTOR.services_by_name["PlanningService"].full_name
    server = GrpcServer(
        f"127.0.0.1:{free_port()}", [(pb_grpc.add_PlanningServiceServicer_to_server, api, name)], TokenCodec(SECRET)
    )
    await server.start()
    await server.set_serving(True)
    token = TokenCodec(SECRET).issue(Identity(sub="bench", roles=frozenset({Role.ADMIN}), government="33"))
    metadata = [("authorization", f"Bearer {token}")]
    by_agency: dict[str, list[Any]] = {}
    for s in subs:
        by_agency.setdefault(s.agency_code, []).append(s)
    requests = [import_request(agency, items, YEAR) for agency, items in by_agency.items()]
    try:
        async with grpc.aio.insecure_channel(server.address) as ch:
            stub = pb_grpc.PlanningServiceStub(ch)
            gate = asyncio.Semaphore(IN_FLIGHT)

            async def send(request: pb.ImportSubActivitiesRequest) -> pb.ImportSubActivitiesResponse:
                async with gate:
                    return await stub.ImportSubActivities(request, metadata=metadata, timeout=120)

            started = time.perf_counter()
            answers = await asyncio.gather(*(send(r) for r in requests))
            seconds = time.perf_counter() - started
    finally:
        await server.stop(1.0)
        db.engine.dispose()
    assert sum(a.sub_activities for a in answers) == len(subs) and sum(a.packages for a in answers) == len(packages)
    return {
        "seconds": seconds,
        "requests": len(requests),
        "sub_activities_per_s": len(subs) / seconds,
        "monthly_rows_per_s": sum(a.monthly_rows for a in answers) / seconds,
        "rows": _rows(subs, packages),
        "rows_per_s": _rows(subs, packages) / seconds,
    }


async def _through_api(workdir: Path, subs: list[Any], packages: list[Any]) -> dict[str, float]:
    url = _migrate(workdir / "planning-api.db")
    db = Database(url)
    _reference(db, subs)
    clock = SystemClock()
    api = PlanningApi(db, bootstrap.unit_of_work_factory(db, clock), None, DEFAULT_THRESHOLDS)
    name = pb.DESCRIPTOR.services_by_name["PlanningService"].full_name
    server = GrpcServer(
        f"127.0.0.1:{free_port()}", [(pb_grpc.add_PlanningServiceServicer_to_server, api, name)], TokenCodec(SECRET)
    )
    await server.start()
    await server.set_serving(True)
    token = TokenCodec(SECRET).issue(Identity(sub="bench", roles=frozenset({Role.ADMIN}), government="33"))
    metadata = [("authorization", f"Bearer {token}")]
    ids: dict[tuple[str, str], str] = {}
    calls = 0
    try:
        async with grpc.aio.insecure_channel(server.address) as ch:
            stub = pb_grpc.PlanningServiceStub(ch)
            by_agency: dict[str, list[Any]] = {}
            for s in subs:
                by_agency.setdefault(s.agency_code, []).append(s)
            gate = asyncio.Semaphore(IN_FLIGHT)

            async def plan_agency(items: list[Any]) -> int:
                n = 0
                async with gate:
                    for s in items:
                        plan = plan_of(s, [])
                        created = await stub.CreateSubActivity(
                            pb.CreateSubActivityRequest(
                                government_code="33", agency_code=s.agency_code, fiscal_year=YEAR, code=plan.code,
                                name=plan.name, budget=plan.budget, locations=plan.locations,
                                funding_sources=plan.funding_sources, tags=plan.tags,
                            ),
                            metadata=metadata,
                            timeout=30,
                        )  # fmt: skip
                        sid = created.sub_activity.id
                        await stub.AddIndicator(
                            pb.AddIndicatorRequest(sub_activity_id=sid, indicator=plan.indicators[0]),
                            metadata=metadata,
                            timeout=30,
                        )
                        planned = await stub.SetMonthlyPlan(
                            pb.SetMonthlyPlanRequest(sub_activity_id=sid, months=plan.months, expected_version=2),
                            metadata=metadata,
                            timeout=30,
                        )
                        await stub.MarkSubActivityPlanned(
                            pb.MarkSubActivityPlannedRequest(
                                sub_activity_id=sid, expected_version=planned.sub_activity.version
                            ),
                            metadata=metadata,
                            timeout=30,
                        )
                        ids[(s.agency_code, s.code)] = sid
                        n += 4
                return n

            async def package_agency(items: list[Any]) -> int:
                async with gate:
                    for p in items:
                        request = _package_request(p, ids[(p.agency_code, p.sub_activity_code)])
                        await stub.CreateProcurementPackage(request, metadata=metadata, timeout=30)
                return len(items)

            started = time.perf_counter()
            calls += sum(await asyncio.gather(*(plan_agency(items) for items in by_agency.values())))
            planned_at = time.perf_counter()
            pk_by_agency: dict[str, list[Any]] = {}
            for p in packages:
                pk_by_agency.setdefault(p.agency_code, []).append(p)
            calls += sum(await asyncio.gather(*(package_agency(items) for items in pk_by_agency.values())))
            finished = time.perf_counter()

            detect_started = time.perf_counter()
            findings = await stub.DetectSplitPackages(
                pb.DetectSplitPackagesRequest(government_code="33", fiscal_year=YEAR), metadata=metadata, timeout=30
            )
            detect_seconds = time.perf_counter() - detect_started
            listed = await stub.ListProcurementPackages(
                pb.ListProcurementPackagesRequest(
                    government_code="33", fiscal_year=YEAR, page=paging_pb2.PageRequest(page_size=1)
                ),
                metadata=metadata,
                timeout=30,
            )
            assert listed.packages, "the packages were not stored"
    finally:
        await server.stop(1.0)
        db.engine.dispose()
    total = finished - started
    return {
        "seconds": total,
        "sub_activity_seconds": planned_at - started,
        "package_seconds": finished - planned_at,
        "calls": calls,
        "calls_per_s": calls / total,
        "sub_activities_per_s": len(subs) / (planned_at - started),
        "monthly_rows_per_s": 12 * len(subs) / (planned_at - started),
        "packages_per_s": len(packages) / (finished - planned_at),
        "rows": _rows(subs, packages),
        "rows_per_s": _rows(subs, packages) / total,
        "split_detector_seconds": detect_seconds,
        "split_findings": len(findings.findings),
    }


def _package_request(p: Any, sub_activity_id: str) -> pb.CreateProcurementPackageRequest:
    """CreateProcurementPackage with the fields the seed's import would send for `p`."""
    d = next(iter(plan_of(planning_demo.catalogue()[0], [p]).packages))
    request = pb.CreateProcurementPackageRequest(
        sub_activity_id=sub_activity_id, account_code=d.account_code, name=d.name,
        procurement_type=d.procurement_type, mode=d.mode, method=d.method, value=d.value,
        domestic_product=d.domestic_product, small_business=d.small_business,
        contract_schedule=d.contract_schedule, use_schedule=d.use_schedule,
    )  # fmt: skip
    if d.HasField("selection_schedule"):
        request.selection_schedule.CopyFrom(d.selection_schedule)
    return request


def _rows(subs: list[Any], packages: list[Any]) -> int:
    """Rows a planned year holds: sub-activity, indicator, location, 12 months each; one per package."""
    return len(subs) * (1 + 1 + 1 + 12) + len(packages)


def _raw_ceiling(workdir: Path, subs: list[Any], packages: list[Any]) -> dict[str, float]:
    url = _migrate(workdir / "planning-raw.db")
    db = Database(url)
    now = dt.datetime.now(dt.UTC)
    by_agency: dict[str, list[Any]] = {}
    for s in subs:
        by_agency.setdefault(s.agency_code, []).append(s)
    pk_by_sub: dict[tuple[str, str], list[Any]] = {}
    for p in packages:
        pk_by_sub.setdefault((p.agency_code, p.sub_activity_code), []).append(p)
    try:
        started = time.perf_counter()
        for items in by_agency.values():
            rows: dict[str, list[dict[str, Any]]] = {"s": [], "i": [], "l": [], "m": [], "p": []}
            for s in items:
                sid = str(uuid.uuid4())
                rows["s"].append(
                    {
                        "id": sid, "government_code": "33", "agency_code": s.agency_code, "fiscal_year": YEAR,
                        "code": s.code, "name": s.name, "budget_rupiah": s.budget, "packaged_rupiah": 0,
                        "status": "planned", "funding_sources": list(s.funding_sources), "tags": list(s.tags),
                        "version": 5,
                        "created_at": now, "updated_at": now,
                    }
                )  # fmt: skip
                rows["i"].append(
                    {
                        "sub_activity_id": sid, "position": 0, "level": "sub_activity", "kind": "output",
                        "name": s.indicator_name, "unit": s.indicator_unit, "target": s.indicator_target,
                        "formula": "increasing",
                    }
                )  # fmt: skip
                rows["l"].append(
                    {"sub_activity_id": sid, "position": 0, "government_code": "33", "village_code": s.village_code,
                     "latitude": None, "longitude": None}
                )  # fmt: skip
                rows["m"].extend(
                    {"sub_activity_id": sid, "month": m, "physical_basis_points": int(Decimal(percent) * 100),
                     "disbursement_rupiah": money}
                    for m, (percent, money) in enumerate(s.months, start=1)
                )  # fmt: skip
                for p in pk_by_sub.get((s.agency_code, s.code), []):
                    rows["p"].append(
                        {
                            "id": str(uuid.uuid4()), "sub_activity_id": sid, "government_code": "33",
                            "agency_code": p.agency_code, "fiscal_year": YEAR, "sub_activity_code": p.sub_activity_code,
                            "account_code": p.account_code, "name": p.name, "procurement_type": p.procurement_type,
                            "mode": p.mode, "method": p.method or None, "value_rupiah": p.value,
                            "domestic_product": p.domestic_product, "small_business": p.small_business,
                            "selection_start_month": p.selection[0] if p.selection else None,
                            "selection_end_month": p.selection[1] if p.selection else None,
                            "contract_start_month": p.contract[0], "contract_end_month": p.contract[1],
                            "use_start_month": p.use[0], "use_end_month": p.use[1], "created_at": now,
                        }
                    )  # fmt: skip
            with db.engine.begin() as conn:
                conn.execute(insert(tables.sub_activity), rows["s"])
                conn.execute(insert(tables.indicator), rows["i"])
                conn.execute(insert(tables.sub_activity_location), rows["l"])
                conn.execute(insert(tables.monthly_plan), rows["m"])
                if rows["p"]:
                    conn.execute(insert(tables.procurement_package), rows["p"])
        seconds = time.perf_counter() - started
    finally:
        db.engine.dispose()
    return {"seconds": seconds, "rows": _rows(subs, packages), "rows_per_s": _rows(subs, packages) / seconds}


async def run(report: Report, workdir: Path) -> dict[str, Any]:
    """Measure section (j) and add its rows to the report."""
    subs = list(planning_demo.catalogue())
    packages = list(planning_demo.packages())
    raw = await asyncio.to_thread(_raw_ceiling, workdir, subs, packages)
    bulk = await _bulk_import(workdir, subs, packages)
    api = await _through_api(workdir, subs, packages)
    ratio = api["rows_per_s"] / raw["rows_per_s"]
    bulk_ratio = bulk["rows_per_s"] / raw["rows_per_s"]
    report.section(
        f"(j) planning a province-year: {len(subs):,} sub-activities, {12 * len(subs):,} monthly rows, "
        f"{len(packages):,} packages"
    )
    report.line(
        "through the gRPC API",
        f"{api['seconds']:.1f} s",
        f"{api['calls']:,} calls, {api['calls_per_s']:,.0f} calls/s, {IN_FLIGHT} agencies in flight",
    )
    report.line(
        "  sub-activities planned",
        f"{api['sub_activities_per_s']:,.0f} /s",
        f"{api['monthly_rows_per_s']:,.0f} monthly rows/s",
    )
    report.line("  packages planned", f"{api['packages_per_s']:,.0f} /s")
    report.line("bulk import (ImportSubActivities)", f"{bulk['seconds']:.1f} s",
                f"{bulk['requests']} requests (one per agency), {bulk['sub_activities_per_s']:,.0f} sub-activities/s, "
                f"{bulk['monthly_rows_per_s']:,.0f} monthly rows/s")  # fmt: skip
    report.line("raw insert ceiling (same rows)", f"{raw['seconds']:.2f} s", f"{raw['rows_per_s']:,.0f} rows/s")
    report.line(
        "bulk import ÷ ceiling (rows/s)",
        f"{bulk_ratio:.3f}",
        f"{bulk['rows_per_s']:,.0f} vs {raw['rows_per_s']:,.0f} rows/s",
    )
    report.line(
        "API ÷ ceiling (rows/s)", f"{ratio:.3f}", f"{api['rows_per_s']:,.0f} vs {raw['rows_per_s']:,.0f} rows/s"
    )
    report.line("split-package detector, whole year", f"{api['split_detector_seconds'] * 1000:.0f} ms",
                f"{api['split_findings']} findings; target < 1 s")  # fmt: skip
    return {"api": api, "bulk": bulk, "raw": raw, "ratio": ratio, "bulk_ratio": bulk_ratio, "in_flight": IN_FLIGHT}
