"""e-Budgeting over HTTP for planners, TAPD and treasurers: plans (RKA → DPA), versions, prices, the SPP queue.

The gateway holds no rules: each route forwards the caller's token to budgeting, which checks
roles, tenancy and every budget rule again. Edits carry the version read before as
`If-Match: "<version>"`; a stale one comes back from the service as ABORTED and leaves here
as 409 (problem+json). Every answer about one plan carries its version as `ETag`.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Annotated, Any

import grpc
from fastapi import APIRouter, Body, Depends, Header, Path, Query, Request, Response, status
from fastapi.responses import StreamingResponse
from grms.budgeting.v1 import budgeting_service_pb2 as pb
from grms.common.v1 import money_pb2, paging_pb2
from grms_kit.identity import Role

from grms_gateway.auth import Caller, call_context, require_role
from grms_gateway.clients import BudgetingClient, CallContext
from grms_gateway.errors import ApiProblem, UpstreamError
from grms_gateway.schemas.budgeting import (
    PLAN_STATE_VALUES,
    REVISION_KIND_VALUES,
    SPP_STATE_VALUES,
    BudgetLineIn,
    BudgetPlanIn,
    BudgetPlanList,
    BudgetPlanOut,
    CashPlanIn,
    CashPlanSetOut,
    CashPlansOut,
    DiffOut,
    PaymentRequestList,
    PaymentRequestOut,
    PlanState,
    PlanVersionOut,
    RejectIn,
    ReturnIn,
    ReviseIn,
    SppState,
    StandardPriceList,
    cash_plan_out,
    diff_lines,
    line_input,
    payment_request_out,
    plan_out,
    standard_price_out,
    version_out,
)
from grms_gateway.schemas.problem import problem_responses
from grms_gateway.state import Gateway, get_gateway

__all__ = ["XLSX", "BudgetClient", "budget_client", "parse_if_match", "router"]

router = APIRouter(prefix="/api/v1/budget", tags=["budgeting"])

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_WORKBOOK_BYTES = 8 * 1024 * 1024
EXPORT_SECONDS = 60.0

Ctx = Annotated[CallContext, Depends(call_context)]
GatewayDep = Annotated[Gateway, Depends(get_gateway)]
Anyone = Annotated[Caller, Depends(require_role(*Role.ALL))]
PlanId = Annotated[str, Path(min_length=1, max_length=36, pattern=r"^[0-9A-Za-z-]+$")]
LineNumber = Annotated[int, Path(ge=1, le=2**31 - 1)]
IfMatch = Annotated[str | None, Header(description='The ETag read before, e.g. "7"; a stale one gives 409')]
Government = Annotated[str, Query(pattern=r"^\d{2}(\.\d{2})?$", description="Kode pemerintah daerah, e.g. 33")]
PageSize = Annotated[int, Query(ge=0, le=500)]
PageToken = Annotated[str, Query(max_length=500)]

_PROBLEMS = problem_responses(400, 401, 403, 404, 409, 422, 500, 503, 504)


class BudgetClient(BudgetingClient):
    """Budgeting's RPCs for plans and the treasury, beyond the reference data."""

    async def export_plan(self, plan_id: str, *, ctx: CallContext) -> tuple[int, AsyncIterator[bytes]]:
        """The plan's RKA workbook: its size (from the first chunk) and the chunks; errors before any byte is sent."""
        method = "ExportBudgetPlan"
        started = time.perf_counter()
        call = self.stub.ExportBudgetPlan(
            pb.ExportBudgetPlanRequest(plan_id=plan_id), timeout=EXPORT_SECONDS, metadata=ctx.metadata()
        )
        try:
            first = await call.read()
        except grpc.aio.AioRpcError as exc:
            self.metrics.observe_grpc(self.service, method, exc.code().name, time.perf_counter() - started)
            raise UpstreamError.from_rpc_error(exc, service=self.service, method=method) from exc
        if first is grpc.aio.EOF:
            raise UpstreamError(
                service=self.service, method=method, code=grpc.StatusCode.INTERNAL, message="empty export"
            )

        async def chunks() -> AsyncIterator[bytes]:
            code = grpc.StatusCode.OK
            try:
                yield first.chunk
                async for message in call:
                    yield message.chunk
            except grpc.aio.AioRpcError as exc:
                code = exc.code()
                raise
            finally:
                call.cancel()
                self.metrics.observe_grpc(self.service, method, code.name, time.perf_counter() - started)

        return int(first.total_size), chunks()


def budget_client(gateway: Gateway) -> BudgetClient:
    """A client on the gateway's channel to budgeting (opened by the lifespan)."""
    return BudgetClient(gateway.clients.channels["budgeting"], metrics=gateway.metrics)


def parse_if_match(value: str | None) -> int:
    """The version in an If-Match header; 0 (any version) when absent or "*"."""
    if value is None or value.strip() in ("", "*"):
        return 0
    raw = value.strip().removeprefix("W/").strip('"')
    if not raw.isdigit() or int(raw) <= 0:
        raise ApiProblem(400, "problem.bad_request", "problem.if_match")
    return int(raw)


def _with_etag(response: Response, plan: Any) -> BudgetPlanOut:
    response.headers["ETag"] = f'"{plan.version}"'
    return plan_out(plan)


def _page(size: int, token: str) -> paging_pb2.PageRequest:
    return paging_pb2.PageRequest(page_size=size, page_token=token)


# ---- plans ------------------------------------------------------------------------------------


@router.get(
    "/plans",
    response_model=BudgetPlanList,
    summary="Budget plans of a government (any staff role)",
    responses=_PROBLEMS,
)
async def list_plans(
    *,
    caller: Anyone,
    ctx: Ctx,
    gateway: GatewayDep,
    government: Government,
    agency: Annotated[str, Query(max_length=40)] = "",
    fiscal_year: Annotated[int, Query(ge=0, le=2100)] = 0,
    state: Annotated[PlanState | None, Query()] = None,
    page_size: PageSize = 0,
    page_token: PageToken = "",
) -> BudgetPlanList:
    """Without lines, by agency and sub-activity; an officer of agencies sees only theirs."""
    request = pb.ListBudgetPlansRequest(
        government_code=government,
        agency_code=agency,
        fiscal_year=fiscal_year,
        state=PLAN_STATE_VALUES[state] if state else 0,  # type: ignore[arg-type]
        page=_page(page_size, page_token),
    )
    found = await budget_client(gateway).call("ListBudgetPlans", request, ctx=ctx)
    return BudgetPlanList(
        budget_plans=[plan_out(p) for p in found.budget_plans], next_page_token=found.page.next_page_token
    )


@router.post(
    "/plans",
    response_model=BudgetPlanOut,
    status_code=status.HTTP_201_CREATED,
    summary="Start a draft plan (planner, agency head, admin)",
    responses=_PROBLEMS,
)
async def create_plan(
    *, body: Annotated[BudgetPlanIn, Body()], caller: Anyone, response: Response, ctx: Ctx, gateway: GatewayDep
) -> BudgetPlanOut:
    request = pb.CreateBudgetPlanRequest(**body.model_dump())
    plan = (await budget_client(gateway).call("CreateBudgetPlan", request, ctx=ctx)).budget_plan
    response.headers["Location"] = f"/api/v1/budget/plans/{plan.id}"
    return _with_etag(response, plan)


@router.get("/plans/{plan_id}", response_model=BudgetPlanOut, summary="One plan with its lines", responses=_PROBLEMS)
async def get_plan(
    *, plan_id: PlanId, caller: Anyone, response: Response, ctx: Ctx, gateway: GatewayDep
) -> BudgetPlanOut:
    plan = (
        await budget_client(gateway).call("GetBudgetPlan", pb.GetBudgetPlanRequest(plan_id=plan_id), ctx=ctx)
    ).budget_plan
    return _with_etag(response, plan)


@router.post(
    "/plans/{plan_id}/lines",
    response_model=BudgetPlanOut,
    summary="Add a line (If-Match); errors name lines[<n>].<field>",
    responses=_PROBLEMS,
)
async def add_line(
    *,
    plan_id: PlanId,
    body: Annotated[BudgetLineIn, Body()],
    if_match: IfMatch = None,
    caller: Anyone,
    response: Response,
    ctx: Ctx,
    gateway: GatewayDep,
) -> BudgetPlanOut:
    request = pb.AddBudgetLineRequest(plan_id=plan_id, expected_version=parse_if_match(if_match), line=line_input(body))
    return _with_etag(response, (await budget_client(gateway).call("AddBudgetLine", request, ctx=ctx)).budget_plan)


@router.put(
    "/plans/{plan_id}/lines/{number}",
    response_model=BudgetPlanOut,
    summary="Replace a line (If-Match)",
    responses=_PROBLEMS,
)
async def update_line(
    *,
    plan_id: PlanId,
    number: LineNumber,
    body: Annotated[BudgetLineIn, Body()],
    if_match: IfMatch = None,
    caller: Anyone,
    response: Response,
    ctx: Ctx,
    gateway: GatewayDep,
) -> BudgetPlanOut:
    request = pb.UpdateBudgetLineRequest(
        plan_id=plan_id, expected_version=parse_if_match(if_match), line_number=number, line=line_input(body)
    )
    return _with_etag(response, (await budget_client(gateway).call("UpdateBudgetLine", request, ctx=ctx)).budget_plan)


@router.delete(
    "/plans/{plan_id}/lines/{number}",
    response_model=BudgetPlanOut,
    summary="Remove a line (If-Match)",
    responses=_PROBLEMS,
)
async def remove_line(
    *,
    plan_id: PlanId,
    number: LineNumber,
    if_match: IfMatch = None,
    caller: Anyone,
    response: Response,
    ctx: Ctx,
    gateway: GatewayDep,
) -> BudgetPlanOut:
    request = pb.RemoveBudgetLineRequest(plan_id=plan_id, expected_version=parse_if_match(if_match), line_number=number)
    return _with_etag(response, (await budget_client(gateway).call("RemoveBudgetLine", request, ctx=ctx)).budget_plan)


_TRANSITIONS = {
    "submit": ("SubmitBudgetPlan", pb.SubmitBudgetPlanRequest),
    "verify": ("VerifyBudgetPlan", pb.VerifyBudgetPlanRequest),
    "approve": ("ApproveBudgetPlan", pb.ApproveBudgetPlanRequest),
}


async def _transition(action: str, plan_id: str, if_match: str | None, gateway: Gateway, ctx: CallContext) -> Any:
    method, message = _TRANSITIONS[action]
    request = message(plan_id=plan_id, expected_version=parse_if_match(if_match))
    return (await budget_client(gateway).call(method, request, ctx=ctx)).budget_plan


@router.post(
    "/plans/{plan_id}/submit",
    response_model=BudgetPlanOut,
    summary="Submit to TAPD (head of the agency); within ceilings, prices and with an output indicator",
    responses=_PROBLEMS,
)
async def submit_plan(
    *, plan_id: PlanId, if_match: IfMatch = None, caller: Anyone, response: Response, ctx: Ctx, gateway: GatewayDep
) -> BudgetPlanOut:
    return _with_etag(response, await _transition("submit", plan_id, if_match, gateway, ctx))


@router.post(
    "/plans/{plan_id}/verify",
    response_model=BudgetPlanOut,
    summary="TAPD verifies a submitted plan",
    responses=_PROBLEMS,
)
async def verify_plan(
    *, plan_id: PlanId, if_match: IfMatch = None, caller: Anyone, response: Response, ctx: Ctx, gateway: GatewayDep
) -> BudgetPlanOut:
    return _with_etag(response, await _transition("verify", plan_id, if_match, gateway, ctx))


@router.post(
    "/plans/{plan_id}/approve",
    response_model=BudgetPlanOut,
    summary="TAPD approves: the plan becomes the DPA",
    responses=_PROBLEMS,
)
async def approve_plan(
    *, plan_id: PlanId, if_match: IfMatch = None, caller: Anyone, response: Response, ctx: Ctx, gateway: GatewayDep
) -> BudgetPlanOut:
    return _with_etag(response, await _transition("approve", plan_id, if_match, gateway, ctx))


@router.post(
    "/plans/{plan_id}/return",
    response_model=BudgetPlanOut,
    summary="TAPD returns a plan with notes, per line",
    responses=_PROBLEMS,
)
async def return_plan(
    *,
    plan_id: PlanId,
    body: Annotated[ReturnIn, Body()],
    if_match: IfMatch = None,
    caller: Anyone,
    response: Response,
    ctx: Ctx,
    gateway: GatewayDep,
) -> BudgetPlanOut:
    request = pb.ReturnBudgetPlanRequest(
        plan_id=plan_id,
        expected_version=parse_if_match(if_match),
        note=body.note,
        line_notes=[pb.LineNote(line_number=n.line_number, note=n.note) for n in body.line_notes],
    )
    return _with_etag(response, (await budget_client(gateway).call("ReturnBudgetPlan", request, ctx=ctx)).budget_plan)


@router.post(
    "/plans/{plan_id}/revise",
    response_model=BudgetPlanOut,
    summary="Open a revision of a DPA: shift (pergeseran) or amendment (perubahan) (TAPD, admin)",
    responses=_PROBLEMS,
)
async def revise_plan(
    *,
    plan_id: PlanId,
    body: Annotated[ReviseIn, Body()],
    if_match: IfMatch = None,
    caller: Anyone,
    response: Response,
    ctx: Ctx,
    gateway: GatewayDep,
) -> BudgetPlanOut:
    request = pb.ReviseBudgetPlanRequest(
        plan_id=plan_id,
        expected_version=parse_if_match(if_match),
        kind=REVISION_KIND_VALUES[body.kind],  # type: ignore[arg-type]
        reason=body.reason,
    )
    return _with_etag(response, (await budget_client(gateway).call("ReviseBudgetPlan", request, ctx=ctx)).budget_plan)


@router.get(
    "/plans/{plan_id}/versions",
    response_model=list[PlanVersionOut],
    summary="The plan's immutable snapshots",
    responses=_PROBLEMS,
)
async def list_versions(*, plan_id: PlanId, caller: Anyone, ctx: Ctx, gateway: GatewayDep) -> list[PlanVersionOut]:
    found = await budget_client(gateway).call(
        "ListBudgetPlanVersions", pb.ListBudgetPlanVersionsRequest(plan_id=plan_id), ctx=ctx
    )
    return [version_out(v) for v in found.versions]


@router.get(
    "/plans/{plan_id}/diff",
    response_model=DiffOut,
    summary="Line-by-line difference of two snapshots",
    responses=_PROBLEMS,
)
async def diff_versions(
    *,
    plan_id: PlanId,
    from_version: Annotated[int, Query(alias="from", ge=1)],
    to_version: Annotated[int, Query(alias="to", ge=1)],
    caller: Anyone,
    ctx: Ctx,
    gateway: GatewayDep,
) -> DiffOut:
    request = pb.DiffBudgetPlanVersionsRequest(plan_id=plan_id, from_version=from_version, to_version=to_version)
    found = await budget_client(gateway).call("DiffBudgetPlanVersions", request, ctx=ctx)
    return DiffOut(
        from_version=from_version,
        to_version=to_version,
        from_total=found.from_total.rupiah,
        to_total=found.to_total.rupiah,
        lines=diff_lines(found.lines),
    )


@router.post(
    "/plans/{plan_id}/workbook",
    response_model=BudgetPlanOut,
    summary="Append the lines of an RKA workbook (XLSX body) or CSV (text/csv body), at most 8 MiB, all or nothing",
    responses=_PROBLEMS,
)
async def import_workbook(
    *,
    plan_id: PlanId,
    request: Request,
    if_match: IfMatch = None,
    caller: Anyone,
    response: Response,
    ctx: Ctx,
    gateway: GatewayDep,
) -> BudgetPlanOut:
    """Every bad cell comes back in `errors` as `rows[<row>].<column letter>`."""
    data = bytearray()
    async for chunk in request.stream():
        data.extend(chunk)
        if len(data) > MAX_WORKBOOK_BYTES:
            raise ApiProblem(413, "problem.too_large", "problem.too_large")
    is_csv = request.headers.get("content-type", "").split(";")[0].strip().lower() == "text/csv"
    plan = await import_rka(gateway, ctx, plan_id, bytes(data), parse_if_match(if_match), csv=is_csv)
    return _with_etag(response, plan)


async def import_rka(
    gateway: Gateway, ctx: CallContext, plan_id: str, data: bytes, expected_version: int, *, csv: bool = False
) -> Any:
    """ImportBudgetLines of a workbook (or CSV file); the plan after the import."""
    request = pb.ImportBudgetLinesRequest(plan_id=plan_id, expected_version=expected_version)
    if csv:
        request.csv = data
    else:
        request.workbook = data
    return (await budget_client(gateway).call("ImportBudgetLines", request, ctx=ctx)).budget_plan


@router.get(
    "/plans/{plan_id}/workbook",
    summary="The plan (RKA) or DPA as an XLSX workbook",
    responses={200: {"content": {XLSX: {}}}, **_PROBLEMS},
    response_class=StreamingResponse,
)
async def export_workbook(*, plan_id: PlanId, caller: Anyone, ctx: Ctx, gateway: GatewayDep) -> StreamingResponse:
    return await export_response(gateway, ctx, plan_id)


async def export_response(gateway: Gateway, ctx: CallContext, plan_id: str) -> StreamingResponse:
    """The workbook as a download, streamed chunk by chunk."""
    size, chunks = await budget_client(gateway).export_plan(plan_id, ctx=ctx)
    headers = {"Content-Disposition": f'attachment; filename="rka-{plan_id}.xlsx"', "Cache-Control": "no-store"}
    if size:
        headers["Content-Length"] = str(size)
    return StreamingResponse(chunks, media_type=XLSX, headers=headers)


# ---- standard prices ---------------------------------------------------------------------------


@router.get(
    "/standard-prices",
    response_model=StandardPriceList,
    summary="Search the standard price list (e-HSB)",
    responses=_PROBLEMS,
)
async def search_prices(
    *,
    caller: Anyone,
    ctx: Ctx,
    gateway: GatewayDep,
    government: Government,
    fiscal_year: Annotated[int, Query(ge=2000, le=2100)],
    q: Annotated[str, Query(max_length=200, description="Words that must all occur")] = "",
    account: Annotated[str, Query(max_length=40, description="Only items allowed on this account")] = "",
    page_size: PageSize = 0,
    page_token: PageToken = "",
) -> StandardPriceList:
    request = pb.SearchStandardPricesRequest(
        government_code=government,
        fiscal_year=fiscal_year,
        query=q,
        account_code=account,
        page=_page(page_size, page_token),
    )
    found = await budget_client(gateway).call("SearchStandardPrices", request, ctx=ctx)
    return StandardPriceList(
        standard_prices=[standard_price_out(s) for s in found.standard_prices],
        next_page_token=found.page.next_page_token,
    )


# ---- the cash plan (anggaran kas) --------------------------------------------------------------


@router.get(
    "/plans/{plan_id}/cash-plan",
    response_model=CashPlansOut,
    summary="The cash plans of a DPA: in force, and proposed with its open revision",
    responses=_PROBLEMS,
)
async def list_cash_plans(*, plan_id: PlanId, caller: Anyone, ctx: Ctx, gateway: GatewayDep) -> CashPlansOut:
    found = await budget_client(gateway).call("ListCashPlans", pb.ListCashPlansRequest(plan_id=plan_id), ctx=ctx)
    return CashPlansOut(
        cash_plans=[cash_plan_out(c) for c in found.cash_plans],
        proposed_cash_plans=[cash_plan_out(c) for c in found.proposed_cash_plans],
    )


@router.put(
    "/plans/{plan_id}/cash-plan",
    response_model=CashPlanSetOut,
    summary="Set the cash plan of a DPA line (or of the plan, line 0); during a revision, the one proposed with it",
    responses=_PROBLEMS,
)
async def set_cash_plan(
    *, plan_id: PlanId, body: Annotated[CashPlanIn, Body()], caller: Anyone, ctx: Ctx, gateway: GatewayDep
) -> CashPlanSetOut:
    request = pb.SetCashPlanRequest(
        plan_id=plan_id, line_number=body.line_number, months=[money_pb2.Money(rupiah=m) for m in body.months]
    )
    found = await budget_client(gateway).call("SetCashPlan", request, ctx=ctx)
    return CashPlanSetOut(proposed=found.proposed, cash_plans=[cash_plan_out(c) for c in found.cash_plans])


# ---- the SPP → SPM → SP2D queue ---------------------------------------------------------------


@router.get(
    "/payment-requests",
    response_model=PaymentRequestList,
    summary="The treasurer's queue: SPPs of a government (and agency), optionally in one state",
    responses=_PROBLEMS,
)
async def list_payment_requests(
    *,
    caller: Anyone,
    ctx: Ctx,
    gateway: GatewayDep,
    government: Government,
    agency: Annotated[str, Query(max_length=40)] = "",
    state: Annotated[SppState | None, Query()] = None,
    page_size: PageSize = 0,
    page_token: PageToken = "",
) -> PaymentRequestList:
    request = pb.ListPaymentRequestsRequest(
        government_code=government,
        agency_code=agency,
        state=SPP_STATE_VALUES[state] if state else 0,  # type: ignore[arg-type]
        page=_page(page_size, page_token),
    )
    found = await budget_client(gateway).call("ListPaymentRequests", request, ctx=ctx)
    return PaymentRequestList(
        payment_requests=[payment_request_out(r) for r in found.payment_requests],
        next_page_token=found.page.next_page_token,
    )


SppId = Annotated[str, Path(min_length=1, max_length=36, pattern=r"^[0-9A-Za-z-]+$")]


async def spp_action(action: str, spp_id: str, expected: int, reason: str, gateway: Gateway, ctx: CallContext) -> Any:
    """Order (SPM), disburse (SP2D) or reject a payment request; the request afterwards."""
    client = budget_client(gateway)
    if action == "order":
        request: Any = pb.OrderPaymentRequest(payment_request_id=spp_id, expected_version=expected)
        return (await client.call("OrderPayment", request, ctx=ctx)).payment_request
    if action == "disburse":
        request = pb.DisbursePaymentRequest(payment_request_id=spp_id, expected_version=expected)
        return (await client.call("DisbursePayment", request, ctx=ctx)).payment_request
    request = pb.RejectPaymentRequestRequest(payment_request_id=spp_id, expected_version=expected, reason=reason)
    return (await client.call("RejectPaymentRequest", request, ctx=ctx)).payment_request


@router.post(
    "/payment-requests/{spp_id}/order",
    response_model=PaymentRequestOut,
    summary="The PA/KPA signs the SPM of an SPP (If-Match)",
    responses=_PROBLEMS,
)
async def order_payment(
    *, spp_id: SppId, if_match: IfMatch = None, caller: Anyone, response: Response, ctx: Ctx, gateway: GatewayDep
) -> PaymentRequestOut:
    found = await spp_action("order", spp_id, parse_if_match(if_match), "", gateway, ctx)
    response.headers["ETag"] = f'"{found.version}"'
    return payment_request_out(found)


@router.post(
    "/payment-requests/{spp_id}/disburse",
    response_model=PaymentRequestOut,
    summary="BUD issues the SP2D (If-Match); publishes FundsDisbursed",
    responses=_PROBLEMS,
)
async def disburse_payment(
    *, spp_id: SppId, if_match: IfMatch = None, caller: Anyone, response: Response, ctx: Ctx, gateway: GatewayDep
) -> PaymentRequestOut:
    found = await spp_action("disburse", spp_id, parse_if_match(if_match), "", gateway, ctx)
    response.headers["ETag"] = f'"{found.version}"'
    return payment_request_out(found)


@router.post(
    "/payment-requests/{spp_id}/reject",
    response_model=PaymentRequestOut,
    summary="The PA/KPA or BUD rejects an SPP or SPM with a reason (If-Match)",
    responses=_PROBLEMS,
)
async def reject_payment(
    *,
    spp_id: SppId,
    body: Annotated[RejectIn, Body()],
    if_match: IfMatch = None,
    caller: Anyone,
    response: Response,
    ctx: Ctx,
    gateway: GatewayDep,
) -> PaymentRequestOut:
    found = await spp_action("reject", spp_id, parse_if_match(if_match), body.reason, gateway, ctx)
    response.headers["ETag"] = f'"{found.version}"'
    return payment_request_out(found)
