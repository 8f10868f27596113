"""The FY2025 planning demo: counts, the procurement mix, budgets, determinism, and the domain's own rules."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import Counter, defaultdict
from pathlib import Path

import nats
from grms.budgeting.v1 import agency_pb2, government_pb2
from grms.budgeting.v1 import events_pb2 as budgeting_events
from grms_cli import demo_data, planning_demo
from grms_cli.planning_seed import seed_planning
from grms_kit.events import Envelope
from grms_kit.messaging import ensure_stream
from grms_kit.testing import NatsServer, free_port
from grms_planning import bootstrap
from grms_planning.adapters.tables import monthly_plan, procurement_package, sub_activity
from grms_planning.config import Settings
from grms_planning.domain.curves import CurveShape, suggest_monthly_plan
from grms_planning.domain.model import Indicator, IndicatorFormula, IndicatorKind, IndicatorLevel, Location, SubActivity
from grms_planning.domain.model import SubActivityStatus as Status
from grms_planning.domain.procurement import (
    MonthRange,
    ProcurementMode,
    ProcurementPackage,
    ProcurementType,
    SelectionMethod,
    detect_split_packages,
)
from sqlalchemy import func, select

NOW = dt.datetime(2025, 1, 6, tzinfo=dt.UTC)
SECRET = "planning-seed-secret-0123456789abcdef"


def test_about_3000_sub_activities_and_1200_packages_in_the_agreed_mix() -> None:
    subs = planning_demo.catalogue()
    packages = planning_demo.packages(subs)
    assert len(subs) == 2_976 and len({(s.agency_code, s.code) for s in subs}) == 2_976
    assert {s.agency_code for s in subs} == {a.code for a in demo_data.provincial_agencies()}
    assert sum(s.budget for s in subs) == planning_demo.TOTAL_BELANJA
    assert len(packages) == 1_200
    methods = Counter(p.method or "swakelola" for p in packages)
    assert methods["pengadaan_langsung"] + methods["e_purchasing"] == 840  # 70 %
    assert methods["tender"] + methods["tender_cepat"] + methods["seleksi"] == 300  # 25 %
    assert methods["swakelola"] == 60  # 5 %
    assert planning_demo.catalogue() == subs and planning_demo.packages() == packages, "deterministic"


def test_every_demo_record_passes_the_planning_rules() -> None:
    subs = planning_demo.catalogue()
    planned: dict[tuple[str, str], SubActivity] = {}
    for s in subs:
        violations: list = []  # type: ignore[type-arg]
        location = Location.create("33", s.village_code, within="33", path="locations[0]", violations=violations)
        assert violations == [], (s.code, violations)
        created = SubActivity.create(
            government_code="33",
            agency_code=s.agency_code,
            fiscal_year=planning_demo.FISCAL_YEAR,
            code=s.code,
            name=s.name,
            budget=s.budget,
            locations=[location],
            funding_sources=[s.funding_source],
            tags=s.tags,
            now=NOW,
        )
        created.add_indicator(
            Indicator.create(
                level=IndicatorLevel.SUB_ACTIVITY,
                kind=IndicatorKind.OUTPUT,
                name=s.indicator_name,
                unit=s.indicator_unit,
                target=s.indicator_target,
                formula=IndicatorFormula.INCREASING,
            ),
            expected_version=None,
            now=NOW,
        )
        created.set_monthly_plan(suggest_monthly_plan(CurveShape(s.curve), s.budget), expected_version=None, now=NOW)
        created.mark_planned(expected_version=None, now=NOW)
        assert created.status == Status.PLANNED
        planned[(s.agency_code, s.code)] = created
    per_sub: dict[tuple[str, str], int] = defaultdict(int)
    stored = []
    for p in planning_demo.packages(subs):
        package = ProcurementPackage.plan(
            planned[(p.agency_code, p.sub_activity_code)],
            account_code=p.account_code,
            name=p.name,
            procurement_type=ProcurementType(p.procurement_type),
            mode=ProcurementMode(p.mode),
            method=SelectionMethod(p.method) if p.method else None,
            value=p.value,
            domestic_product=p.domestic_product,
            small_business=p.small_business,
            selection=MonthRange(*p.selection) if p.selection else None,
            contract=MonthRange(*p.contract),
            use=MonthRange(*p.use),
            now=NOW,
        )
        stored.append(package)
        per_sub[(p.agency_code, p.sub_activity_code)] += p.value
    assert all(per_sub[k] <= planned[k].budget for k in per_sub)
    findings = detect_split_packages(stored)
    assert len(findings) == planning_demo.SPLIT_CASES and all(len(f.packages) == 3 for f in findings)


async def test_the_seed_plans_the_demo_through_the_real_api(nats_server: NatsServer, tmp_path: Path) -> None:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'planning.db'}",
        grpc_port=free_port(),
        nats_url=nats_server.url,
        auth_secret=SECRET,
        var_dir=tmp_path,
    )
    runtime = bootstrap.build(settings)
    stop = asyncio.Event()
    task = asyncio.create_task(runtime.run(stop))
    try:
        await asyncio.wait_for(runtime.ready.wait(), 30)
        agencies = demo_data.provincial_agencies()[:2]
        nc = await nats.connect(nats_server.url)
        js = nc.jetstream()
        await ensure_stream(js, "budgeting")
        facts = [budgeting_events.GovernmentRegistered(government=government_pb2.Government(code="33", name="Jateng"))]
        facts += [
            budgeting_events.AgencyRegistered(
                agency=agency_pb2.Agency(government_code="33", code=a.code, name=a.name, version=1)
            )
            for a in agencies
        ]
        for fact in facts:
            envelope = Envelope.wrap(fact, source="grms-budgeting", government="33", time=dt.datetime.now(dt.UTC))
            await js.publish(envelope.subject, envelope.payload, headers=envelope.headers())
        await nc.close()
        result = await asyncio.to_thread(seed_planning, settings.grpc_address, SECRET, agencies=2)
        again = await asyncio.to_thread(seed_planning, settings.grpc_address, SECRET, agencies=2)
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)
    codes = {a.code for a in agencies}
    expected_packages = sum(1 for p in planning_demo.packages() if p.agency_code in codes)
    assert (result.sub_activities_created, result.packages_created) == (124, expected_packages)
    assert (again.sub_activities_created, again.sub_activities_existing, again.packages_created) == (0, 124, 0)
    with runtime.db.engine.connect() as conn:
        count = lambda t: conn.execute(select(func.count()).select_from(t)).scalar_one()  # noqa: E731
        assert (count(sub_activity), count(monthly_plan), count(procurement_package)) == (
            124,
            124 * 12,
            expected_packages,
        )
        statuses = conn.execute(select(sub_activity.c.status).distinct()).scalars().all()
    assert statuses == ["planned"]
