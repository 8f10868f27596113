"""The PlanningService gRPC API: protobuf in, use case on the database thread, protobuf out.

The three reference RPCs (ListGovernments, ListAgencies, GetAgency) are answered by the
shared replica servicer of grms_reference, to which this servicer delegates, so the five
replica services keep one implementation of them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import grpc
from grms.common.v1 import money_pb2, paging_pb2
from grms.planning.v1 import planning_service_pb2 as pb
from grms.planning.v1 import planning_service_pb2_grpc as pb_grpc
from grms.planning.v1 import procurement_pb2, proposal_pb2
from grms_kit.db import Database
from grms_kit.errors import InvalidArgument
from grms_kit.identity import current_identity
from grms_kit.paging import Page

from grms_planning.adapters.wire import (
    CATEGORIES,
    CURVE_SHAPES,
    FORMULAS,
    KINDS,
    LEVELS,
    METHODS,
    MODES,
    PROPOSAL_STATUSES,
    TYPES,
    cluster_to_pb,
    enum_from_pb,
    finding_to_pb,
    money,
    month_range_from_pb,
    monthly_plan_to_pb,
    package_to_pb,
    proposal_to_pb,
    public_proposal_to_pb,
    s_curve_to_pb,
    stage_book_to_pb,
    stage_diff_to_pb,
    stage_to_pb,
    sub_activity_to_pb,
)
from grms_planning.domain.model import SubActivity
from grms_planning.domain.procurement import DirectProcurementThresholds, MonthRange, ProcurementMode, sirup_csv_lines
from grms_planning.service_layer import handlers, imports, proposals, recurring, stages
from grms_planning.service_layer.ports import UnitOfWork

__all__ = ["EXPORT_CHUNK_CHARS", "PlanningApi"]

# A chunk of the SIRUP CSV stays far below gRPC's 4 MiB message limit.
EXPORT_CHUNK_CHARS = 64 * 1024


def _page(message: paging_pb2.PageRequest) -> Page:
    return Page(size=message.page_size, token=message.page_token)


def _version(value: int) -> int | None:
    return value or None


def _curve(s: SubActivity) -> list[Any]:
    return s_curve_to_pb(s.monthly_plan.s_curve()) if s.monthly_plan else []


def _range(request: pb.CreateProcurementPackageRequest, name: str, *, required: bool) -> MonthRange | None:
    if not request.HasField(name):  # type: ignore[arg-type]
        if required:
            raise InvalidArgument.field(name, "is required")
        return None
    return month_range_from_pb(getattr(request, name))


def _required_range(request: pb.CreateProcurementPackageRequest, name: str) -> MonthRange:
    found = _range(request, name, required=True)
    assert found is not None
    return found


class PlanningApi(pb_grpc.PlanningServiceServicer):
    """grms.planning.v1.PlanningService."""

    def __init__(
        self,
        db: Database,
        uow: Callable[[], UnitOfWork],
        reference: Any,
        thresholds: DirectProcurementThresholds,
        *,
        recurring_threshold: int = 5,
    ) -> None:
        self.recurring_threshold = recurring_threshold
        self.db = db
        self.uow = uow
        self.reference = reference
        self.thresholds = thresholds

    # The copy of budgeting's reference data.

    async def ListGovernments(
        self, request: pb.ListGovernmentsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListGovernmentsResponse:
        return await self.reference.ListGovernments(request, context)  # type: ignore[no-any-return]

    async def ListAgencies(
        self, request: pb.ListAgenciesRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListAgenciesResponse:
        return await self.reference.ListAgencies(request, context)  # type: ignore[no-any-return]

    async def GetAgency(self, request: pb.GetAgencyRequest, context: grpc.aio.ServicerContext) -> pb.GetAgencyResponse:
        return await self.reference.GetAgency(request, context)  # type: ignore[no-any-return]

    # Sub-activities and their monthly plans.

    async def CreateSubActivity(
        self, request: pb.CreateSubActivityRequest, context: grpc.aio.ServicerContext
    ) -> pb.CreateSubActivityResponse:
        cmd = handlers.CreateSubActivity(
            government_code=request.government_code.strip(),
            agency_code=request.agency_code,
            fiscal_year=request.fiscal_year,
            code=request.code,
            name=request.name,
            budget=request.budget.rupiah,
            locations=[
                handlers.LocationInput(
                    government_code=loc.government_code,
                    village_code=loc.village_code,
                    latitude=loc.latitude,
                    longitude=loc.longitude,
                )
                for loc in request.locations
            ],
            funding_sources=list(request.funding_sources),
            tags=list(request.tags),
        )
        created = await self.db.run(handlers.create_sub_activity, cmd, uow=self.uow(), actor=current_identity())
        return pb.CreateSubActivityResponse(sub_activity=sub_activity_to_pb(created))

    async def GetSubActivity(
        self, request: pb.GetSubActivityRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetSubActivityResponse:
        found = await self.db.run(handlers.get_sub_activity, request.id, uow=self.uow(), actor=current_identity())
        return pb.GetSubActivityResponse(sub_activity=sub_activity_to_pb(found), s_curve=_curve(found))

    async def ListSubActivities(
        self, request: pb.ListSubActivitiesRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListSubActivitiesResponse:
        scope = handlers.PackageScope(request.government_code, request.fiscal_year, request.agency_code)
        items, token = await self.db.run(
            handlers.list_sub_activities, scope, _page(request.page), uow=self.uow(), actor=current_identity()
        )
        return pb.ListSubActivitiesResponse(
            sub_activities=[sub_activity_to_pb(s) for s in items], page=paging_pb2.PageResponse(next_page_token=token)
        )

    async def ListApprovedBudgets(
        self, request: pb.ListApprovedBudgetsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListApprovedBudgetsResponse:
        scope = handlers.PackageScope(request.government_code.strip(), request.fiscal_year, request.agency_code)
        approved, planned = await self.db.run(
            handlers.list_approved_budgets, scope, uow=self.uow(), actor=current_identity()
        )
        return pb.ListApprovedBudgetsResponse(
            approved_budgets=[
                pb.ApprovedBudget(sub_activity_code=code, amount=money_pb2.Money(rupiah=amount))
                for code, amount in sorted(approved.items())
            ],
            planned_codes=sorted(planned),
        )

    async def AddIndicator(
        self, request: pb.AddIndicatorRequest, context: grpc.aio.ServicerContext
    ) -> pb.AddIndicatorResponse:
        i = request.indicator
        cmd = handlers.AddIndicator(
            sub_activity_id=request.sub_activity_id,
            level=enum_from_pb(LEVELS, i.level, "indicator.level"),
            kind=enum_from_pb(KINDS, i.kind, "indicator.kind"),
            name=i.name,
            unit=i.unit,
            target=i.target,
            formula=enum_from_pb(FORMULAS, i.formula, "indicator.formula"),
            expected_version=_version(request.expected_version),
        )
        changed = await self.db.run(handlers.add_indicator, cmd, uow=self.uow(), actor=current_identity())
        return pb.AddIndicatorResponse(sub_activity=sub_activity_to_pb(changed))

    async def SetMonthlyPlan(
        self, request: pb.SetMonthlyPlanRequest, context: grpc.aio.ServicerContext
    ) -> pb.SetMonthlyPlanResponse:
        cmd = handlers.SetMonthlyPlan(
            sub_activity_id=request.sub_activity_id,
            months=[(m.physical_percent, m.disbursement.rupiah) for m in request.months],
            expected_version=_version(request.expected_version),
        )
        changed = await self.db.run(handlers.set_monthly_plan, cmd, uow=self.uow(), actor=current_identity())
        return pb.SetMonthlyPlanResponse(sub_activity=sub_activity_to_pb(changed), s_curve=_curve(changed))

    async def SuggestMonthlyPlan(
        self, request: pb.SuggestMonthlyPlanRequest, context: grpc.aio.ServicerContext
    ) -> pb.SuggestMonthlyPlanResponse:
        shape = enum_from_pb(CURVE_SHAPES, request.shape, "shape")
        plan = await self.db.run(
            handlers.suggest_plan, request.sub_activity_id, shape, uow=self.uow(), actor=current_identity()
        )
        return pb.SuggestMonthlyPlanResponse(months=monthly_plan_to_pb(plan), s_curve=s_curve_to_pb(plan.s_curve()))

    async def MarkSubActivityPlanned(
        self, request: pb.MarkSubActivityPlannedRequest, context: grpc.aio.ServicerContext
    ) -> pb.MarkSubActivityPlannedResponse:
        cmd = handlers.MarkSubActivityPlanned(request.sub_activity_id, _version(request.expected_version))
        changed = await self.db.run(handlers.mark_sub_activity_planned, cmd, uow=self.uow(), actor=current_identity())
        return pb.MarkSubActivityPlannedResponse(sub_activity=sub_activity_to_pb(changed))

    async def ReopenSubActivity(
        self, request: pb.ReopenSubActivityRequest, context: grpc.aio.ServicerContext
    ) -> pb.ReopenSubActivityResponse:
        cmd = handlers.ReopenSubActivity(request.sub_activity_id, request.reason, _version(request.expected_version))
        changed = await self.db.run(handlers.reopen_sub_activity, cmd, uow=self.uow(), actor=current_identity())
        return pb.ReopenSubActivityResponse(sub_activity=sub_activity_to_pb(changed))

    # The procurement plan (RUP).

    async def CreateProcurementPackage(
        self, request: pb.CreateProcurementPackageRequest, context: grpc.aio.ServicerContext
    ) -> pb.CreateProcurementPackageResponse:
        mode = enum_from_pb(MODES, request.mode, "mode")
        method = None
        if request.method != procurement_pb2.SELECTION_METHOD_UNSPECIFIED:
            method = enum_from_pb(METHODS, request.method, "method")
        cmd = handlers.CreateProcurementPackage(
            sub_activity_id=request.sub_activity_id,
            account_code=request.account_code,
            name=request.name,
            procurement_type=enum_from_pb(TYPES, request.procurement_type, "procurement_type"),
            mode=mode,
            method=method,
            value=request.value.rupiah,
            domestic_product=request.domestic_product,
            small_business=request.small_business,
            selection=_range(request, "selection_schedule", required=mode == ProcurementMode.PROVIDER),
            contract=_required_range(request, "contract_schedule"),
            use=_required_range(request, "use_schedule"),
        )
        package = await self.db.run(
            handlers.create_procurement_package,
            cmd,
            uow=self.uow(),
            actor=current_identity(),
            thresholds=self.thresholds,
        )
        return pb.CreateProcurementPackageResponse(package=package_to_pb(package))

    async def ListProcurementPackages(
        self, request: pb.ListProcurementPackagesRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListProcurementPackagesResponse:
        scope = handlers.PackageScope(
            request.government_code, request.fiscal_year, request.agency_code, request.sub_activity_id
        )
        items, token = await self.db.run(
            handlers.list_procurement_packages, scope, _page(request.page), uow=self.uow(), actor=current_identity()
        )
        return pb.ListProcurementPackagesResponse(
            packages=[package_to_pb(p) for p in items], page=paging_pb2.PageResponse(next_page_token=token)
        )

    async def DetectSplitPackages(
        self, request: pb.DetectSplitPackagesRequest, context: grpc.aio.ServicerContext
    ) -> pb.DetectSplitPackagesResponse:
        scope = handlers.PackageScope(request.government_code, request.fiscal_year, request.agency_code)
        findings = await self.db.run(
            handlers.detect_splits, scope, uow=self.uow(), actor=current_identity(), thresholds=self.thresholds
        )
        t = self.thresholds
        return pb.DetectSplitPackagesResponse(
            findings=[finding_to_pb(f) for f in findings],
            goods_threshold=money(t.goods),
            works_threshold=money(t.works),
            consulting_threshold=money(t.consulting),
            other_services_threshold=money(t.other_services),
        )

    async def ExportSirup(
        self, request: pb.ExportSirupRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[pb.ExportSirupResponse]:
        scope = handlers.PackageScope(request.government_code, request.fiscal_year, request.agency_code)
        packages = await self.db.run(handlers.packages_for_export, scope, uow=self.uow(), actor=current_identity())
        chunk: list[str] = []
        size = 0
        for line in sirup_csv_lines(packages):
            chunk.append(line)
            size += len(line)
            if size >= EXPORT_CHUNK_CHARS:
                yield pb.ExportSirupResponse(csv_chunk="".join(chunk))
                chunk, size = [], 0
        if chunk:
            yield pb.ExportSirupResponse(csv_chunk="".join(chunk))

    # Citizens' proposals (usulan, Musrenbang, aspirasi).

    async def SubmitProposal(
        self, request: pb.SubmitProposalRequest, context: grpc.aio.ServicerContext
    ) -> pb.SubmitProposalResponse:
        cmd = proposals.SubmitProposal(
            government_code=request.government_code,
            village_code=request.village_code,
            category=enum_from_pb(CATEGORIES, request.category, "category"),
            title=request.title,
            description=request.description,
            proposer_name=request.proposer_name,
            proposer_contact=request.proposer_contact,
        )
        created = await self.db.run(proposals.submit_proposal, cmd, uow=self.uow())
        return pb.SubmitProposalResponse(proposal=public_proposal_to_pb(created))

    async def GetPublicProposal(
        self, request: pb.GetPublicProposalRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetPublicProposalResponse:
        found = await self.db.run(proposals.get_public_proposal, request.public_id, uow=self.uow())
        return pb.GetPublicProposalResponse(proposal=public_proposal_to_pb(found))

    async def ReviewProposal(
        self, request: pb.ReviewProposalRequest, context: grpc.aio.ServicerContext
    ) -> pb.ReviewProposalResponse:
        cmd = proposals.ReviewProposal(request.public_id, request.note, _version(request.expected_version))
        changed = await self.db.run(proposals.review_proposal, cmd, uow=self.uow(), actor=current_identity())
        return pb.ReviewProposalResponse(proposal=proposal_to_pb(changed))

    async def AcceptProposal(
        self, request: pb.AcceptProposalRequest, context: grpc.aio.ServicerContext
    ) -> pb.AcceptProposalResponse:
        cmd = proposals.AcceptProposal(
            request.public_id, request.sub_activity_id, request.note, _version(request.expected_version)
        )
        changed = await self.db.run(proposals.accept_proposal, cmd, uow=self.uow(), actor=current_identity())
        return pb.AcceptProposalResponse(proposal=proposal_to_pb(changed))

    async def RejectProposal(
        self, request: pb.RejectProposalRequest, context: grpc.aio.ServicerContext
    ) -> pb.RejectProposalResponse:
        cmd = proposals.RejectProposal(request.public_id, request.reason, _version(request.expected_version))
        changed = await self.db.run(proposals.reject_proposal, cmd, uow=self.uow(), actor=current_identity())
        return pb.RejectProposalResponse(proposal=proposal_to_pb(changed))

    async def ListProposals(
        self, request: pb.ListProposalsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListProposalsResponse:
        status = None
        if request.status != proposal_pb2.PROPOSAL_STATUS_UNSPECIFIED:
            status = enum_from_pb(PROPOSAL_STATUSES, request.status, "status")
        items, token = await self.db.run(
            proposals.list_proposals,
            request.government_code,
            status,
            _page(request.page),
            uow=self.uow(),
            actor=current_identity(),
        )
        return pb.ListProposalsResponse(
            proposals=[proposal_to_pb(p) for p in items], page=paging_pb2.PageResponse(next_page_token=token)
        )

    # Planning stages (tahapan) with snapshots and diffs.

    async def GetStageBook(
        self, request: pb.GetStageBookRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetStageBookResponse:
        scope = stages.StageScope(request.government_code.strip(), request.agency_code.strip(), request.fiscal_year)
        book = await self.db.run(stages.get_stage_book, scope, uow=self.uow(), actor=current_identity())
        return pb.GetStageBookResponse(book=stage_book_to_pb(book))

    async def CloseStage(
        self, request: pb.CloseStageRequest, context: grpc.aio.ServicerContext
    ) -> pb.CloseStageResponse:
        scope = stages.StageScope(request.government_code.strip(), request.agency_code.strip(), request.fiscal_year)
        cmd = stages.CloseStage(scope, _version(request.expected_version))
        book = await self.db.run(stages.close_stage, cmd, uow=self.uow(), actor=current_identity())
        return pb.CloseStageResponse(book=stage_book_to_pb(book))

    async def OpenRevisionStage(
        self, request: pb.OpenRevisionStageRequest, context: grpc.aio.ServicerContext
    ) -> pb.OpenRevisionStageResponse:
        scope = stages.StageScope(request.government_code.strip(), request.agency_code.strip(), request.fiscal_year)
        cmd = stages.OpenRevision(scope, request.reason, _version(request.expected_version))
        book = await self.db.run(stages.open_revision, cmd, uow=self.uow(), actor=current_identity())
        return pb.OpenRevisionStageResponse(book=stage_book_to_pb(book))

    async def DiffStages(
        self, request: pb.DiffStagesRequest, context: grpc.aio.ServicerContext
    ) -> pb.DiffStagesResponse:
        scope = stages.StageScope(request.government_code.strip(), request.agency_code.strip(), request.fiscal_year)
        found = await self.db.run(
            stages.diff, scope, request.from_stage, request.to_stage, uow=self.uow(), actor=current_identity()
        )
        out = pb.DiffStagesResponse(items=[stage_diff_to_pb(i) for i in found.items])
        if found.old is not None:
            out.old_stage.CopyFrom(stage_to_pb(found.old))
        if found.new is not None:
            out.new_stage.CopyFrom(stage_to_pb(found.new))
        return out

    # Recurring complaints offered as proposals.

    async def ListRecurringComplaints(
        self, request: pb.ListRecurringComplaintsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListRecurringComplaintsResponse:
        found = await self.db.run(
            recurring.list_recurring,
            request.government_code.strip(),
            request.year,
            threshold=self.recurring_threshold,
            uow=self.uow(),
            actor=current_identity(),
        )
        return pb.ListRecurringComplaintsResponse(
            clusters=[cluster_to_pb(c) for c in found], threshold=self.recurring_threshold
        )

    async def ProposeFromComplaints(
        self, request: pb.ProposeFromComplaintsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ProposeFromComplaintsResponse:
        cmd = recurring.ProposeFromComplaints(
            request.government_code.strip(), request.year, request.village_code.strip(), request.category_code.strip()
        )
        proposal, cluster = await self.db.run(
            recurring.propose_from_complaints,
            cmd,
            threshold=self.recurring_threshold,
            uow=self.uow(),
            actor=current_identity(),
        )
        return pb.ProposeFromComplaintsResponse(proposal=proposal_to_pb(proposal), cluster=cluster_to_pb(cluster))

    # Bulk import of an agency-year.

    async def ImportSubActivities(
        self, request: pb.ImportSubActivitiesRequest, context: grpc.aio.ServicerContext
    ) -> pb.ImportSubActivitiesResponse:
        plans = []
        for i, plan in enumerate(request.plans):
            packages = []
            for j, p in enumerate(plan.packages):
                path = f"plans[{i}].packages[{j}]"
                mode = enum_from_pb(MODES, p.mode, f"{path}.mode")
                method = None
                if p.method != procurement_pb2.SELECTION_METHOD_UNSPECIFIED:
                    method = enum_from_pb(METHODS, p.method, f"{path}.method")
                for name in ("contract_schedule", "use_schedule"):
                    if not p.HasField(name):  # type: ignore[arg-type]
                        raise InvalidArgument.field(f"{path}.{name}", "is required")
                if mode == ProcurementMode.PROVIDER and not p.HasField("selection_schedule"):
                    raise InvalidArgument.field(
                        f"{path}.selection_schedule", "is required for a package through a provider"
                    )
                packages.append(
                    handlers.CreateProcurementPackage(
                        sub_activity_id="",
                        account_code=p.account_code,
                        name=p.name,
                        procurement_type=enum_from_pb(TYPES, p.procurement_type, f"{path}.procurement_type"),
                        mode=mode,
                        method=method,
                        value=p.value.rupiah,
                        domestic_product=p.domestic_product,
                        small_business=p.small_business,
                        selection=month_range_from_pb(p.selection_schedule)
                        if p.HasField("selection_schedule")
                        else None,
                        contract=month_range_from_pb(p.contract_schedule),
                        use=month_range_from_pb(p.use_schedule),
                    )
                )
            plans.append(
                imports.SubActivityPlan(
                    code=plan.code,
                    name=plan.name,
                    budget=plan.budget.rupiah,
                    locations=[
                        handlers.LocationInput(loc.government_code, loc.village_code, loc.latitude, loc.longitude)
                        for loc in plan.locations
                    ],
                    funding_sources=list(plan.funding_sources),
                    tags=list(plan.tags),
                    indicators=[
                        imports.IndicatorInput(
                            level=enum_from_pb(LEVELS, ind.level, f"plans[{i}].indicators[{j}].level"),
                            kind=enum_from_pb(KINDS, ind.kind, f"plans[{i}].indicators[{j}].kind"),
                            name=ind.name,
                            unit=ind.unit,
                            target=ind.target,
                            formula=enum_from_pb(FORMULAS, ind.formula, f"plans[{i}].indicators[{j}].formula"),
                        )
                        for j, ind in enumerate(plan.indicators)
                    ],
                    months=[(m.physical_percent, m.disbursement.rupiah) for m in plan.months],
                    mark_planned=plan.mark_planned,
                    packages=packages,
                )
            )
        cmd = imports.ImportSubActivities(
            request.government_code.strip(), request.agency_code.strip(), request.fiscal_year, plans
        )
        result = await self.db.run(
            imports.import_sub_activities, cmd, uow=self.uow(), actor=current_identity(), thresholds=self.thresholds
        )
        return pb.ImportSubActivitiesResponse(
            sub_activities=result.sub_activities, monthly_rows=result.monthly_rows, packages=result.packages
        )
