"""Bulk import over real gRPC and a real database (SQLite and PostgreSQL): all stored, or nothing."""

from __future__ import annotations

import grpc
import pytest
from grms.planning.v1 import planning_service_pb2 as pb
from grms.planning.v1 import procurement_pb2, sub_activity_pb2
from grms_planning.adapters.tables import messaging, monthly_plan, procurement_package, sub_activity

from .test_grpc_api import AGENCY, JUTA, PLANNER, _count, _flat_months, _rp, _violations, service  # noqa: F401


def _plan(code: str, *, months: list[sub_activity_pb2.MonthPlan] | None = None) -> pb.SubActivityPlan:
    budget = 1_200 * JUTA
    return pb.SubActivityPlan(
        code=code,
        name=f"Rehabilitasi puskesmas pembantu {code[-4:]}",
        budget=_rp(budget),
        locations=[sub_activity_pb2.Location(government_code="33", village_code="33.74.01.1001")],
        funding_sources=["DAK Fisik"],
        indicators=[
            sub_activity_pb2.Indicator(
                level=sub_activity_pb2.INDICATOR_LEVEL_SUB_ACTIVITY,
                kind=sub_activity_pb2.INDICATOR_KIND_OUTPUT,
                name="Pustu direhabilitasi",
                unit="unit",
                target="3",
                formula=sub_activity_pb2.INDICATOR_FORMULA_INCREASING,
            )
        ],
        months=months if months is not None else _flat_months(budget),
        mark_planned=True,
        packages=[
            pb.PackagePlan(
                account_code="5.2.03.01.01.0001",
                name=f"Rehabilitasi pustu {code[-4:]}",
                procurement_type=procurement_pb2.PROCUREMENT_TYPE_WORKS,
                mode=procurement_pb2.PROCUREMENT_MODE_PROVIDER,
                method=procurement_pb2.SELECTION_METHOD_TENDER,
                value=_rp(900 * JUTA),
                selection_schedule=procurement_pb2.MonthRange(start_month=2, end_month=4),
                contract_schedule=procurement_pb2.MonthRange(start_month=5, end_month=11),
                use_schedule=procurement_pb2.MonthRange(start_month=6, end_month=12),
            )
        ],
    )


async def test_an_agency_year_imported_at_once_and_a_bad_import_stores_nothing(service) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    stub, runtime = service
    scope = {"government_code": "33", "agency_code": AGENCY, "fiscal_year": 2025}
    bad_months = _flat_months(1_200 * JUTA)
    bad_months[11] = sub_activity_pb2.MonthPlan(
        month=12, physical_percent="99.00", disbursement=bad_months[11].disbursement
    )
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await stub.ImportSubActivities(
            pb.ImportSubActivitiesRequest(
                **scope, plans=[_plan("1.02.02.2.01.0001"), _plan("1.02.02.2.01.0002", months=bad_months)]
            ),
            metadata=PLANNER,
            timeout=10,
        )
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "plans[1].months[11].physical_percent" in _violations(refused.value)
    assert (_count(runtime, sub_activity), _count(runtime, messaging.outbox)) == (0, 0)

    plans = [_plan(f"1.02.02.2.01.{n:04d}") for n in range(1, 21)]
    done = await stub.ImportSubActivities(
        pb.ImportSubActivitiesRequest(**scope, plans=plans), metadata=PLANNER, timeout=10
    )
    assert (done.sub_activities, done.monthly_rows, done.packages) == (20, 240, 20)
    assert (_count(runtime, sub_activity), _count(runtime, monthly_plan), _count(runtime, procurement_package)) == (
        20,
        240,
        20,
    )
    assert _count(runtime, messaging.outbox) == 40  # SubActivityPlanned and ProcurementPlanned for each
    listed = await stub.ListSubActivities(
        pb.ListSubActivitiesRequest(government_code="33", fiscal_year=2025), metadata=PLANNER, timeout=5
    )
    assert {s.status for s in listed.sub_activities} == {sub_activity_pb2.SUB_ACTIVITY_STATUS_PLANNED}
    assert all(s.packaged.rupiah == 900 * JUTA for s in listed.sub_activities)
