"""Plan lists, DPA revisions and the output-indicator rule over real gRPC, a real database and real NATS."""

from __future__ import annotations

import datetime as dt

import grpc
import nats
import pytest
from grms.budgeting.v1 import budget_plan_pb2, codes_pb2, events_pb2, treasury_pb2
from grms.budgeting.v1 import budgeting_service_pb2 as pb
from grms.common.v1 import paging_pb2
from grms_budgeting.adapters.budget_repository import verify_audit_chain
from grms_budgeting.adapters.tables import budget_line, cash_plan, cash_plan_proposal
from grms_budgeting.domain.treasury import WIB
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


async def _spd(stub, plan_id: str, amount: int, to_month: int = 12) -> str:  # type: ignore[no-untyped-def]
    request = pb.CreateSpendingAllotmentRequest(plan_id=plan_id, from_month=1, to_month=to_month, amount=rp(amount))
    return (await stub.CreateSpendingAllotment(request, metadata=tu.BUD, timeout=5)).spending_allotment.id


async def _approve(stub, plan_id: str) -> budget_plan_pb2.BudgetPlan:  # type: ignore[no-untyped-def]
    await stub.SubmitBudgetPlan(pb.SubmitBudgetPlanRequest(plan_id=plan_id), metadata=rka.HEAD, timeout=5)
    await stub.VerifyBudgetPlan(pb.VerifyBudgetPlanRequest(plan_id=plan_id), metadata=rka.TAPD, timeout=5)
    reply = await stub.ApproveBudgetPlan(pb.ApproveBudgetPlanRequest(plan_id=plan_id), metadata=rka.TAPD, timeout=5)
    return reply.budget_plan


async def _refused(call, code: grpc.StatusCode = grpc.StatusCode.FAILED_PRECONDITION) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await call
    assert info.value.code() == code, info.value.details()
    return info.value.details() or ""


async def test_the_dpa_in_force_pays_while_an_amendment_is_drafted_and_its_approval_checks_what_was_paid(  # type: ignore[no-untyped-def]
    service,
) -> None:
    stub, runtime = service
    plan_id = await tu._dpa(stub)  # line 1: Rp500,000; cash plan: all in January
    spd = await _spd(stub, plan_id, 500_000)
    await stub.ReviseBudgetPlan(
        pb.ReviseBudgetPlanRequest(plan_id=plan_id, kind=budget_plan_pb2.REVISION_KIND_AMENDMENT, reason="APBD-P"),
        metadata=rka.TAPD,
        timeout=5,
    )
    await stub.UpdateBudgetLine(  # the draft: line 1 down to Rp200,000, a new line 2 of Rp100,000
        pb.UpdateBudgetLineRequest(plan_id=plan_id, line_number=1, line=rka.paper("4 rim")),
        metadata=rka.PLANNER,
        timeout=5,
    )
    await stub.AddBudgetLine(
        pb.AddBudgetLineRequest(plan_id=plan_id, line=rka.paper("2 rim")), metadata=rka.PLANNER, timeout=5
    )
    # SPP → SPM → SP2D of Rp300,000 on line 1: above the draft's Rp200,000, within the DPA in force.
    spp = (
        await stub.CreatePaymentRequest(tu._spp(plan_id, spd, 300_000), metadata=tu.BENDAHARA, timeout=5)
    ).payment_request
    await stub.OrderPayment(pb.OrderPaymentRequest(payment_request_id=spp.id), metadata=rka.HEAD, timeout=5)
    paid = (
        await stub.DisbursePayment(pb.DisbursePaymentRequest(payment_request_id=spp.id), metadata=tu.BUD, timeout=5)
    ).payment_request
    assert paid.state == treasury_pb2.PAYMENT_REQUEST_STATE_DISBURSED
    new_line = tu._spp(plan_id, spd, 10_000)
    new_line.line_number = 2  # only in the draft
    assert "no line 2" in await _refused(
        stub.CreatePaymentRequest(new_line, metadata=tu.BENDAHARA, timeout=5), grpc.StatusCode.INVALID_ARGUMENT
    )
    contract = pb.RequestContractPaymentRequest(  # e-delivery's LS payment API spends the DPA in force as well
        external_request_id="delivery-revision-termin-1", plan_id=plan_id, line_number=1, allotment_id=spd,
        amount=rp(100_000), description="Termin 1 pengadaan kertas", beneficiary=tu.VENDOR,
        contract_reference="001/KONTRAK/2026",
    )  # fmt: skip
    assert (
        await stub.RequestContractPayment(contract, metadata=tu.DELIVERY, timeout=5)
    ).payment_request.amount.rupiah == 100_000
    # The approval sees the Rp400,000 committed meanwhile on line 1.
    details = await _refused(_approve(stub, plan_id))
    assert "line 1 would be Rp200,000 but SPPs have committed Rp400,000 on it (Rp300,000 disbursed)" in details
    returned = pb.ReturnBudgetPlanRequest(plan_id=plan_id, note="Sesuaikan dengan realisasi")
    await stub.ReturnBudgetPlan(returned, metadata=rka.TAPD, timeout=5)
    await stub.UpdateBudgetLine(  # line 1: Rp450,000; the plan Rp550,000
        pb.UpdateBudgetLineRequest(plan_id=plan_id, line_number=1, line=rka.paper("9 rim")),
        metadata=rka.PLANNER,
        timeout=5,
    )
    # The cash plan (Rp500,000 in January) no longer adds up: revise it alongside.
    assert "adds up to Rp500,000, not the revised Rp550,000 (Rp50,000 short)" in await _refused(_approve(stub, plan_id))
    await stub.ReturnBudgetPlan(returned, metadata=rka.TAPD, timeout=5)
    month = dt.datetime.now(WIB).month  # the SP2D's month
    months = [0] * 12
    months[month - 1] += 200_000
    months[0] += 350_000
    assert "below the Rp300,000 its SP2Ds disbursed" in await _refused(
        stub.SetCashPlan(
            pb.SetCashPlanRequest(plan_id=plan_id, months=[rp(m) for m in months]), metadata=rka.HEAD, timeout=5
        )
    )
    months[month - 1] += 100_000
    months[0] -= 100_000
    reply = await stub.SetCashPlan(
        pb.SetCashPlanRequest(plan_id=plan_id, months=[rp(m) for m in months]), metadata=rka.HEAD, timeout=5
    )
    assert reply.proposed and [(c.line_number, sum(m.rupiah for m in c.months)) for c in reply.cash_plans] == [
        (0, 550_000)
    ]
    plan = await _approve(stub, plan_id)
    assert (plan.state, plan.approved_total.rupiah) == (budget_plan_pb2.BUDGET_PLAN_STATE_APPROVED, 550_000)
    with runtime.db.engine.connect() as conn:
        rows = conn.execute(
            select(budget_line.c.number, budget_line.c.dpa_amount, budget_line.c.committed, budget_line.c.disbursed)
            .where(budget_line.c.plan_id == plan_id)
            .order_by(budget_line.c.number)
        ).all()
        cash = conn.execute(select(cash_plan.c.months).where(cash_plan.c.plan_id == plan_id)).scalars().all()
        proposals = conn.execute(select(cash_plan_proposal.c.plan_id)).all()
    assert [tuple(r) for r in rows] == [(1, 450_000, 400_000, 300_000), (2, 100_000, 0, 0)]
    assert cash == [months] and proposals == []
    new_line.amount.rupiah = 100_000  # line 2 is in the DPA in force now
    assert (
        await stub.CreatePaymentRequest(new_line, metadata=tu.BENDAHARA, timeout=5)
    ).payment_request.amount.rupiah == 100_000


async def test_a_line_removed_by_a_shift_stays_payable_until_the_shift_is_approved(service) -> None:  # type: ignore[no-untyped-def]
    stub, runtime = service
    plan_id = await tu._dpa(stub)  # line 1: Rp500,000
    spd = await _spd(stub, plan_id, 500_000)
    await stub.ReviseBudgetPlan(
        pb.ReviseBudgetPlanRequest(plan_id=plan_id, kind=budget_plan_pb2.REVISION_KIND_SHIFT, reason="Geser"),
        metadata=rka.TAPD,
        timeout=5,
    )
    await stub.AddBudgetLine(
        pb.AddBudgetLineRequest(plan_id=plan_id, line=rka.paper()), metadata=rka.PLANNER, timeout=5
    )
    await stub.RemoveBudgetLine(
        pb.RemoveBudgetLineRequest(plan_id=plan_id, line_number=1), metadata=rka.PLANNER, timeout=5
    )
    draft = (
        await stub.GetBudgetPlan(pb.GetBudgetPlanRequest(plan_id=plan_id), metadata=rka.PLANNER, timeout=5)
    ).budget_plan
    assert [line.number for line in draft.lines] == [2]
    spp = (
        await stub.CreatePaymentRequest(tu._spp(plan_id, spd, 100_000), metadata=tu.BENDAHARA, timeout=5)
    ).payment_request
    assert "line 1 would be removed but SPPs have committed Rp100,000" in await _refused(_approve(stub, plan_id))
    rejected = pb.RejectPaymentRequestRequest(payment_request_id=spp.id, reason="Rincian dihapus dalam pergeseran")
    await stub.RejectPaymentRequest(rejected, metadata=rka.HEAD, timeout=5)
    await stub.ApproveBudgetPlan(pb.ApproveBudgetPlanRequest(plan_id=plan_id), metadata=rka.TAPD, timeout=5)
    with runtime.db.engine.connect() as conn:
        rows = conn.execute(
            select(budget_line.c.number, budget_line.c.dpa_amount, budget_line.c.removed).where(
                budget_line.c.plan_id == plan_id
            )
        ).all()
    assert [tuple(r) for r in rows] == [(2, 500_000, False)]
    assert "no line 1" in await _refused(
        stub.CreatePaymentRequest(tu._spp(plan_id, spd, 100_000), metadata=tu.BENDAHARA, timeout=5),
        grpc.StatusCode.INVALID_ARGUMENT,
    )


async def _open_lines(stub) -> list[tuple[int, int, str, int]]:  # type: ignore[no-untyped-def]
    """(line, amount, volume, disbursed) of every line in the public stream of the year."""
    request = pb.StreamApprovedBudgetLinesRequest(government_code="33", fiscal_year=rka.YEAR)
    return [
        (line.line_number, line.amount, line.volume, line.disbursed)
        async for reply in stub.StreamApprovedBudgetLines(request, timeout=5)
        for line in reply.lines
    ]


async def test_the_open_data_shows_the_dpa_in_force_while_a_revision_is_drafted(service) -> None:  # type: ignore[no-untyped-def]
    stub, _ = service
    await rka._reference_data(stub)
    plan_id = (await rka._plan(stub)).id
    at_ceiling = rka.paper("10 rim", 54_000)  # 98.2 % of the standard Rp55,000: a ceiling-bunching finding
    await stub.AddBudgetLine(pb.AddBudgetLineRequest(plan_id=plan_id, line=at_ceiling), metadata=rka.PLANNER, timeout=5)
    await _approve(stub, plan_id)
    await stub.SetCashPlan(
        pb.SetCashPlanRequest(plan_id=plan_id, months=[rp(540_000)] + [rp(0)] * 11), metadata=rka.HEAD, timeout=5
    )
    spd = await _spd(stub, plan_id, 540_000)
    spp = (
        await stub.CreatePaymentRequest(tu._spp(plan_id, spd, 200_000), metadata=tu.BENDAHARA, timeout=5)
    ).payment_request
    await stub.OrderPayment(pb.OrderPaymentRequest(payment_request_id=spp.id), metadata=rka.HEAD, timeout=5)
    await stub.DisbursePayment(pb.DisbursePaymentRequest(payment_request_id=spp.id), metadata=tu.BUD, timeout=5)
    anomalies = pb.GetUnitPriceAnomaliesRequest(government_code="33", fiscal_year=rka.YEAR)

    async def at_the_ceiling() -> list[tuple[int, int]]:
        found = (await stub.GetUnitPriceAnomalies(anomalies, timeout=5)).ceiling_bunching
        return [(b.priced_lines, b.lines_at_ceiling) for b in found]

    assert await _open_lines(stub) == [(1, 540_000, "10 rim", 200_000)]
    assert await at_the_ceiling() == [(1, 1)]
    await stub.ReviseBudgetPlan(
        pb.ReviseBudgetPlanRequest(plan_id=plan_id, kind=budget_plan_pb2.REVISION_KIND_AMENDMENT, reason="APBD-P"),
        metadata=rka.TAPD,
        timeout=5,
    )
    await stub.UpdateBudgetLine(  # the draft: line 1 at 12 rim × Rp50,000, a new line 2
        pb.UpdateBudgetLineRequest(plan_id=plan_id, line_number=1, line=rka.paper("12 rim")),
        metadata=rka.PLANNER,
        timeout=5,
    )
    await stub.AddBudgetLine(
        pb.AddBudgetLineRequest(plan_id=plan_id, line=rka.paper("2 rim")), metadata=rka.PLANNER, timeout=5
    )
    # The public sees the DPA in force (not the draft, and not nothing) with its live realisation.
    assert await _open_lines(stub) == [(1, 540_000, "10 rim", 200_000)]
    assert await at_the_ceiling() == [(1, 1)]
    months = [0] * 12
    months[dt.datetime.now(WIB).month - 1] += 200_000  # what the SP2D paid this month stays
    months[0] += 500_000
    await stub.SetCashPlan(
        pb.SetCashPlanRequest(plan_id=plan_id, months=[rp(m) for m in months]), metadata=rka.HEAD, timeout=5
    )
    await _approve(stub, plan_id)
    assert await _open_lines(stub) == [(1, 600_000, "12 rim", 200_000), (2, 100_000, "2 rim", 0)]
    assert await at_the_ceiling() == []
