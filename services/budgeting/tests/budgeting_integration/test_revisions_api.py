"""Plan lists, DPA revisions and the output-indicator rule over real gRPC, a real database and real NATS."""

from __future__ import annotations

import grpc
import nats
import pytest
from grms.budgeting.v1 import budget_plan_pb2, codes_pb2, events_pb2
from grms.budgeting.v1 import budgeting_service_pb2 as pb
from grms.common.v1 import paging_pb2
from grms_budgeting.adapters.budget_repository import verify_audit_chain
from grms_budgeting.adapters.tables import budget_line
from grms_kit.testing import NatsServer
from sqlalchemy import select

from . import test_budget_api as rka
from . import test_grpc_api as base
from . import test_treasury_api as tu
from .planning_events import plan_sub_activity

service = base.service
rp = rka.rp
SUB_2 = "1.02.02.2.01.0003"


async def _second_sub_activity(stub) -> None:  # type: ignore[no-untyped-def]
    """SUB_2 in the year's nomenclature, beside the reference data's SUB."""
    code = codes_pb2.NomenclatureCode(
        code=SUB_2, name="Pembangunan Fasilitas Kesehatan Lainnya", for_province=True, for_regency_city=True
    )
    await stub.ImportNomenclature(
        pb.ImportNomenclatureRequest(fiscal_year=rka.YEAR, codes=[code]), metadata=base.ADMIN, timeout=5
    )


async def test_a_dpa_shift_keeps_commitments_continues_the_chain_and_publishes_budget_revised(  # type: ignore[no-untyped-def]
    service, nats_server: NatsServer
) -> None:
    stub, runtime = service
    plan_id = await tu._dpa(stub)  # one line of Rp500,000 (10 rim × Rp50,000)
    spd = (
        await stub.CreateSpendingAllotment(
            pb.CreateSpendingAllotmentRequest(plan_id=plan_id, from_month=1, to_month=1, amount=rp(500_000)),
            metadata=tu.BUD,
            timeout=5,
        )
    ).spending_allotment
    await stub.CreatePaymentRequest(tu._spp(plan_id, spd.id, 200_000), metadata=tu.BENDAHARA, timeout=5)

    nc = await nats.connect(nats_server.url)
    try:
        revised_events = await nc.jetstream().subscribe("grms.budgeting.budget_revised.v1", ordered_consumer=True)
        approved = (
            await stub.GetBudgetPlan(pb.GetBudgetPlanRequest(plan_id=plan_id), metadata=rka.TAPD, timeout=5)
        ).budget_plan
        with pytest.raises(grpc.aio.AioRpcError) as forbidden:
            await stub.ReviseBudgetPlan(
                pb.ReviseBudgetPlanRequest(plan_id=plan_id, kind=budget_plan_pb2.REVISION_KIND_SHIFT, reason="geser"),
                metadata=rka.HEAD,
                timeout=5,
            )
        assert forbidden.value.code() == grpc.StatusCode.PERMISSION_DENIED
        with pytest.raises(grpc.aio.AioRpcError) as no_kind:
            await stub.ReviseBudgetPlan(
                pb.ReviseBudgetPlanRequest(plan_id=plan_id, reason="geser"), metadata=rka.TAPD, timeout=5
            )
        assert no_kind.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        plan = (
            await stub.ReviseBudgetPlan(
                pb.ReviseBudgetPlanRequest(
                    plan_id=plan_id,
                    expected_version=approved.version,
                    kind=budget_plan_pb2.REVISION_KIND_SHIFT,
                    reason="Pergeseran antar rincian objek belanja",
                ),
                metadata=rka.TAPD,
                timeout=5,
            )
        ).budget_plan
        assert (plan.state, plan.revision, plan.revision_kind, plan.approved_total.rupiah) == (
            budget_plan_pb2.BUDGET_PLAN_STATE_DRAFT,
            1,
            budget_plan_pb2.REVISION_KIND_SHIFT,
            500_000,
        )
        # Below what the SPP committed: refused, naming the line.
        with pytest.raises(grpc.aio.AioRpcError) as below:
            await stub.UpdateBudgetLine(
                pb.UpdateBudgetLineRequest(plan_id=plan_id, line_number=1, line=rka.paper("3 rim")),
                metadata=rka.PLANNER,
                timeout=5,
            )
        assert below.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert "line 1" in below.value.details() and "Rp200,000" in below.value.details()
        # A shift may not grow the DPA.
        await stub.AddBudgetLine(
            pb.AddBudgetLineRequest(plan_id=plan_id, line=rka.paper("2 rim")), metadata=rka.PLANNER, timeout=5
        )
        with pytest.raises(grpc.aio.AioRpcError) as grown:
            await stub.SubmitBudgetPlan(pb.SubmitBudgetPlanRequest(plan_id=plan_id), metadata=rka.HEAD, timeout=5)
        assert grown.value.code() == grpc.StatusCode.FAILED_PRECONDITION and "pergeseran" in grown.value.details()
        # Move Rp100,000 from line 1 to the new line 2: the total stays Rp500,000.
        await stub.UpdateBudgetLine(
            pb.UpdateBudgetLineRequest(plan_id=plan_id, line_number=1, line=rka.paper("8 rim")),
            metadata=rka.PLANNER,
            timeout=5,
        )
        for rpc, request, who in (
            (stub.SubmitBudgetPlan, pb.SubmitBudgetPlanRequest(plan_id=plan_id), rka.HEAD),
            (stub.VerifyBudgetPlan, pb.VerifyBudgetPlanRequest(plan_id=plan_id), rka.TAPD),
            (stub.ApproveBudgetPlan, pb.ApproveBudgetPlanRequest(plan_id=plan_id), rka.TAPD),
        ):
            plan = (await rpc(request, metadata=who, timeout=5)).budget_plan
        assert (plan.state, plan.total.rupiah, [line.amount.rupiah for line in plan.lines]) == (
            budget_plan_pb2.BUDGET_PLAN_STATE_APPROVED,
            500_000,
            [400_000, 100_000],
        )
        message = await revised_events.next_msg(timeout=10)
        event = events_pb2.BudgetRevised.FromString(message.data)
        assert (event.plan_id, event.revision, event.kind, event.previous_total.rupiah, event.total.rupiah) == (
            plan_id,
            1,
            budget_plan_pb2.REVISION_KIND_SHIFT,
            500_000,
            500_000,
        )
    finally:
        await nc.close()
    # The line was updated in place: its commitment survived the revision.
    with runtime.db.engine.connect() as conn:
        committed = conn.scalar(
            select(budget_line.c.committed).where(budget_line.c.plan_id == plan_id, budget_line.c.number == 1)
        )
    assert committed == 200_000
    versions = (
        await stub.ListBudgetPlanVersions(
            pb.ListBudgetPlanVersionsRequest(plan_id=plan_id), metadata=rka.TAPD, timeout=5
        )
    ).versions
    assert [v.action for v in versions] == ["submit", "verify", "approve", "revise", "submit", "verify", "approve"]
    diff = await stub.DiffBudgetPlanVersions(
        pb.DiffBudgetPlanVersionsRequest(
            plan_id=plan_id, from_version=versions[2].version, to_version=versions[-1].version
        ),
        metadata=rka.HEAD,
        timeout=5,
    )
    assert [(d.number, d.kind) for d in diff.lines] == [
        (1, budget_plan_pb2.LINE_CHANGE_KIND_CHANGED),
        (2, budget_plan_pb2.LINE_CHANGE_KIND_ADDED),
    ]
    assert verify_audit_chain(runtime.db, plan_id) == {plan_id: None}


async def test_plans_are_listed_with_filters_and_pages(service) -> None:  # type: ignore[no-untyped-def]
    stub, _ = service
    await rka._reference_data(stub)
    await _second_sub_activity(stub)
    first = await rka._plan(stub)
    second = (
        await stub.CreateBudgetPlan(
            pb.CreateBudgetPlanRequest(
                government_code="33", agency_code=rka.AGENCY, sub_activity_code=SUB_2, fiscal_year=rka.YEAR
            ),
            metadata=rka.PLANNER,
            timeout=5,
        )
    ).budget_plan
    await stub.AddBudgetLine(
        pb.AddBudgetLineRequest(plan_id=first.id, line=rka.paper()), metadata=rka.PLANNER, timeout=5
    )
    await stub.SubmitBudgetPlan(pb.SubmitBudgetPlanRequest(plan_id=first.id), metadata=rka.HEAD, timeout=5)

    def request(**kw: object) -> pb.ListBudgetPlansRequest:
        return pb.ListBudgetPlansRequest(government_code="33", **kw)  # type: ignore[arg-type]

    both = await stub.ListBudgetPlans(request(fiscal_year=rka.YEAR), metadata=rka.PLANNER, timeout=5)
    assert [p.id for p in both.budget_plans] == [first.id, second.id]
    assert [(p.line_count, p.total.rupiah, len(p.lines)) for p in both.budget_plans] == [(1, 500_000, 0), (0, 0, 0)]
    submitted = await stub.ListBudgetPlans(
        request(state=budget_plan_pb2.BUDGET_PLAN_STATE_SUBMITTED), metadata=rka.TAPD, timeout=5
    )
    assert [p.id for p in submitted.budget_plans] == [first.id]
    one = await stub.ListBudgetPlans(request(page=paging_pb2.PageRequest(page_size=1)), metadata=rka.TAPD, timeout=5)
    assert [p.id for p in one.budget_plans] == [first.id] and one.page.next_page_token
    two = await stub.ListBudgetPlans(
        request(page=paging_pb2.PageRequest(page_size=1, page_token=one.page.next_page_token)),
        metadata=rka.TAPD,
        timeout=5,
    )
    assert [p.id for p in two.budget_plans] == [second.id] and not two.page.next_page_token
    for bad, code in (
        (request(agency_code="9.99.0.00.0.00.01.0000"), grpc.StatusCode.PERMISSION_DENIED),
        (request(state=99), grpc.StatusCode.INVALID_ARGUMENT),  # type: ignore[arg-type]
        (request(page=paging_pb2.PageRequest(page_token="bm9wZQ")), grpc.StatusCode.INVALID_ARGUMENT),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await stub.ListBudgetPlans(bad, metadata=rka.PLANNER, timeout=5)
        assert info.value.code() == code


async def test_a_sub_activity_without_an_output_indicator_cannot_be_submitted(service, nats_server: NatsServer) -> None:  # type: ignore[no-untyped-def]
    stub, runtime = service
    await rka._reference_data(stub)
    await _second_sub_activity(stub)
    await stub.SetCeiling(
        pb.SetCeilingRequest(
            government_code="33",
            fiscal_year=rka.YEAR,
            agency_code=rka.AGENCY,
            sub_activity_code=SUB_2,
            amount=rp(1_000_000),
        ),
        metadata=rka.TAPD,
        timeout=5,
    )
    plan = (
        await stub.CreateBudgetPlan(
            pb.CreateBudgetPlanRequest(
                government_code="33", agency_code=rka.AGENCY, sub_activity_code=SUB_2, fiscal_year=rka.YEAR
            ),
            metadata=rka.PLANNER,
            timeout=5,
        )
    ).budget_plan
    await stub.AddBudgetLine(
        pb.AddBudgetLineRequest(plan_id=plan.id, line=rka.paper()), metadata=rka.PLANNER, timeout=5
    )
    submit = pb.SubmitBudgetPlanRequest(plan_id=plan.id)
    with pytest.raises(grpc.aio.AioRpcError) as unknown:
        await stub.SubmitBudgetPlan(submit, metadata=rka.HEAD, timeout=5)
    assert unknown.value.code() == grpc.StatusCode.FAILED_PRECONDITION and SUB_2 in unknown.value.details()
    await plan_sub_activity(nats_server.url, runtime.db, agency=rka.AGENCY, sub=SUB_2, year=rka.YEAR, with_output=False)
    with pytest.raises(grpc.aio.AioRpcError) as outcome_only:
        await stub.SubmitBudgetPlan(submit, metadata=rka.HEAD, timeout=5)
    assert outcome_only.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert (
        f"sub-activity {SUB_2}" in outcome_only.value.details() and "output indicator" in outcome_only.value.details()
    )
    await plan_sub_activity(nats_server.url, runtime.db, agency=rka.AGENCY, sub=SUB_2, year=rka.YEAR, version=2)
    done = (await stub.SubmitBudgetPlan(submit, metadata=rka.HEAD, timeout=5)).budget_plan
    assert done.state == budget_plan_pb2.BUDGET_PLAN_STATE_SUBMITTED


async def test_approved_plans_load_in_bulk_with_their_realisation(service, nats_server: NatsServer) -> None:  # type: ignore[no-untyped-def]
    stub, runtime = service
    await rka._reference_data(stub)
    nc = await nats.connect(nats_server.url)
    try:
        disbursed = await nc.jetstream().subscribe("grms.budgeting.funds_disbursed.v1", ordered_consumer=True)
        cash = [rp(100_000)] + [rp(0)] * 10 + [rp(400_000)]
        paid = [rp(100_000)] + [rp(0)] * 10 + [rp(350_000)]
        request = pb.LoadApprovedPlansRequest(
            government_code="33",
            fiscal_year=rka.YEAR,
            plans=[
                pb.ApprovedPlanInput(
                    agency_code=rka.AGENCY,
                    sub_activity_code=rka.SUB,
                    lines=[rka.paper()],
                    cash_plan=cash,
                    disbursed_months=paid,
                )
            ],
        )
        with pytest.raises(grpc.aio.AioRpcError) as denied:
            await stub.LoadApprovedPlans(request, metadata=rka.TAPD, timeout=10)
        assert denied.value.code() == grpc.StatusCode.PERMISSION_DENIED
        reply = await stub.LoadApprovedPlans(request, metadata=base.ADMIN, timeout=10)
        assert (reply.loaded_count, reply.skipped_count, reply.line_count) == (1, 0, 1)
        amounts = []
        for _ in range(2):
            event = events_pb2.FundsDisbursed.FromString((await disbursed.next_msg(timeout=10)).data)
            amounts.append((event.amount.rupiah, event.sp2d_number.split("/")[-2]))
        assert amounts == [(100_000, "01"), (350_000, "12")]
        again = await stub.LoadApprovedPlans(request, metadata=base.ADMIN, timeout=10)
        assert (again.loaded_count, again.skipped_count) == (0, 1)
    finally:
        await nc.close()
    with runtime.db.engine.connect() as conn:
        row = conn.execute(select(budget_line.c.committed, budget_line.c.disbursed)).one()
    assert tuple(row) == (450_000, 450_000)
