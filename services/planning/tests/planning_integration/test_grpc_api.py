"""PlanningService over real gRPC, a real database (SQLite and PostgreSQL) and real NATS.

The reference copy is fed the real way: budgeting's events are published on the shared
broker's GRMS_BUDGETING stream and planning's `planning-budgeting-reference` consumer
applies them. The broker is shared by the whole test session, so assertions on streams
look only at this test's own ids.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import datetime as dt
import io
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import nats
import pytest
from google.rpc import error_details_pb2
from grms.budgeting.v1 import agency_pb2, government_pb2
from grms.budgeting.v1 import events_pb2 as budgeting_events
from grms.common.v1 import money_pb2, paging_pb2
from grms.planning.v1 import events_pb2, procurement_pb2, sub_activity_pb2
from grms.planning.v1 import planning_service_pb2 as pb
from grms.planning.v1 import planning_service_pb2_grpc as pb_grpc
from grms_kit.events import Envelope
from grms_kit.identity import Identity, Role, TokenCodec
from grms_kit.messaging import ensure_stream
from grms_kit.runtime import ServiceRuntime
from grms_kit.testing import NatsServer, free_port
from grms_planning import bootstrap
from grms_planning.adapters.tables import messaging, procurement_package, sub_activity
from grms_planning.config import Settings
from grpc_status import rpc_status
from sqlalchemy import func, select

SECRET = "planning-test-secret-0123456789abcdef"
AGENCY = "1.02.0.00.0.00.01.0000"
JUTA = 1_000_000


def bearer(**identity: object) -> list[tuple[str, str]]:
    token = TokenCodec(SECRET).issue(Identity(**identity))  # type: ignore[arg-type]
    return [("authorization", f"Bearer {token}")]


PLANNER = bearer(sub="planner", roles=frozenset({Role.PLANNER}), government="33", agencies=frozenset({AGENCY}))


async def _publish_reference(url: str) -> None:
    """Publish budgeting's facts about Jawa Tengah, Kota Semarang and one agency."""
    now = dt.datetime.now(dt.UTC)
    facts = [
        budgeting_events.GovernmentRegistered(
            government=government_pb2.Government(
                code="33", name="Provinsi Jawa Tengah", level=government_pb2.GOVERNMENT_LEVEL_PROVINCE
            )
        ),
        budgeting_events.GovernmentRegistered(
            government=government_pb2.Government(
                code="33.74", name="Kota Semarang", level=government_pb2.GOVERNMENT_LEVEL_CITY, parent_code="33"
            )
        ),
        budgeting_events.AgencyRegistered(
            agency=agency_pb2.Agency(government_code="33", code=AGENCY, name="Dinas Kesehatan", version=1)
        ),
    ]
    nc = await nats.connect(url)
    try:
        js = nc.jetstream()
        await ensure_stream(js, "budgeting")
        for fact in facts:
            envelope = Envelope.wrap(fact, source="grms-budgeting", government="33", time=now)
            await js.publish(envelope.subject, envelope.payload, headers=envelope.headers())
    finally:
        await nc.close()


@pytest.fixture
async def service(
    database_url: str, nats_server: NatsServer, tmp_path: Path
) -> AsyncIterator[tuple[pb_grpc.PlanningServiceStub, ServiceRuntime]]:
    settings = Settings(
        database_url=database_url,
        grpc_port=free_port(),
        nats_url=nats_server.url,
        auth_secret=SECRET,
        var_dir=tmp_path,
    )
    runtime = bootstrap.build(settings)
    stop = asyncio.Event()
    task = asyncio.create_task(runtime.run(stop))
    await asyncio.wait_for(runtime.ready.wait(), 30)
    await _publish_reference(nats_server.url)
    async with grpc.aio.insecure_channel(settings.grpc_address) as channel:
        stub = pb_grpc.PlanningServiceStub(channel)
        for _ in range(200):  # the replica consumer applies the facts within moments
            try:
                await stub.GetAgency(pb.GetAgencyRequest(government_code="33", code=AGENCY), timeout=5)
                governments = await stub.ListGovernments(pb.ListGovernmentsRequest(), timeout=5)
                if {g.code for g in governments.governments} >= {"33", "33.74"}:
                    break
            except grpc.aio.AioRpcError as exc:
                if exc.code() != grpc.StatusCode.NOT_FOUND:
                    raise
            await asyncio.sleep(0.05)
        else:
            pytest.fail("the reference copy never arrived")
        yield stub, runtime
    stop.set()
    await asyncio.wait_for(task, 30)


def _violations(exc: grpc.aio.AioRpcError) -> dict[str, str]:
    status = rpc_status.from_call(exc)
    assert status is not None
    out: dict[str, str] = {}
    for detail in status.details:
        bad = error_details_pb2.BadRequest()
        assert detail.Unpack(bad)
        out.update({v.field: v.description for v in bad.field_violations})
    return out


def _rp(value: int) -> money_pb2.Money:
    return money_pb2.Money(rupiah=value)


def _create_request(**overrides: object) -> pb.CreateSubActivityRequest:
    values: dict[str, object] = {
        "government_code": "33",
        "agency_code": AGENCY,
        "fiscal_year": 2025,
        "code": "1.02.02.2.01.0001",
        "name": "Pengelolaan Pelayanan Kesehatan Ibu Hamil",
        "budget": _rp(2_000 * JUTA),
        "locations": [
            sub_activity_pb2.Location(
                government_code="33.74", village_code="33.74.01.1001", latitude="-6.9932", longitude="110.4203"
            )
        ],
        "funding_sources": ["PAD"],
        "tags": ["stunting"],
    }
    values.update(overrides)
    return pb.CreateSubActivityRequest(**values)  # type: ignore[arg-type]


def _package_request(
    sub_activity_id: str, name: str, value: int, **overrides: object
) -> pb.CreateProcurementPackageRequest:
    values: dict[str, object] = {
        "sub_activity_id": sub_activity_id,
        "account_code": "5.1.02.01.01.0024",
        "name": name,
        "procurement_type": procurement_pb2.PROCUREMENT_TYPE_GOODS,
        "mode": procurement_pb2.PROCUREMENT_MODE_PROVIDER,
        "method": procurement_pb2.SELECTION_METHOD_PENGADAAN_LANGSUNG,
        "value": _rp(value),
        "domestic_product": True,
        "small_business": True,
        "selection_schedule": procurement_pb2.MonthRange(start_month=2, end_month=2),
        "contract_schedule": procurement_pb2.MonthRange(start_month=3, end_month=4),
        "use_schedule": procurement_pb2.MonthRange(start_month=4, end_month=12),
    }
    values.update(overrides)
    return pb.CreateProcurementPackageRequest(**values)  # type: ignore[arg-type]


def _count(runtime: ServiceRuntime, table: object) -> int:
    with runtime.db.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())  # type: ignore[arg-type]


async def test_plan_a_sub_activity_and_its_procurement_with_events(service, nats_server: NatsServer) -> None:  # type: ignore[no-untyped-def]
    stub, runtime = service
    created = (await stub.CreateSubActivity(_create_request(), metadata=PLANNER, timeout=5)).sub_activity
    assert (created.status, created.version, created.budget.rupiah) == (
        sub_activity_pb2.SUB_ACTIVITY_STATUS_DRAFT,
        1,
        2_000 * JUTA,
    )
    assert created.locations[0].latitude == "-6.9932"
    with_indicator = await stub.AddIndicator(
        pb.AddIndicatorRequest(
            sub_activity_id=created.id,
            indicator=sub_activity_pb2.Indicator(
                level=sub_activity_pb2.INDICATOR_LEVEL_SUB_ACTIVITY,
                kind=sub_activity_pb2.INDICATOR_KIND_OUTPUT,
                name="Jumlah ibu hamil yang mendapatkan pelayanan kesehatan",
                unit="orang",
                target="1250",
                formula=sub_activity_pb2.INDICATOR_FORMULA_INCREASING,
            ),
            expected_version=1,
        ),
        metadata=PLANNER,
        timeout=5,
    )
    assert with_indicator.sub_activity.indicators[0].code == "1.02.02.2.01.0001"

    suggestion = await stub.SuggestMonthlyPlan(
        pb.SuggestMonthlyPlanRequest(sub_activity_id=created.id, shape=sub_activity_pb2.CURVE_SHAPE_CONSTRUCTION),
        metadata=PLANNER,
        timeout=5,
    )
    assert [p.physical_percent for p in suggestion.s_curve][:4] == ["0.00", "0.00", "0.00", "2.00"]
    set_plan = pb.SetMonthlyPlanRequest(sub_activity_id=created.id, months=suggestion.months, expected_version=2)
    planned_f1 = await stub.SetMonthlyPlan(set_plan, metadata=PLANNER, timeout=5)
    assert len(planned_f1.s_curve) == 12
    assert planned_f1.s_curve[-1].cumulative_disbursement.rupiah == 2_000 * JUTA
    with pytest.raises(grpc.aio.AioRpcError) as stale:
        await stub.SetMonthlyPlan(set_plan, metadata=PLANNER, timeout=5)
    assert stale.value.code() == grpc.StatusCode.ABORTED

    planned = await stub.MarkSubActivityPlanned(
        pb.MarkSubActivityPlannedRequest(sub_activity_id=created.id), metadata=PLANNER, timeout=5
    )
    assert planned.sub_activity.status == sub_activity_pb2.SUB_ACTIVITY_STATUS_PLANNED

    package_ids = []
    for i in range(3):
        response = await stub.CreateProcurementPackage(
            _package_request(created.id, f"Pengadaan ATK tahap {i + 1}", 195 * JUTA), metadata=PLANNER, timeout=5
        )
        assert response.package.mak == "1.02.02.2.01.0001.5.1.02.01.01.0024"
        package_ids.append(response.package.id)

    packages_before, outbox_before = _count(runtime, procurement_package), _count(runtime, messaging.outbox)
    with pytest.raises(grpc.aio.AioRpcError) as over:
        await stub.CreateProcurementPackage(
            _package_request(
                created.id,
                "Pembangunan Puskesmas",
                1_500 * JUTA,
                procurement_type=procurement_pb2.PROCUREMENT_TYPE_WORKS,
                method=procurement_pb2.SELECTION_METHOD_TENDER,
            ),
            metadata=PLANNER,
            timeout=5,
        )
    assert over.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "Pembangunan Puskesmas" in (over.value.details() or "")
    assert (_count(runtime, procurement_package), _count(runtime, messaging.outbox)) == (
        packages_before,
        outbox_before,
    )

    fetched = await stub.GetSubActivity(pb.GetSubActivityRequest(id=created.id), metadata=PLANNER, timeout=5)
    assert fetched.sub_activity.packaged.rupiah == 585 * JUTA
    assert len(fetched.s_curve) == 12

    listed, token = [], ""
    while True:
        page = await stub.ListProcurementPackages(
            pb.ListProcurementPackagesRequest(
                government_code="33", fiscal_year=2025, page={"page_size": 2, "page_token": token}
            ),
            metadata=PLANNER,
            timeout=5,
        )
        listed += [p.id for p in page.packages]
        token = page.page.next_page_token
        if not token:
            break
    assert sorted(listed) == sorted(package_ids)

    findings = await stub.DetectSplitPackages(
        pb.DetectSplitPackagesRequest(government_code="33", fiscal_year=2025), metadata=PLANNER, timeout=5
    )
    assert len(findings.findings) == 1
    assert sorted(p.id for p in findings.findings[0].packages) == sorted(package_ids)
    assert (findings.findings[0].total.rupiah, findings.goods_threshold.rupiah) == (585 * JUTA, 200 * JUTA)

    chunks = [
        c.csv_chunk
        async for c in stub.ExportSirup(
            pb.ExportSirupRequest(government_code="33", fiscal_year=2025), metadata=PLANNER, timeout=5
        )
    ]
    rows = list(csv.DictReader(io.StringIO("".join(chunks))))
    assert sorted(r["Kode Paket"] for r in rows) == sorted(package_ids)
    assert {r["Metode Pemilihan"] for r in rows} == {"Pengadaan Langsung"}

    nc = await nats.connect(nats_server.url)
    try:
        sub = await nc.jetstream().subscribe("grms.planning.>", ordered_consumer=True)
        mine: list[nats.aio.msg.Msg] = []
        while len(mine) < 4:
            msg = await sub.next_msg(timeout=10)
            if msg.subject.endswith("sub_activity_planned.v1"):
                if events_pb2.SubActivityPlanned.FromString(msg.data).sub_activity.id == created.id:
                    mine.append(msg)
            elif msg.subject.endswith("procurement_planned.v1"):
                if events_pb2.ProcurementPlanned.FromString(msg.data).package.id in package_ids:
                    mine.append(msg)
    finally:
        await nc.close()
    assert [m.subject for m in mine] == ["grms.planning.sub_activity_planned.v1"] + [
        "grms.planning.procurement_planned.v1"
    ] * 3
    first = mine[0]
    assert first.headers["ce-type"] == "grms.planning.v1.SubActivityPlanned"
    assert first.headers["ce-source"] == "grms-planning"
    assert first.headers["grms-government"] == "33"
    event = events_pb2.SubActivityPlanned.FromString(first.data)
    assert len(event.s_curve) == 12 and event.sub_activity.indicators[0].target == "1250"


async def test_callers_mistakes_are_named_and_nothing_is_stored(service) -> None:  # type: ignore[no-untyped-def]
    stub, runtime = service
    with pytest.raises(grpc.aio.AioRpcError) as unknown_location:
        await stub.CreateSubActivity(
            _create_request(locations=[sub_activity_pb2.Location(government_code="33.29")]), metadata=PLANNER, timeout=5
        )
    assert unknown_location.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "not known" in _violations(unknown_location.value)["locations[0].government_code"]

    admin = bearer(sub="admin", roles=frozenset({Role.ADMIN}), government="33")
    with pytest.raises(grpc.aio.AioRpcError) as unknown_agency:
        await stub.CreateSubActivity(_create_request(agency_code="DISHUB"), metadata=admin, timeout=5)
    assert unknown_agency.value.code() == grpc.StatusCode.FAILED_PRECONDITION

    with pytest.raises(grpc.aio.AioRpcError) as bad_code:
        await stub.CreateSubActivity(_create_request(code="1.02.2.01.1", tags=["unicorn"]), metadata=PLANNER, timeout=5)
    assert set(_violations(bad_code.value)) == {"code", "tags[0]"}
    assert _count(runtime, sub_activity) == 0

    created = (await stub.CreateSubActivity(_create_request(), metadata=PLANNER, timeout=5)).sub_activity
    suggestion = await stub.SuggestMonthlyPlan(
        pb.SuggestMonthlyPlanRequest(sub_activity_id=created.id, shape=sub_activity_pb2.CURVE_SHAPE_SERVICES),
        metadata=PLANNER,
        timeout=5,
    )
    months = list(suggestion.months)
    months[4] = sub_activity_pb2.MonthPlan(month=5, physical_percent="10.00", disbursement=months[4].disbursement)
    with pytest.raises(grpc.aio.AioRpcError) as backwards:
        await stub.SetMonthlyPlan(
            pb.SetMonthlyPlanRequest(sub_activity_id=created.id, months=months, expected_version=1),
            metadata=PLANNER,
            timeout=5,
        )
    assert backwards.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert set(_violations(backwards.value)) == {"months[4].physical_percent"}

    with pytest.raises(grpc.aio.AioRpcError) as not_ready:
        await stub.MarkSubActivityPlanned(
            pb.MarkSubActivityPlannedRequest(sub_activity_id=created.id), metadata=PLANNER, timeout=5
        )
    assert not_ready.value.code() == grpc.StatusCode.FAILED_PRECONDITION

    with pytest.raises(grpc.aio.AioRpcError) as unspecified:
        await stub.SuggestMonthlyPlan(
            pb.SuggestMonthlyPlanRequest(sub_activity_id=created.id), metadata=PLANNER, timeout=5
        )
    assert set(_violations(unspecified.value)) == {"shape"}

    cases = [
        (stub.GetSubActivity(pb.GetSubActivityRequest(id=created.id), timeout=5), grpc.StatusCode.UNAUTHENTICATED),
        (
            stub.GetSubActivity(
                pb.GetSubActivityRequest(id=created.id),
                metadata=bearer(sub="kota", roles=frozenset({Role.PLANNER}), government="33.74"),
                timeout=5,
            ),
            grpc.StatusCode.NOT_FOUND,
        ),
        (
            stub.CreateSubActivity(
                _create_request(fiscal_year=2026),
                metadata=bearer(sub="t", roles=frozenset({Role.TREASURER}), government="33"),
                timeout=5,
            ),
            grpc.StatusCode.PERMISSION_DENIED,
        ),
        (stub.CreateSubActivity(_create_request(), metadata=PLANNER, timeout=5), grpc.StatusCode.ALREADY_EXISTS),
    ]
    for call, expected in cases:
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await call
        assert info.value.code() == expected, info.value.details()
    assert _count(runtime, sub_activity) == 1

    listed = await stub.ListSubActivities(
        pb.ListSubActivitiesRequest(government_code="33", fiscal_year=2025), metadata=PLANNER, timeout=5
    )
    assert [s.id for s in listed.sub_activities] == [created.id]


async def test_two_packages_racing_for_the_last_of_the_budget_never_both_land(service) -> None:  # type: ignore[no-untyped-def]
    stub, runtime = service
    created = (
        await stub.CreateSubActivity(_create_request(budget=_rp(300 * JUTA)), metadata=PLANNER, timeout=5)
    ).sub_activity
    await stub.AddIndicator(
        pb.AddIndicatorRequest(
            sub_activity_id=created.id,
            indicator=sub_activity_pb2.Indicator(
                level=sub_activity_pb2.INDICATOR_LEVEL_SUB_ACTIVITY,
                kind=sub_activity_pb2.INDICATOR_KIND_OUTPUT,
                name="Jumlah paket ATK",
                unit="paket",
                target="2",
                formula=sub_activity_pb2.INDICATOR_FORMULA_INCREASING,
            ),
        ),
        metadata=PLANNER,
        timeout=5,
    )
    suggestion = await stub.SuggestMonthlyPlan(
        pb.SuggestMonthlyPlanRequest(sub_activity_id=created.id, shape=sub_activity_pb2.CURVE_SHAPE_GOODS),
        metadata=PLANNER,
        timeout=5,
    )
    await stub.SetMonthlyPlan(
        pb.SetMonthlyPlanRequest(sub_activity_id=created.id, months=suggestion.months, expected_version=2),
        metadata=PLANNER,
        timeout=5,
    )
    await stub.MarkSubActivityPlanned(
        pb.MarkSubActivityPlannedRequest(sub_activity_id=created.id), metadata=PLANNER, timeout=5
    )
    results = await asyncio.gather(
        *(
            stub.CreateProcurementPackage(
                _package_request(created.id, f"Paket {i}", 180 * JUTA), metadata=PLANNER, timeout=10
            )
            for i in range(2)
        ),
        return_exceptions=True,
    )
    failures = [r for r in results if isinstance(r, grpc.aio.AioRpcError)]
    assert len(failures) == 1, results
    # SQLite serialises the two (the second sees the budget spent); PostgreSQL runs them at once
    # and the optimistic version check turns the loser away.
    assert failures[0].code() in (grpc.StatusCode.FAILED_PRECONDITION, grpc.StatusCode.ABORTED)
    assert _count(runtime, procurement_package) == 1
    fetched = await stub.GetSubActivity(pb.GetSubActivityRequest(id=created.id), metadata=PLANNER, timeout=5)
    assert fetched.sub_activity.packaged.rupiah == 180 * JUTA


async def _publish_through_outbox(url: str, tmp_path: Path, *events: tuple[object, str]) -> None:
    """Publish events the way budgeting does: a UnitOfWork writes them to an outbox, the OutboxRelay sends them."""
    from grms_kit.clock import SystemClock
    from grms_kit.db import Database
    from grms_kit.outbox import OutboxRelay
    from grms_kit.tables import add_messaging_tables, new_metadata
    from grms_kit.uow import UnitOfWork

    metadata = new_metadata()
    tables = add_messaging_tables(metadata)
    db = Database(f"sqlite:///{tmp_path / 'budgeting-outbox.db'}")
    metadata.create_all(db.engine)
    with UnitOfWork(db, tables, clock=SystemClock(), source="grms-budgeting") as uow:
        for message, government in events:
            uow.publish(message, government=government)  # type: ignore[arg-type]
        uow.commit()
    nc = await nats.connect(url)
    relay = OutboxRelay(db, tables, lambda: nc.jetstream(timeout=2.0), SystemClock())
    task = asyncio.create_task(relay.run())
    try:
        for _ in range(200):
            if relay.published >= len(events):
                break
            await asyncio.sleep(0.05)
        else:
            pytest.fail("the outbox relay never published")
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await nc.close()
        db.engine.dispose()


def _approved(code: str, year: int, total: int, version: int) -> budgeting_events.BudgetPlanApproved:
    return budgeting_events.BudgetPlanApproved(
        plan_id=f"plan-{code}-{year}",
        government_code="33",
        agency_code=AGENCY,
        sub_activity_code=code,
        fiscal_year=year,
        version=version,
        total=_rp(total),
        line_count=3,
    )


def _flat_months(total: int) -> list[sub_activity_pb2.MonthPlan]:
    share = total // 12
    return [
        sub_activity_pb2.MonthPlan(
            month=i + 1,
            physical_percent=f"{(i + 1) * 100 / 12:.2f}" if i < 11 else "100.00",
            disbursement=_rp(share if i < 11 else total - share * 11),
        )
        for i in range(12)
    ]


async def test_the_f1_uses_the_amount_budgeting_approved(service, nats_server: NatsServer, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    stub, _runtime = service
    code, year = "1.02.02.2.01.0002", 2026
    created = (
        await stub.CreateSubActivity(
            _create_request(code=code, fiscal_year=year, budget=_rp(1_000 * JUTA)), metadata=PLANNER, timeout=5
        )
    ).sub_activity
    assert not created.HasField("approved_budget")
    # Version 2 (1 500 juta) is approved, then the older approval of version 1 arrives late.
    await _publish_through_outbox(
        nats_server.url,
        tmp_path,
        (_approved(code, year, 1_500 * JUTA, 2), "33"),
        (_approved(code, year, 900 * JUTA, 1), "33"),
    )
    for _ in range(200):
        found = (
            await stub.GetSubActivity(pb.GetSubActivityRequest(id=created.id), metadata=PLANNER, timeout=5)
        ).sub_activity
        if found.HasField("approved_budget"):
            break
        await asyncio.sleep(0.05)
    else:
        pytest.fail("the approval never reached planning")
    await asyncio.sleep(0.3)  # the late, older approval has been applied (or not) by now
    found = (
        await stub.GetSubActivity(pb.GetSubActivityRequest(id=created.id), metadata=PLANNER, timeout=5)
    ).sub_activity
    assert (found.budget.rupiah, found.approved_budget.rupiah) == (1_000 * JUTA, 1_500 * JUTA)
    # What a bulk import waits on: the approved amounts planning learned, and the codes it has.
    learned = await stub.ListApprovedBudgets(
        pb.ListApprovedBudgetsRequest(government_code="33", fiscal_year=year, agency_code=AGENCY),
        metadata=PLANNER,
        timeout=5,
    )
    assert [(a.sub_activity_code, a.amount.rupiah) for a in learned.approved_budgets] == [(code, 1_500 * JUTA)]
    assert list(learned.planned_codes) == [code]
    other_year = await stub.ListApprovedBudgets(
        pb.ListApprovedBudgetsRequest(government_code="33", fiscal_year=year + 1, agency_code=AGENCY),
        metadata=PLANNER,
        timeout=5,
    )
    assert (list(other_year.approved_budgets), list(other_year.planned_codes)) == ([], [])
    with pytest.raises(grpc.aio.AioRpcError) as no_agency:
        await stub.ListApprovedBudgets(
            pb.ListApprovedBudgetsRequest(government_code="33", fiscal_year=year), metadata=PLANNER, timeout=5
        )
    assert no_agency.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "agency_code" in _violations(no_agency.value)

    # The F1 must now spend the approved amount, not the manually set budget.
    with pytest.raises(grpc.aio.AioRpcError) as manual:
        await stub.SetMonthlyPlan(
            pb.SetMonthlyPlanRequest(sub_activity_id=created.id, months=_flat_months(1_000 * JUTA), expected_version=1),
            metadata=PLANNER,
            timeout=5,
        )
    assert manual.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "1,500,000,000" in _violations(manual.value)["months"]
    ok = await stub.SetMonthlyPlan(
        pb.SetMonthlyPlanRequest(sub_activity_id=created.id, months=_flat_months(1_500 * JUTA), expected_version=1),
        metadata=PLANNER,
        timeout=5,
    )
    assert ok.s_curve[-1].cumulative_disbursement.rupiah == 1_500 * JUTA
    assert ok.s_curve[-1].financial_percent == "100.00"


async def test_citizens_proposal_from_submission_to_acceptance(service) -> None:  # type: ignore[no-untyped-def]
    from grms.planning.v1 import proposal_pb2

    stub, runtime = service
    submitted = (
        await stub.SubmitProposal(
            pb.SubmitProposalRequest(
                government_code="33",
                village_code="33.74.01.1001",
                category=proposal_pb2.PROPOSAL_CATEGORY_HEALTH,
                title="Posyandu baru di RW 05",
                description="Warga RW 05 membutuhkan posyandu yang lebih dekat untuk balita dan ibu hamil.",
                proposer_name="Siti Aminah",
                proposer_contact="+6281234567890",
            ),
            timeout=5,  # no login
        )
    ).proposal
    assert submitted.public_id.startswith("U-") and len(submitted.public_id) == 18
    assert [c.status for c in submitted.history] == [proposal_pb2.PROPOSAL_STATUS_SUBMITTED]
    public = (
        await stub.GetPublicProposal(pb.GetPublicProposalRequest(public_id=submitted.public_id), timeout=5)
    ).proposal
    assert "Siti" not in str(public) and "+62812" not in str(public)

    with pytest.raises(grpc.aio.AioRpcError) as anonymous:
        await stub.ReviewProposal(pb.ReviewProposalRequest(public_id=submitted.public_id), timeout=5)
    assert anonymous.value.code() in (grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED)

    sub_activity = (
        await stub.CreateSubActivity(_create_request(fiscal_year=2027), metadata=PLANNER, timeout=5)
    ).sub_activity
    with pytest.raises(grpc.aio.AioRpcError) as too_early:
        await stub.AcceptProposal(
            pb.AcceptProposalRequest(public_id=submitted.public_id, sub_activity_id=sub_activity.id),
            metadata=PLANNER,
            timeout=5,
        )
    assert too_early.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    reviewed = await stub.ReviewProposal(
        pb.ReviewProposalRequest(public_id=submitted.public_id, note="Dibahas di Musrenbang kecamatan"),
        metadata=PLANNER,
        timeout=5,
    )
    assert reviewed.proposal.proposer_name == "Siti Aminah"
    accepted = await stub.AcceptProposal(
        pb.AcceptProposalRequest(public_id=submitted.public_id, sub_activity_id=sub_activity.id, expected_version=2),
        metadata=PLANNER,
        timeout=5,
    )
    assert accepted.proposal.proposal.status == proposal_pb2.PROPOSAL_STATUS_ACCEPTED
    public = (
        await stub.GetPublicProposal(pb.GetPublicProposalRequest(public_id=submitted.public_id), timeout=5)
    ).proposal
    assert [c.status for c in public.history] == [
        proposal_pb2.PROPOSAL_STATUS_SUBMITTED,
        proposal_pb2.PROPOSAL_STATUS_UNDER_REVIEW,
        proposal_pb2.PROPOSAL_STATUS_ACCEPTED,
    ]
    assert public.history[1].note == "Dibahas di Musrenbang kecamatan"
    assert public.sub_activity_id == sub_activity.id

    with pytest.raises(grpc.aio.AioRpcError) as bad:
        await stub.SubmitProposal(
            pb.SubmitProposalRequest(government_code="99", category=proposal_pb2.PROPOSAL_CATEGORY_OTHER, title="x"),
            timeout=5,
        )
    assert bad.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert {"title", "description", "proposer_name"} <= set(_violations(bad.value))

    second = (
        await stub.SubmitProposal(
            pb.SubmitProposalRequest(
                government_code="33",
                category=proposal_pb2.PROPOSAL_CATEGORY_INFRASTRUCTURE,
                title="Perbaikan jalan desa",
                description="Jalan desa rusak berat sepanjang dua kilometer sejak banjir.",
                proposer_name="Budi",
            ),
            timeout=5,
        )
    ).proposal
    rejected = await stub.RejectProposal(
        pb.RejectProposalRequest(public_id=second.public_id, reason="Kewenangan kabupaten, diteruskan ke Bappeda"),
        metadata=PLANNER,
        timeout=5,
    )
    assert rejected.proposal.proposal.status == proposal_pb2.PROPOSAL_STATUS_REJECTED

    first_page = await stub.ListProposals(
        pb.ListProposalsRequest(government_code="33", page=paging_pb2.PageRequest(page_size=1)),
        metadata=PLANNER,
        timeout=5,
    )
    assert [p.proposal.public_id for p in first_page.proposals] == [submitted.public_id]
    rest = await stub.ListProposals(
        pb.ListProposalsRequest(
            government_code="33", page=paging_pb2.PageRequest(page_token=first_page.page.next_page_token)
        ),
        metadata=PLANNER,
        timeout=5,
    )
    assert [p.proposal.public_id for p in rest.proposals] == [second.public_id]

    with runtime.db.engine.connect() as conn:
        rows = conn.execute(select(messaging.outbox.c.subject, messaging.outbox.c.payload)).all()
    changes = [
        events_pb2.ProposalStatusChanged.FromString(r.payload)
        for r in rows
        if r.subject == "grms.planning.proposal_status_changed.v1"
    ]
    assert len(changes) == 5  # two submissions, review, acceptance, rejection
    assert all("Siti" not in str(c) and "Budi" not in str(c) for c in changes)
