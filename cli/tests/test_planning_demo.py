"""The FY2025 planning demo: one catalogue with budgeting's, the procurement mix, the domain's rules, the seed."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import threading
from collections import Counter, defaultdict
from pathlib import Path

import nats
import pytest
from grms.budgeting.v1 import agency_pb2, government_pb2
from grms.budgeting.v1 import events_pb2 as budgeting_events
from grms.common.v1 import money_pb2
from grms_cli import demo_budget, demo_data, planning_demo
from grms_cli.config import CliError
from grms_cli.planning_seed import seed_planning
from grms_kit.events import Envelope
from grms_kit.messaging import ensure_stream
from grms_kit.testing import NatsServer, free_port
from grms_planning import bootstrap
from grms_planning.adapters.tables import monthly_plan, procurement_package, sub_activity
from grms_planning.config import Settings
from grms_planning.domain.model import (
    Indicator,
    IndicatorFormula,
    IndicatorKind,
    IndicatorLevel,
    Location,
    MonthlyPlan,
    SubActivity,
)
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


def test_the_planning_demo_is_budgetings_catalogue() -> None:
    subs = planning_demo.catalogue()
    budget = demo_budget.sub_activities()
    assert [(s.agency_code, s.code, s.name, s.budget) for s in subs] == [
        (b.agency_code, b.code, b.name, b.ceiling) for b in budget
    ]
    assert len(subs) == 3_000 and sum(s.budget for s in subs) == demo_budget.TOTAL_SPENDING
    for s, b in zip(subs, budget, strict=True):
        lines = demo_budget.lines_of(b)
        assert s.approved == sum(line.amount for line in lines) <= s.budget
        # The F1's money is budgeting's cash plan of the approved amount, month by month.
        assert [money for _, money in s.months] == demo_budget.cash_plan(s.approved)
        assert s.months[-1][0] == "100"
        assert dict(s.accounts) == {
            a: sum(line.amount for line in lines if line.account_code == a) for a in {x.account_code for x in lines}
        }
        assert set(s.funding_sources) == {line.funding_source for line in lines}


def test_about_1200_packages_in_the_agreed_mix_in_real_villages() -> None:
    subs = planning_demo.catalogue()
    packages = planning_demo.packages()
    assert len(packages) == planning_demo.PACKAGE_COUNT == 1_200
    methods = Counter(p.method or "swakelola" for p in packages)
    assert methods["pengadaan_langsung"] + methods["e_purchasing"] == 840  # 70 %
    assert methods["tender"] + methods["tender_cepat"] + methods["seleksi"] == 300  # 25 %
    assert methods["swakelola"] == 60  # 5 %
    accounts = {(s.agency_code, s.code): dict(s.accounts) for s in subs}
    per_account: dict[tuple[str, str, str], int] = defaultdict(int)
    for p in packages:
        per_account[(p.agency_code, p.sub_activity_code, p.account_code)] += p.value
    for (agency, code, account), value in per_account.items():
        assert value <= accounts[(agency, code)][account], "a package spends more than its account's lines"
    villages = dict(planning_demo.VILLAGES)
    assert len(villages) == len(planning_demo.VILLAGES) >= 100
    assert all(re.fullmatch(r"33\.\d{2}\.\d{2}\.[12]\d{3}", code) for code in villages)
    assert {s.village_code for s in subs} <= set(villages) and len({s.village_code for s in subs}) > 100
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
            funding_sources=s.funding_sources,
            tags=s.tags,
            now=NOW,
        )
        created.approved_budget = s.approved  # as planning learns it from BudgetPlanApproved
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
        created.set_monthly_plan(MonthlyPlan.create(s.months, budget=s.approved), expected_version=None, now=NOW)
        created.mark_planned(expected_version=None, now=NOW)
        assert created.status == Status.PLANNED
        planned[(s.agency_code, s.code)] = created
    per_sub: dict[tuple[str, str], int] = defaultdict(int)
    stored = []
    for p in planning_demo.packages():
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
    assert all(per_sub[k] <= planned[k].approved_budget for k in per_sub)  # type: ignore[operator]
    findings = detect_split_packages(stored)
    assert len(findings) == planning_demo.SPLIT_CASES and all(len(f.packages) == 3 for f in findings)
    assert all(f.procurement_type == ProcurementType.GOODS and f.total > f.threshold for f in findings)


async def _publish(url: str, facts: list[object]) -> None:
    nc = await nats.connect(url)
    js = nc.jetstream()
    await ensure_stream(js, "budgeting")
    for fact in facts:
        envelope = Envelope.wrap(fact, source="grms-budgeting", government="33", time=dt.datetime.now(dt.UTC))
        await js.publish(envelope.subject, envelope.payload, headers=envelope.headers())
    await nc.close()


def _approved(s: planning_demo.DemoSubActivity, amount: int | None = None) -> budgeting_events.BudgetPlanApproved:
    return budgeting_events.BudgetPlanApproved(
        plan_id=f"plan-{s.agency_code}-{s.code}",
        government_code="33",
        agency_code=s.agency_code,
        sub_activity_code=s.code,
        fiscal_year=planning_demo.FISCAL_YEAR,
        version=4,
        total=money_pb2.Money(rupiah=s.approved if amount is None else amount),
        line_count=30,
    )


async def test_the_seed_waits_for_the_approved_budgets_then_imports_each_agency(
    nats_server: NatsServer, tmp_path: Path
) -> None:
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
    agencies = demo_data.provincial_agencies()[:3]
    codes = {a.code for a in agencies[:2]}
    subs = [s for s in planning_demo.catalogue() if s.agency_code in codes]
    try:
        await asyncio.wait_for(runtime.ready.wait(), 30)
        facts: list[object] = [
            budgeting_events.GovernmentRegistered(government=government_pb2.Government(code="33", name="Jateng"))
        ]
        facts += [
            budgeting_events.AgencyRegistered(
                agency=agency_pb2.Agency(government_code="33", code=a.code, name=a.name, version=1)
            )
            for a in agencies
        ]
        await _publish(nats_server.url, facts)
        # The seed starts before budgeting's approvals reach planning, and waits for them.
        outcome: dict[str, object] = {}
        seeding = threading.Thread(
            target=lambda: outcome.update(
                result=seed_planning(settings.grpc_address, SECRET, agencies=2, wait_for_budget=60, poll=0.05)
            )
        )
        seeding.start()
        await asyncio.sleep(0)
        await _publish(nats_server.url, [_approved(s) for s in subs])
        await asyncio.to_thread(seeding.join, 90)
        assert not seeding.is_alive()
        result = outcome["result"]
        again = await asyncio.to_thread(seed_planning, settings.grpc_address, SECRET, agencies=2)
        # Without the approvals of the third agency, the seed gives up at its deadline and says why.
        with pytest.raises(CliError, match="has not learned budgeting's approved amounts"):
            await asyncio.to_thread(seed_planning, settings.grpc_address, SECRET, agencies=3, wait_for_budget=0.3)
        # An approved amount that is not the demo's is refused with a clear error, nothing imported.
        third = [s for s in planning_demo.catalogue() if s.agency_code == agencies[2].code]
        await _publish(nats_server.url, [_approved(s, s.approved + 1_000) for s in third])
        with pytest.raises(CliError, match="not the demo's"):
            await asyncio.to_thread(seed_planning, settings.grpc_address, SECRET, agencies=3, wait_for_budget=30)
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)
    expected_packages = sum(1 for p in planning_demo.packages() if p.agency_code in codes)
    assert expected_packages > 0
    assert (result.sub_activities_created, result.monthly_rows, result.packages_created) == (  # type: ignore[attr-defined]
        len(subs),
        12 * len(subs),
        expected_packages,
    )
    assert (again.sub_activities_created, again.sub_activities_existing, again.packages_created) == (0, len(subs), 0)
    with runtime.db.engine.connect() as conn:
        count = lambda t: conn.execute(select(func.count()).select_from(t)).scalar_one()  # noqa: E731
        assert (count(sub_activity), count(monthly_plan), count(procurement_package)) == (
            len(subs),
            12 * len(subs),
            expected_packages,
        )
        statuses = conn.execute(select(sub_activity.c.status).distinct()).scalars().all()
        disbursed = conn.execute(select(func.sum(monthly_plan.c.disbursement_rupiah))).scalar_one()
    assert statuses == ["planned"]
    assert disbursed == sum(s.approved for s in subs)
