"""Planning stages over real gRPC and a real database (SQLite and PostgreSQL): snapshots, diffs, the lock."""

from __future__ import annotations

import asyncio

import grpc
import pytest
from grms.planning.v1 import planning_service_pb2 as pb
from grms.planning.v1 import stage_pb2, sub_activity_pb2
from grms_planning.adapters.tables import planning_stage, sub_activity
from sqlalchemy import select

from .test_grpc_api import AGENCY, PLANNER, _count, _create_request, _violations, service  # noqa: F401

SCOPE = {"government_code": "33", "agency_code": AGENCY, "fiscal_year": 2025}


async def test_close_stages_diff_them_and_change_the_final_plan_only_through_a_perubahan(service) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    stub, runtime = service
    book = (await stub.GetStageBook(pb.GetStageBookRequest(**SCOPE), metadata=PLANNER, timeout=5)).book
    assert [(s.number, s.kind) for s in book.stages] == [(1, stage_pb2.STAGE_KIND_RANCANGAN_AWAL)]
    assert book.editable

    created = (await stub.CreateSubActivity(_create_request(), metadata=PLANNER, timeout=5)).sub_activity
    book = (await stub.GetStageBook(pb.GetStageBookRequest(**SCOPE), metadata=PLANNER, timeout=5)).book
    closed = (
        await stub.CloseStage(pb.CloseStageRequest(**SCOPE, expected_version=book.version), metadata=PLANNER, timeout=5)
    ).book
    first = closed.stages[0]
    assert first.close_time.seconds > 0 and first.closed_by == "planner"
    assert (first.sub_activity_count, first.package_count, first.total_budget.rupiah) == (1, 0, 2_000_000_000)
    assert closed.stages[1].kind == stage_pb2.STAGE_KIND_RANCANGAN and not closed.stages[1].HasField("close_time")

    await stub.AddIndicator(
        pb.AddIndicatorRequest(
            sub_activity_id=created.id,
            indicator=sub_activity_pb2.Indicator(
                level=sub_activity_pb2.INDICATOR_LEVEL_SUB_ACTIVITY,
                kind=sub_activity_pb2.INDICATOR_KIND_OUTPUT,
                name="Ibu hamil terlayani",
                unit="orang",
                target="1250",
                formula=sub_activity_pb2.INDICATOR_FORMULA_INCREASING,
            ),
        ),
        metadata=PLANNER,
        timeout=5,
    )
    with pytest.raises(grpc.aio.AioRpcError) as stale:
        await stub.CloseStage(
            pb.CloseStageRequest(**SCOPE, expected_version=closed.version), metadata=PLANNER, timeout=5
        )
    assert stale.value.code() == grpc.StatusCode.ABORTED

    await stub.CloseStage(pb.CloseStageRequest(**SCOPE), metadata=PLANNER, timeout=5)
    diff = await stub.DiffStages(pb.DiffStagesRequest(**SCOPE, from_stage=1, to_stage=2), metadata=PLANNER, timeout=5)
    assert (diff.old_stage.number, diff.new_stage.number) == (1, 2)
    assert [(d.change, d.entity, d.key) for d in diff.items] == [
        (stage_pb2.ITEM_CHANGE_ADDED, "indicator", "sub_activity: ibu hamil terlayani")
    ]
    assert {(f.field, f.old_value, f.new_value) for f in diff.items[0].fields} >= {("target", "", "1250")}

    final = (await stub.CloseStage(pb.CloseStageRequest(**SCOPE), metadata=PLANNER, timeout=5)).book
    assert not final.editable and final.stages[-1].kind == stage_pb2.STAGE_KIND_AKHIR
    with pytest.raises(grpc.aio.AioRpcError) as locked:
        await stub.CreateSubActivity(_create_request(code="1.02.02.2.01.0002"), metadata=PLANNER, timeout=5)
    assert locked.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "perubahan" in (locked.value.details() or "")
    assert _count(runtime, sub_activity) == 1

    with pytest.raises(grpc.aio.AioRpcError) as no_reason:
        await stub.OpenRevisionStage(pb.OpenRevisionStageRequest(**SCOPE), metadata=PLANNER, timeout=5)
    assert "reason" in _violations(no_reason.value)
    revised = (
        await stub.OpenRevisionStage(
            pb.OpenRevisionStageRequest(**SCOPE, reason="Perubahan APBD 2025"), metadata=PLANNER, timeout=5
        )
    ).book
    assert revised.editable and revised.stages[-1].kind == stage_pb2.STAGE_KIND_PERUBAHAN
    await stub.CreateSubActivity(_create_request(code="1.02.02.2.01.0002"), metadata=PLANNER, timeout=5)
    live = await stub.DiffStages(pb.DiffStagesRequest(**SCOPE, from_stage=3, to_stage=0), metadata=PLANNER, timeout=5)
    assert not live.HasField("new_stage")
    assert next((d.change, d.entity, d.sub_activity_code) for d in live.items) == (
        stage_pb2.ITEM_CHANGE_ADDED,
        "sub_activity",
        "1.02.02.2.01.0002",
    )

    with pytest.raises(grpc.aio.AioRpcError) as open_stage:
        await stub.DiffStages(pb.DiffStagesRequest(**SCOPE, from_stage=4, to_stage=0), metadata=PLANNER, timeout=5)
    assert open_stage.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "from_stage" in _violations(open_stage.value)

    # The snapshots stay as they were taken: stage 1 still holds one sub-activity and no indicator.
    with runtime.db.engine.connect() as conn:
        content = conn.execute(select(planning_stage.c.content).where(planning_stage.c.number == 1)).scalar_one()
    assert [s["indicators"] for s in content["sub_activities"]] == [[]]


async def test_concurrent_edits_of_one_agency_year_never_conflict_with_each_other(service) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    stub, _ = service
    codes = [f"1.02.02.2.01.{n:04d}" for n in range(1, 9)]
    created = await asyncio.gather(
        *(stub.CreateSubActivity(_create_request(code=code), metadata=PLANNER, timeout=10) for code in codes)
    )
    assert sorted(c.sub_activity.code for c in created) == codes
    book = (await stub.GetStageBook(pb.GetStageBookRequest(**SCOPE), metadata=PLANNER, timeout=5)).book
    assert book.version == 1 + len(codes)  # every edit counted once
    closed = await stub.CloseStage(
        pb.CloseStageRequest(**SCOPE, expected_version=book.version), metadata=PLANNER, timeout=5
    )
    assert closed.book.stages[0].sub_activity_count == len(codes)


async def test_after_the_final_stage_a_planned_sub_activity_reopens_in_a_perubahan(service) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    stub, _runtime = service
    created = (await stub.CreateSubActivity(_create_request(), metadata=PLANNER, timeout=5)).sub_activity
    output = sub_activity_pb2.Indicator(
        level=sub_activity_pb2.INDICATOR_LEVEL_SUB_ACTIVITY,
        kind=sub_activity_pb2.INDICATOR_KIND_OUTPUT,
        name="Ibu hamil terlayani",
        unit="orang",
        target="1250",
        formula=sub_activity_pb2.INDICATOR_FORMULA_INCREASING,
    )
    await stub.AddIndicator(
        pb.AddIndicatorRequest(sub_activity_id=created.id, indicator=output), metadata=PLANNER, timeout=5
    )
    curve = await stub.SuggestMonthlyPlan(
        pb.SuggestMonthlyPlanRequest(sub_activity_id=created.id, shape=sub_activity_pb2.CURVE_SHAPE_SERVICES),
        metadata=PLANNER,
        timeout=5,
    )
    current = await stub.GetSubActivity(pb.GetSubActivityRequest(id=created.id), metadata=PLANNER, timeout=5)
    await stub.SetMonthlyPlan(
        pb.SetMonthlyPlanRequest(
            sub_activity_id=created.id, months=curve.months, expected_version=current.sub_activity.version
        ),
        metadata=PLANNER,
        timeout=5,
    )
    planned = (
        await stub.MarkSubActivityPlanned(
            pb.MarkSubActivityPlannedRequest(sub_activity_id=created.id), metadata=PLANNER, timeout=5
        )
    ).sub_activity
    assert planned.status == sub_activity_pb2.SUB_ACTIVITY_STATUS_PLANNED
    for _ in range(3):  # rancangan awal, rancangan, akhir
        await stub.CloseStage(pb.CloseStageRequest(**SCOPE), metadata=PLANNER, timeout=5)

    reopen = pb.ReopenSubActivityRequest(sub_activity_id=created.id, reason="Perubahan APBD: target naik")
    with pytest.raises(grpc.aio.AioRpcError) as locked:
        await stub.ReopenSubActivity(reopen, metadata=PLANNER, timeout=5)
    assert locked.value.code() == grpc.StatusCode.FAILED_PRECONDITION and "perubahan" in (locked.value.details() or "")
    await stub.OpenRevisionStage(
        pb.OpenRevisionStageRequest(**SCOPE, reason="Perubahan APBD 2025"), metadata=PLANNER, timeout=5
    )
    with pytest.raises(grpc.aio.AioRpcError) as terse:
        await stub.ReopenSubActivity(
            pb.ReopenSubActivityRequest(sub_activity_id=created.id, reason="x"), metadata=PLANNER, timeout=5
        )
    assert terse.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "reason" in _violations(terse.value)
    with pytest.raises(grpc.aio.AioRpcError) as stale:
        await stub.ReopenSubActivity(
            pb.ReopenSubActivityRequest(
                sub_activity_id=created.id, reason="Perubahan APBD", expected_version=planned.version - 1
            ),
            metadata=PLANNER,
            timeout=5,
        )
    assert stale.value.code() == grpc.StatusCode.ABORTED

    reopened = (await stub.ReopenSubActivity(reopen, metadata=PLANNER, timeout=5)).sub_activity
    assert reopened.status == sub_activity_pb2.SUB_ACTIVITY_STATUS_DRAFT and reopened.version > planned.version
    with pytest.raises(grpc.aio.AioRpcError) as twice:
        await stub.ReopenSubActivity(reopen, metadata=PLANNER, timeout=5)
    assert twice.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    raised = sub_activity_pb2.Indicator()
    raised.CopyFrom(output)
    raised.name, raised.target = "Balita ditimbang", "4000"
    await stub.AddIndicator(
        pb.AddIndicatorRequest(sub_activity_id=created.id, indicator=raised), metadata=PLANNER, timeout=5
    )
    again = (
        await stub.MarkSubActivityPlanned(
            pb.MarkSubActivityPlannedRequest(sub_activity_id=created.id), metadata=PLANNER, timeout=5
        )
    ).sub_activity
    assert again.status == sub_activity_pb2.SUB_ACTIVITY_STATUS_PLANNED and len(again.indicators) == 2
    live = await stub.DiffStages(pb.DiffStagesRequest(**SCOPE, from_stage=3, to_stage=0), metadata=PLANNER, timeout=5)
    assert ("indicator", stage_pb2.ITEM_CHANGE_ADDED) in {(d.entity, d.change) for d in live.items}
