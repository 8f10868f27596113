"""e-Penatausahaan over real gRPC, a real database (SQLite and PostgreSQL) and real NATS."""

from __future__ import annotations

import asyncio

import grpc
import nats
import pytest
from grms.budgeting.v1 import budgeting_service_pb2 as pb
from grms.budgeting.v1 import budgeting_service_pb2_grpc as pb_grpc
from grms.budgeting.v1 import events_pb2, treasury_pb2
from grms.common.v1 import paging_pb2
from grms_budgeting.adapters.tables import budget_line
from grms_kit.identity import Role
from grms_kit.testing import NatsServer
from sqlalchemy import select

from . import test_budget_api as rka
from . import test_grpc_api as base

service = base.service
bearer = base.bearer
AGENCY = rka.AGENCY
BENDAHARA = bearer(sub="bendahara", roles=frozenset({Role.TREASURER}), government="33", agencies=frozenset({AGENCY}))
BUD = bearer(sub="bud", roles=frozenset({Role.TREASURER}), government="33")
DELIVERY = bearer(sub="svc-delivery", roles=frozenset({Role.SERVICE}), government="33")
VENDOR = treasury_pb2.Beneficiary(name="CV Sinar Jaya", bank="Bank Jateng", account_number="1-234-56789-0")
rp = rka.rp


async def _dpa(stub: pb_grpc.BudgetingServiceStub) -> str:
    """An approved plan with one line of Rp500,000, its cash plan (all in January) and no SPD yet."""
    await rka._reference_data(stub)
    plan = await rka._plan(stub)
    await stub.AddBudgetLine(
        pb.AddBudgetLineRequest(plan_id=plan.id, line=rka.paper()), metadata=rka.PLANNER, timeout=5
    )
    await stub.SubmitBudgetPlan(pb.SubmitBudgetPlanRequest(plan_id=plan.id), metadata=rka.HEAD, timeout=5)
    await stub.VerifyBudgetPlan(pb.VerifyBudgetPlanRequest(plan_id=plan.id), metadata=rka.TAPD, timeout=5)
    await stub.ApproveBudgetPlan(pb.ApproveBudgetPlanRequest(plan_id=plan.id), metadata=rka.TAPD, timeout=5)
    months = [rp(500_000)] + [rp(0)] * 11
    reply = await stub.SetCashPlan(pb.SetCashPlanRequest(plan_id=plan.id, months=months), metadata=rka.HEAD, timeout=5)
    assert [(c.line_number, c.months[0].rupiah) for c in reply.cash_plans] == [(0, 500_000)]
    return plan.id


def _spp(plan_id: str, spd: str, amount: int) -> pb.CreatePaymentRequestRequest:
    return pb.CreatePaymentRequestRequest(
        plan_id=plan_id,
        line_number=1,
        allotment_id=spd,
        kind=treasury_pb2.PAYMENT_KIND_LS_PIHAK_KETIGA,
        amount=rp(amount),
        description="Pembayaran kertas",
        beneficiary=VENDOR,
    )


async def test_spd_spp_spm_sp2d_with_concurrent_calls_and_funds_disbursed_on_the_stream(  # type: ignore[no-untyped-def]
    service, nats_server: NatsServer
) -> None:
    stub, runtime = service
    plan_id = await _dpa(stub)
    with pytest.raises(grpc.aio.AioRpcError) as over:
        await stub.CreateSpendingAllotment(
            pb.CreateSpendingAllotmentRequest(plan_id=plan_id, from_month=1, to_month=1, amount=rp(500_001)),
            metadata=BUD,
            timeout=5,
        )
    assert over.value.code() == grpc.StatusCode.FAILED_PRECONDITION and "cash plan" in over.value.details()
    spd = (
        await stub.CreateSpendingAllotment(
            pb.CreateSpendingAllotmentRequest(plan_id=plan_id, from_month=1, to_month=1, amount=rp(500_000)),
            metadata=BUD,
            timeout=5,
        )
    ).spending_allotment
    assert spd.number == f"0001/SPD/{AGENCY}/01/2026"

    # Two SPPs of Rp300,000 at once on a line of Rp500,000: the database lets one through.
    results = await asyncio.gather(
        *(stub.CreatePaymentRequest(_spp(plan_id, spd.id, 300_000), metadata=BENDAHARA, timeout=10) for _ in "ab"),
        return_exceptions=True,
    )
    won = [r.payment_request for r in results if not isinstance(r, BaseException)]
    lost = [r for r in results if isinstance(r, grpc.aio.AioRpcError)]
    assert len(won) == 1 and len(lost) == 1, results
    assert lost[0].code() == grpc.StatusCode.FAILED_PRECONDITION and "Rp200,000 left" in lost[0].details()
    spp = won[0]
    ordered = (
        await stub.OrderPayment(pb.OrderPaymentRequest(payment_request_id=spp.id), metadata=rka.HEAD, timeout=5)
    ).payment_request
    assert ordered.state == treasury_pb2.PAYMENT_REQUEST_STATE_ORDERED

    # Two SP2Ds of one SPM at once: one disburses, the other is refused; the money moves once.
    results = await asyncio.gather(
        *(
            stub.DisbursePayment(pb.DisbursePaymentRequest(payment_request_id=spp.id), metadata=BUD, timeout=10)
            for _ in "ab"
        ),
        return_exceptions=True,
    )
    paid = [r.payment_request for r in results if not isinstance(r, BaseException)]
    refused = [r for r in results if isinstance(r, grpc.aio.AioRpcError)]
    assert len(paid) == 1 and len(refused) == 1, results
    assert refused[0].code() in (grpc.StatusCode.ABORTED, grpc.StatusCode.FAILED_PRECONDITION)
    assert paid[0].state == treasury_pb2.PAYMENT_REQUEST_STATE_DISBURSED
    with runtime.db.engine.connect() as conn:
        balance = conn.execute(
            select(budget_line.c.committed, budget_line.c.disbursed).where(budget_line.c.plan_id == plan_id)
        ).one()
    assert tuple(balance) == (300_000, 300_000)

    got = (
        await stub.GetPaymentRequest(
            pb.GetPaymentRequestRequest(payment_request_id=spp.id), metadata=BENDAHARA, timeout=5
        )
    ).payment_request
    assert got.sp2d_number == paid[0].sp2d_number and [h.state for h in got.history] == [
        treasury_pb2.PAYMENT_REQUEST_STATE_REQUESTED,
        treasury_pb2.PAYMENT_REQUEST_STATE_ORDERED,
        treasury_pb2.PAYMENT_REQUEST_STATE_DISBURSED,
    ]

    nc = await nats.connect(nats_server.url)
    try:
        sub = await nc.jetstream().subscribe("grms.budgeting.funds_disbursed.v1", ordered_consumer=True)
        mine = None
        while mine is None:
            message = await sub.next_msg(timeout=10)
            event = events_pb2.FundsDisbursed.FromString(message.data)
            if event.payment_request_id == spp.id:
                mine = (message, event)
    finally:
        await nc.close()
    message, event = mine
    assert message.headers["ce-type"] == "grms.budgeting.v1.FundsDisbursed"
    assert message.headers["grms-government"] == "33"
    assert (event.plan_id, event.agency_code, event.sub_activity_code, event.line_number) == (
        plan_id,
        AGENCY,
        rka.SUB,
        1,
    )
    assert (event.account_code, event.amount.rupiah, event.sp2d_number) == (
        "5.1.02.01.001.00024",
        300_000,
        got.sp2d_number,
    )
    assert event.disburse_time.seconds > 0


async def test_contract_payments_rejection_and_the_queue(service) -> None:  # type: ignore[no-untyped-def]
    stub, _ = service
    plan_id = await _dpa(stub)
    spd = (
        await stub.CreateSpendingAllotment(
            pb.CreateSpendingAllotmentRequest(plan_id=plan_id, from_month=1, to_month=1, amount=rp(500_000)),
            metadata=BUD,
            timeout=5,
        )
    ).spending_allotment
    contract = pb.RequestContractPaymentRequest(
        external_request_id="delivery-027-termin-2",
        plan_id=plan_id,
        line_number=1,
        allotment_id=spd.id,
        amount=rp(400_000),
        description="Termin 2 pengadaan kertas",
        beneficiary=VENDOR,
        contract_reference="027/KONTRAK/2026 termin 2",
    )
    first, again = await asyncio.gather(
        *(stub.RequestContractPayment(contract, metadata=DELIVERY, timeout=10) for _ in "ab"), return_exceptions=True
    )
    # The same external id twice (even at once) never files two SPPs; a retry of a lost race returns the first.
    outcomes = [first, again]
    retried = [
        (await stub.RequestContractPayment(contract, metadata=DELIVERY, timeout=5))
        if isinstance(o, grpc.aio.AioRpcError) and o.code() == grpc.StatusCode.ABORTED
        else o
        for o in outcomes
    ]
    ids = {r.payment_request.id for r in retried}
    assert len(ids) == 1
    spp = retried[0].payment_request
    assert spp.kind == treasury_pb2.PAYMENT_KIND_LS_BARANG_JASA and spp.external_request_id == "delivery-027-termin-2"

    with pytest.raises(grpc.aio.AioRpcError) as full:
        await stub.CreatePaymentRequest(_spp(plan_id, spd.id, 100_001), metadata=BENDAHARA, timeout=5)
    assert full.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    rejected = (
        await stub.RejectPaymentRequest(
            pb.RejectPaymentRequestRequest(payment_request_id=spp.id, reason="BAST belum lengkap"),
            metadata=rka.HEAD,
            timeout=5,
        )
    ).payment_request
    assert rejected.state == treasury_pb2.PAYMENT_REQUEST_STATE_REJECTED
    # The commitment is released: the whole line can be requested again.
    again_spp = (
        await stub.CreatePaymentRequest(_spp(plan_id, spd.id, 500_000), metadata=BENDAHARA, timeout=5)
    ).payment_request

    queue = await stub.ListPaymentRequests(
        pb.ListPaymentRequestsRequest(
            government_code="33",
            agency_code=AGENCY,
            state=treasury_pb2.PAYMENT_REQUEST_STATE_REQUESTED,
            page=paging_pb2.PageRequest(page_size=10),
        ),
        metadata=BUD,
        timeout=5,
    )
    assert [r.id for r in queue.payment_requests] == [again_spp.id]
    rejected_queue = await stub.ListPaymentRequests(
        pb.ListPaymentRequestsRequest(government_code="33", state=treasury_pb2.PAYMENT_REQUEST_STATE_REJECTED),
        metadata=BUD,
        timeout=5,
    )
    assert [r.id for r in rejected_queue.payment_requests] == [spp.id]
    with pytest.raises(grpc.aio.AioRpcError) as kind:
        await stub.CreatePaymentRequest(
            pb.CreatePaymentRequestRequest(plan_id=plan_id, line_number=1, allotment_id=spd.id, amount=rp(1)),
            metadata=BENDAHARA,
            timeout=5,
        )
    assert kind.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "kind" in base._violations(kind.value)
