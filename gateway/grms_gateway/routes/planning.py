"""Planning over HTTP: citizens' proposals (public submit and tracking; staff accept/reject) and sub-activities."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Path, Query, Response, status
from grms.common.v1 import paging_pb2
from grms.planning.v1 import planning_service_pb2 as pb
from grms_kit.identity import Role

from grms_gateway.auth import Caller, call_context, require_role
from grms_gateway.clients import CallContext, ReplicaClient
from grms_gateway.schemas.planning import (
    CATEGORY_VALUES,
    AcceptIn,
    ProposalIn,
    PublicProposalOut,
    RejectIn,
    SCurvePointOut,
    StaffProposalOut,
    SubActivityDetail,
    SubActivityList,
    public_proposal_out,
    staff_proposal_out,
    sub_activity_out,
)
from grms_gateway.schemas.planning_recurring import ProposeFromComplaintsIn, RecurringComplaintsOut, cluster_out
from grms_gateway.schemas.planning_stages import (
    CloseStageIn,
    OpenRevisionIn,
    StageBookOut,
    StageDiffOut,
    stage_book_out,
    stage_diff_out,
    stage_out,
)
from grms_gateway.schemas.problem import problem_responses
from grms_gateway.state import Gateway, get_gateway
from grms_gateway.throttle import limited

__all__ = ["PlanningClient", "router"]

router = APIRouter(tags=["planning"])

Ctx = Annotated[CallContext, Depends(call_context)]
GatewayDep = Annotated[Gateway, Depends(get_gateway)]
Staff = Annotated[Caller, Depends(require_role(Role.PLANNER, Role.ADMIN))]
PublicId = Annotated[str, Path(pattern=r"^[Uu]-[0-9A-Za-z]{16}$", description="e.g. U-7K2M9QX4T1H8RZ3B")]

_PUBLIC_PROBLEMS = problem_responses(400, 404, 422, 500, 503, 504)
_STAFF_PROBLEMS = problem_responses(400, 401, 403, 404, 409, 422, 500, 503, 504)


class PlanningClient(ReplicaClient):
    """The planning service's RPCs beyond the reference copy."""

    async def submit_proposal(
        self, request: pb.SubmitProposalRequest, *, ctx: CallContext
    ) -> pb.SubmitProposalResponse:
        return await self._call("SubmitProposal", self.stub.SubmitProposal, request, ctx=ctx)

    async def get_public_proposal(self, public_id: str, *, ctx: CallContext) -> pb.GetPublicProposalResponse:
        request = pb.GetPublicProposalRequest(public_id=public_id)
        return await self._call("GetPublicProposal", self.stub.GetPublicProposal, request, ctx=ctx)

    async def accept_proposal(
        self, request: pb.AcceptProposalRequest, *, ctx: CallContext
    ) -> pb.AcceptProposalResponse:
        return await self._call("AcceptProposal", self.stub.AcceptProposal, request, ctx=ctx)

    async def reject_proposal(
        self, request: pb.RejectProposalRequest, *, ctx: CallContext
    ) -> pb.RejectProposalResponse:
        return await self._call("RejectProposal", self.stub.RejectProposal, request, ctx=ctx)

    async def list_sub_activities(
        self, request: pb.ListSubActivitiesRequest, *, ctx: CallContext
    ) -> pb.ListSubActivitiesResponse:
        return await self._call("ListSubActivities", self.stub.ListSubActivities, request, ctx=ctx)

    async def get_sub_activity(self, sub_activity_id: str, *, ctx: CallContext) -> pb.GetSubActivityResponse:
        request = pb.GetSubActivityRequest(id=sub_activity_id)
        return await self._call("GetSubActivity", self.stub.GetSubActivity, request, ctx=ctx)

    async def get_stage_book(self, request: pb.GetStageBookRequest, *, ctx: CallContext) -> pb.GetStageBookResponse:
        return await self._call("GetStageBook", self.stub.GetStageBook, request, ctx=ctx)

    async def close_stage(self, request: pb.CloseStageRequest, *, ctx: CallContext) -> pb.CloseStageResponse:
        return await self._call("CloseStage", self.stub.CloseStage, request, ctx=ctx)

    async def open_revision_stage(
        self, request: pb.OpenRevisionStageRequest, *, ctx: CallContext
    ) -> pb.OpenRevisionStageResponse:
        return await self._call("OpenRevisionStage", self.stub.OpenRevisionStage, request, ctx=ctx)

    async def diff_stages(self, request: pb.DiffStagesRequest, *, ctx: CallContext) -> pb.DiffStagesResponse:
        return await self._call("DiffStages", self.stub.DiffStages, request, ctx=ctx)

    async def add_indicator(self, request: pb.AddIndicatorRequest, *, ctx: CallContext) -> pb.AddIndicatorResponse:
        return await self._call("AddIndicator", self.stub.AddIndicator, request, ctx=ctx)

    async def set_monthly_plan(
        self, request: pb.SetMonthlyPlanRequest, *, ctx: CallContext
    ) -> pb.SetMonthlyPlanResponse:
        return await self._call("SetMonthlyPlan", self.stub.SetMonthlyPlan, request, ctx=ctx)

    async def suggest_monthly_plan(
        self, request: pb.SuggestMonthlyPlanRequest, *, ctx: CallContext
    ) -> pb.SuggestMonthlyPlanResponse:
        return await self._call("SuggestMonthlyPlan", self.stub.SuggestMonthlyPlan, request, ctx=ctx)

    async def mark_planned(
        self, request: pb.MarkSubActivityPlannedRequest, *, ctx: CallContext
    ) -> pb.MarkSubActivityPlannedResponse:
        return await self._call("MarkSubActivityPlanned", self.stub.MarkSubActivityPlanned, request, ctx=ctx)

    async def reopen(self, request: pb.ReopenSubActivityRequest, *, ctx: CallContext) -> pb.ReopenSubActivityResponse:
        return await self._call("ReopenSubActivity", self.stub.ReopenSubActivity, request, ctx=ctx)

    async def create_package(
        self, request: pb.CreateProcurementPackageRequest, *, ctx: CallContext
    ) -> pb.CreateProcurementPackageResponse:
        return await self._call("CreateProcurementPackage", self.stub.CreateProcurementPackage, request, ctx=ctx)

    async def list_packages(
        self, request: pb.ListProcurementPackagesRequest, *, ctx: CallContext
    ) -> pb.ListProcurementPackagesResponse:
        return await self._call("ListProcurementPackages", self.stub.ListProcurementPackages, request, ctx=ctx)

    async def detect_splits(
        self, request: pb.DetectSplitPackagesRequest, *, ctx: CallContext
    ) -> pb.DetectSplitPackagesResponse:
        return await self._call("DetectSplitPackages", self.stub.DetectSplitPackages, request, ctx=ctx)

    async def list_proposals(self, request: pb.ListProposalsRequest, *, ctx: CallContext) -> pb.ListProposalsResponse:
        return await self._call("ListProposals", self.stub.ListProposals, request, ctx=ctx)

    async def list_recurring(
        self, request: pb.ListRecurringComplaintsRequest, *, ctx: CallContext
    ) -> pb.ListRecurringComplaintsResponse:
        return await self._call("ListRecurringComplaints", self.stub.ListRecurringComplaints, request, ctx=ctx)

    async def propose_from_complaints(
        self, request: pb.ProposeFromComplaintsRequest, *, ctx: CallContext
    ) -> pb.ProposeFromComplaintsResponse:
        return await self._call("ProposeFromComplaints", self.stub.ProposeFromComplaints, request, ctx=ctx)


def planning(gateway: Gateway) -> PlanningClient:
    """A client on the gateway's channel to planning (opened by the lifespan)."""
    return PlanningClient("planning", gateway.clients.channels["planning"], metrics=gateway.metrics)


@router.post(
    "/api/v1/proposals",
    response_model=PublicProposalOut,
    status_code=status.HTTP_201_CREATED,
    summary="Submit a citizen's proposal (usulan); no login",
    responses=_PUBLIC_PROBLEMS,
    dependencies=[Depends(limited("intake"))],
)
async def submit_proposal(
    *, body: Annotated[ProposalIn, Body()], response: Response, ctx: Ctx, gateway: GatewayDep
) -> PublicProposalOut:
    """Anyone may submit; keep the returned `public_id` to follow the proposal."""
    request = pb.SubmitProposalRequest(
        government_code=body.government_code,
        village_code=body.village_code,
        category=CATEGORY_VALUES[body.category],  # type: ignore[arg-type]
        title=body.title,
        description=body.description,
        proposer_name=body.proposer_name,
        proposer_contact=body.proposer_contact,
    )
    created = (await planning(gateway).submit_proposal(request, ctx=ctx)).proposal
    response.headers["Location"] = f"/api/v1/proposals/{created.public_id}"
    return public_proposal_out(created)


@router.get(
    "/api/v1/proposals/{public_id}",
    response_model=PublicProposalOut,
    summary="A proposal's status and public history; no login",
    responses=_PUBLIC_PROBLEMS,
    dependencies=[Depends(limited("public_read"))],
)
async def get_proposal(*, public_id: PublicId, ctx: Ctx, gateway: GatewayDep) -> PublicProposalOut:
    """Status and history only: the proposer's name and contact are never shown here."""
    return public_proposal_out((await planning(gateway).get_public_proposal(public_id.upper(), ctx=ctx)).proposal)


@router.post(
    "/api/v1/proposals/{public_id}/accept",
    response_model=StaffProposalOut,
    summary="Accept a proposal under review into a sub-activity (planner, admin)",
    responses=_STAFF_PROBLEMS,
)
async def accept_proposal(
    *, public_id: PublicId, body: Annotated[AcceptIn, Body()], caller: Staff, ctx: Ctx, gateway: GatewayDep
) -> StaffProposalOut:
    request = pb.AcceptProposalRequest(
        public_id=public_id.upper(), sub_activity_id=body.sub_activity_id, note=body.note
    )
    return staff_proposal_out((await planning(gateway).accept_proposal(request, ctx=ctx)).proposal)


@router.post(
    "/api/v1/proposals/{public_id}/reject",
    response_model=StaffProposalOut,
    summary="Reject a proposal with a public reason (planner, admin)",
    responses=_STAFF_PROBLEMS,
)
async def reject_proposal(
    *, public_id: PublicId, body: Annotated[RejectIn, Body()], caller: Staff, ctx: Ctx, gateway: GatewayDep
) -> StaffProposalOut:
    request = pb.RejectProposalRequest(public_id=public_id.upper(), reason=body.reason)
    return staff_proposal_out((await planning(gateway).reject_proposal(request, ctx=ctx)).proposal)


@router.get(
    "/api/v1/sub-activities",
    response_model=SubActivityList,
    summary="Sub-activities of a government's fiscal year, by agency and code (planner)",
    responses=_STAFF_PROBLEMS,
)
async def list_sub_activities(
    *,
    caller: Annotated[Caller, Depends(require_role(*Role.ALL))],
    ctx: Ctx,
    gateway: GatewayDep,
    government: Annotated[str, Query(pattern=r"^\d{2}(\.\d{2})?$")],
    agency: Annotated[str, Query(max_length=40)] = "",
    fiscal_year: Annotated[int, Query(ge=2000, le=2100)] = dt.date.today().year,
    page_size: Annotated[int, Query(ge=0, le=500)] = 0,
    page_token: Annotated[str, Query(max_length=500)] = "",
) -> SubActivityList:
    request = pb.ListSubActivitiesRequest(
        government_code=government,
        fiscal_year=fiscal_year,
        agency_code=agency,
        page=paging_pb2.PageRequest(page_size=page_size, page_token=page_token),
    )
    found = await planning(gateway).list_sub_activities(request, ctx=ctx)
    return SubActivityList(
        sub_activities=[sub_activity_out(s) for s in found.sub_activities], next_page_token=found.page.next_page_token
    )


@router.get(
    "/api/v1/sub-activities/{sub_activity_id}",
    response_model=SubActivityDetail,
    summary="One sub-activity with its indicators and planned S-curve (planner)",
    responses=_STAFF_PROBLEMS,
)
async def get_sub_activity(
    *,
    sub_activity_id: Annotated[str, Path(min_length=1, max_length=36)],
    caller: Annotated[Caller, Depends(require_role(*Role.ALL))],
    ctx: Ctx,
    gateway: GatewayDep,
) -> SubActivityDetail:
    found = await planning(gateway).get_sub_activity(sub_activity_id, ctx=ctx)
    return SubActivityDetail(
        **sub_activity_out(found.sub_activity).model_dump(),
        s_curve=[
            SCurvePointOut(
                month=p.month,
                physical_percent=p.physical_percent,
                cumulative_disbursement=p.cumulative_disbursement.rupiah,
                financial_percent=p.financial_percent,
            )
            for p in found.s_curve
        ],
    )


# Planning stages (tahapan) of an agency-year.

GovernmentCode = Annotated[str, Path(pattern=r"^\d{2}(\.\d{2})?$", examples=["33"])]
AgencyCode = Annotated[str, Path(min_length=1, max_length=40, examples=["1.02.0.00.0.00.01.0000"])]
FiscalYear = Annotated[int, Path(ge=2000, le=2100, examples=[2025])]
Reader = Annotated[Caller, Depends(require_role(*Role.ALL))]
_STAGES = "/api/v1/planning/{government}/{fiscal_year}/agencies/{agency}/stages"


@router.get(
    _STAGES,
    response_model=StageBookOut,
    summary="The planning stages of an agency-year (rancangan awal → rancangan → akhir → perubahan)",
    responses=_STAFF_PROBLEMS,
)
async def get_stage_book(
    *,
    government: GovernmentCode,
    fiscal_year: FiscalYear,
    agency: AgencyCode,
    caller: Reader,
    ctx: Ctx,
    gateway: GatewayDep,
) -> StageBookOut:
    request = pb.GetStageBookRequest(government_code=government, agency_code=agency, fiscal_year=fiscal_year)
    return stage_book_out((await planning(gateway).get_stage_book(request, ctx=ctx)).book)


@router.post(
    _STAGES + "/close",
    response_model=StageBookOut,
    summary="Close the open stage with an immutable snapshot of the agency-year (planner, admin)",
    responses=_STAFF_PROBLEMS,
)
async def close_stage(
    *,
    government: GovernmentCode,
    fiscal_year: FiscalYear,
    agency: AgencyCode,
    body: Annotated[CloseStageIn, Body()],
    caller: Staff,
    ctx: Ctx,
    gateway: GatewayDep,
) -> StageBookOut:
    """A stale `expected_version` (someone edited meanwhile) is 409; a locked plan is 409 too."""
    request = pb.CloseStageRequest(
        government_code=government, agency_code=agency, fiscal_year=fiscal_year, expected_version=body.expected_version
    )
    return stage_book_out((await planning(gateway).close_stage(request, ctx=ctx)).book)


@router.post(
    _STAGES + "/revisions",
    response_model=StageBookOut,
    status_code=status.HTTP_201_CREATED,
    summary="Open a perubahan stage on a locked plan, with its reason (planner, admin)",
    responses=_STAFF_PROBLEMS,
)
async def open_revision_stage(
    *,
    government: GovernmentCode,
    fiscal_year: FiscalYear,
    agency: AgencyCode,
    body: Annotated[OpenRevisionIn, Body()],
    caller: Staff,
    ctx: Ctx,
    gateway: GatewayDep,
) -> StageBookOut:
    request = pb.OpenRevisionStageRequest(
        government_code=government,
        agency_code=agency,
        fiscal_year=fiscal_year,
        reason=body.reason,
        expected_version=body.expected_version,
    )
    return stage_book_out((await planning(gateway).open_revision_stage(request, ctx=ctx)).book)


@router.get(
    _STAGES + "/diff",
    response_model=StageDiffOut,
    summary="Field-by-field differences between two closed stages; stage 0 is the current working plan",
    responses=_STAFF_PROBLEMS,
)
async def diff_stages(
    *,
    government: GovernmentCode,
    fiscal_year: FiscalYear,
    agency: AgencyCode,
    caller: Reader,
    ctx: Ctx,
    gateway: GatewayDep,
    from_stage: Annotated[int, Query(alias="from", ge=0, le=10_000)],
    to_stage: Annotated[int, Query(alias="to", ge=0, le=10_000)] = 0,
) -> StageDiffOut:
    request = pb.DiffStagesRequest(
        government_code=government,
        agency_code=agency,
        fiscal_year=fiscal_year,
        from_stage=from_stage,
        to_stage=to_stage,
    )
    found = await planning(gateway).diff_stages(request, ctx=ctx)
    return stage_diff_out(
        list(found.items),
        stage_out(found.old_stage) if found.HasField("old_stage") else None,
        stage_out(found.new_stage) if found.HasField("new_stage") else None,
    )


# Recurring complaints offered as proposals for the next year.

_RECURRING = "/api/v1/planning/{government}/recurring-complaints"


@router.get(
    _RECURRING,
    response_model=RecurringComplaintsOut,
    summary="Recurring complaints of a year (by village and category, at the threshold), largest first (planner)",
    responses=_STAFF_PROBLEMS,
)
async def list_recurring_complaints(
    *,
    government: GovernmentCode,
    caller: Staff,
    ctx: Ctx,
    gateway: GatewayDep,
    year: Annotated[int, Query(ge=2000, le=2100)],
) -> RecurringComplaintsOut:
    found = await planning(gateway).list_recurring(
        pb.ListRecurringComplaintsRequest(government_code=government, year=year), ctx=ctx
    )
    return RecurringComplaintsOut(threshold=found.threshold, clusters=[cluster_out(c) for c in found.clusters])


@router.post(
    _RECURRING + "/{year}/proposals",
    response_model=StaffProposalOut,
    status_code=status.HTTP_201_CREATED,
    summary="Turn a recurring-complaint cluster into a proposal (under review) for the next year, once (planner)",
    responses=_STAFF_PROBLEMS,
)
async def propose_from_complaints(
    *,
    government: GovernmentCode,
    year: FiscalYear,
    body: Annotated[ProposeFromComplaintsIn, Body()],
    response: Response,
    caller: Staff,
    ctx: Ctx,
    gateway: GatewayDep,
) -> StaffProposalOut:
    request = pb.ProposeFromComplaintsRequest(
        government_code=government, year=year, village_code=body.village_code, category_code=body.category_code
    )
    created = (await planning(gateway).propose_from_complaints(request, ctx=ctx)).proposal
    response.headers["Location"] = f"/api/v1/proposals/{created.proposal.public_id}"
    return staff_proposal_out(created)
