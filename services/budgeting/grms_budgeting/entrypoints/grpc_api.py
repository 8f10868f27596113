"""The BudgetingService gRPC API: protobuf in, use case on the database thread, protobuf out."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import AsyncIterator, Callable

import grpc
from grms.budgeting.v1 import budgeting_service_pb2 as pb
from grms.budgeting.v1 import budgeting_service_pb2_grpc as pb_grpc
from grms.budgeting.v1 import government_pb2, open_data_pb2
from grms.common.v1 import paging_pb2
from grms_kit.db import Database
from grms_kit.errors import InvalidArgument, NotFound
from grms_kit.identity import current_identity
from grms_kit.paging import Page
from grms_kit.wire import timestamp

from grms_budgeting.adapters.open_data import ApprovedLine, LineKey, SqlOpenData
from grms_budgeting.adapters.wire import (
    LEVELS,
    agency_to_pb,
    allotment_to_pb,
    audit_anchor_to_pb,
    audit_entry_to_pb,
    beneficiary_from_pb,
    budget_plan_to_pb,
    cash_plan_to_pb,
    ceiling_to_pb,
    contact_from_pb,
    government_to_pb,
    head_from_pb,
    line_diff_to_pb,
    line_input_from_pb,
    money,
    payment_kind_from_pb,
    payment_request_to_pb,
    payment_state_from_pb,
    plan_listing_to_pb,
    plan_state_from_pb,
    plan_version_to_pb,
    price_group_from_pb,
    revision_kind_from_pb,
    standard_price_to_pb,
)
from grms_budgeting.adapters.xlsx import read_rka, read_rka_csv, write_rka
from grms_budgeting.domain.budget import BudgetPlan
from grms_budgeting.domain.codes import NomenclatureRow, check_fiscal_year
from grms_budgeting.domain.open_data import combined_head
from grms_budgeting.service_layer import budget, handlers, treasury
from grms_budgeting.service_layer.ports import UnitOfWork

__all__ = ["BudgetingApi"]

_LEVELS_BACK = {v: k for k, v in LEVELS.items()}
MAX_WORKBOOK_BYTES = 8 * 1024 * 1024
EXPORT_CHUNK_BYTES = 16 * 1024
OPEN_DATA_BATCH = 500


def _page(message: paging_pb2.PageRequest) -> Page:
    return Page(size=message.page_size, token=message.page_token)


def _request_id(context: grpc.aio.ServicerContext) -> str:
    """The caller's x-request-id (the gateway sets one), else a fresh one; recorded in the audit chain."""
    for key, value in context.invocation_metadata() or ():
        if key == "x-request-id" and value:
            return str(value)[:100]
    return str(uuid.uuid4())


def _expected(version: int) -> int | None:
    return version or None


class BudgetingApi(pb_grpc.BudgetingServiceServicer):
    """grms.budgeting.v1.BudgetingService."""

    def __init__(self, db: Database, uow: Callable[[], UnitOfWork]) -> None:
        self.db = db
        self.uow = uow
        self.open_data = SqlOpenData(db)

    async def RegisterGovernment(
        self, request: pb.RegisterGovernmentRequest, context: grpc.aio.ServicerContext
    ) -> pb.RegisterGovernmentResponse:
        level = None
        if request.level != government_pb2.GOVERNMENT_LEVEL_UNSPECIFIED:
            level = _LEVELS_BACK.get(request.level)
            if level is None:
                raise InvalidArgument.field("level", "unknown level")
        cmd = handlers.RegisterGovernment(code=request.code, name=request.name, level=level)
        government = await self.db.run(handlers.register_government, cmd, uow=self.uow(), actor=current_identity())
        return pb.RegisterGovernmentResponse(government=government_to_pb(government))

    async def GetGovernment(
        self, request: pb.GetGovernmentRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetGovernmentResponse:
        government = await self.db.run(handlers.get_government, request.code, uow=self.uow())
        return pb.GetGovernmentResponse(government=government_to_pb(government))

    async def ListGovernments(
        self, request: pb.ListGovernmentsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListGovernmentsResponse:
        items, token = await self.db.run(
            handlers.list_governments, request.within_code, _page(request.page), uow=self.uow()
        )
        return pb.ListGovernmentsResponse(
            governments=[government_to_pb(g) for g in items], page=paging_pb2.PageResponse(next_page_token=token)
        )

    async def RegisterAgency(
        self, request: pb.RegisterAgencyRequest, context: grpc.aio.ServicerContext
    ) -> pb.RegisterAgencyResponse:
        cmd = handlers.RegisterAgency(
            government_code=request.government_code,
            code=request.code,
            name=request.name,
            short_name=request.short_name,
            head=head_from_pb(request.head),
            contacts=[contact_from_pb(c, i) for i, c in enumerate(request.contacts)],
        )
        agency = await self.db.run(handlers.register_agency, cmd, uow=self.uow(), actor=current_identity())
        return pb.RegisterAgencyResponse(agency=agency_to_pb(agency))

    async def UpdateAgency(
        self, request: pb.UpdateAgencyRequest, context: grpc.aio.ServicerContext
    ) -> pb.UpdateAgencyResponse:
        source = request.agency
        values: dict[str, object] = {
            "name": source.name,
            "short_name": source.short_name,
            "head": head_from_pb(source.head),
            "contacts": [contact_from_pb(c, i) for i, c in enumerate(source.contacts)],
        }
        paths = list(request.update_mask.paths)
        unknown = [p for p in paths if p not in values]
        if unknown:
            raise InvalidArgument.field("update_mask", f"cannot update {', '.join(unknown)}")
        cmd = handlers.UpdateAgency(
            government_code=source.government_code,
            code=source.code,
            changes={p: values[p] for p in paths},
            expected_version=request.expected_version or None,
        )
        agency = await self.db.run(handlers.update_agency, cmd, uow=self.uow(), actor=current_identity())
        return pb.UpdateAgencyResponse(agency=agency_to_pb(agency))

    async def GetAgency(self, request: pb.GetAgencyRequest, context: grpc.aio.ServicerContext) -> pb.GetAgencyResponse:
        agency = await self.db.run(handlers.get_agency, request.government_code, request.code, uow=self.uow())
        return pb.GetAgencyResponse(agency=agency_to_pb(agency))

    async def ListAgencies(
        self, request: pb.ListAgenciesRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListAgenciesResponse:
        items, token = await self.db.run(
            handlers.list_agencies, request.government_code, _page(request.page), uow=self.uow()
        )
        return pb.ListAgenciesResponse(
            agencies=[agency_to_pb(a) for a in items], page=paging_pb2.PageResponse(next_page_token=token)
        )

    # ---- e-budgeting ---------------------------------------------------------------------

    async def ImportNomenclature(
        self, request: pb.ImportNomenclatureRequest, context: grpc.aio.ServicerContext
    ) -> pb.ImportNomenclatureResponse:
        rows = [NomenclatureRow(c.code, c.name, c.for_province, c.for_regency_city) for c in request.codes]
        codes = await self.db.run(
            budget.import_nomenclature, request.fiscal_year, rows, uow=self.uow(), actor=current_identity()
        )
        return pb.ImportNomenclatureResponse(imported_count=len(codes))

    async def ImportAccountCodes(
        self, request: pb.ImportAccountCodesRequest, context: grpc.aio.ServicerContext
    ) -> pb.ImportAccountCodesResponse:
        rows = [(a.code, a.name) for a in request.accounts]
        codes = await self.db.run(
            budget.import_account_codes, request.fiscal_year, rows, uow=self.uow(), actor=current_identity()
        )
        return pb.ImportAccountCodesResponse(imported_count=len(codes))

    async def CreateStandardPrice(
        self, request: pb.CreateStandardPriceRequest, context: grpc.aio.ServicerContext
    ) -> pb.CreateStandardPriceResponse:
        source = request.standard_price
        cmd = budget.CreateStandardPrice(
            government_code=source.government_code,
            fiscal_year=source.fiscal_year,
            group=price_group_from_pb(source.group),
            code=source.code,
            name=source.name,
            specification=source.specification,
            unit=source.unit,
            price=source.price.rupiah,
            account_codes=list(source.account_codes),
        )
        price = await self.db.run(budget.create_standard_price, cmd, uow=self.uow(), actor=current_identity())
        return pb.CreateStandardPriceResponse(standard_price=standard_price_to_pb(price))

    async def SearchStandardPrices(
        self, request: pb.SearchStandardPricesRequest, context: grpc.aio.ServicerContext
    ) -> pb.SearchStandardPricesResponse:
        items, token = await self.db.run(
            budget.search_standard_prices,
            request.government_code,
            request.fiscal_year,
            request.query,
            request.account_code,
            _page(request.page),
            uow=self.uow(),
        )
        return pb.SearchStandardPricesResponse(
            standard_prices=[standard_price_to_pb(p) for p in items],
            page=paging_pb2.PageResponse(next_page_token=token),
        )

    async def SetCeiling(
        self, request: pb.SetCeilingRequest, context: grpc.aio.ServicerContext
    ) -> pb.SetCeilingResponse:
        cmd = budget.SetCeiling(
            government_code=request.government_code,
            fiscal_year=request.fiscal_year,
            agency_code=request.agency_code,
            sub_activity_code=request.sub_activity_code,
            amount=request.amount.rupiah,
            locked=request.locked,
        )
        ceiling = await self.db.run(budget.set_ceiling, cmd, uow=self.uow(), actor=current_identity())
        return pb.SetCeilingResponse(ceiling=ceiling_to_pb(ceiling))

    async def CreateBudgetPlan(
        self, request: pb.CreateBudgetPlanRequest, context: grpc.aio.ServicerContext
    ) -> pb.CreateBudgetPlanResponse:
        cmd = budget.CreateBudgetPlan(
            government_code=request.government_code,
            agency_code=request.agency_code,
            sub_activity_code=request.sub_activity_code,
            fiscal_year=request.fiscal_year,
        )
        plan = await self.db.run(
            budget.create_budget_plan, cmd, uow=self.uow(), actor=current_identity(), request_id=_request_id(context)
        )
        return pb.CreateBudgetPlanResponse(budget_plan=budget_plan_to_pb(plan))

    async def AddBudgetLine(
        self, request: pb.AddBudgetLineRequest, context: grpc.aio.ServicerContext
    ) -> pb.AddBudgetLineResponse:
        cmd = budget.AddBudgetLine(
            request.plan_id, _expected(request.expected_version), line_input_from_pb(request.line)
        )
        plan = await self.db.run(
            budget.add_budget_line, cmd, uow=self.uow(), actor=current_identity(), request_id=_request_id(context)
        )
        return pb.AddBudgetLineResponse(budget_plan=budget_plan_to_pb(plan))

    async def UpdateBudgetLine(
        self, request: pb.UpdateBudgetLineRequest, context: grpc.aio.ServicerContext
    ) -> pb.UpdateBudgetLineResponse:
        cmd = budget.UpdateBudgetLine(
            request.plan_id, _expected(request.expected_version), request.line_number, line_input_from_pb(request.line)
        )
        plan = await self.db.run(
            budget.update_budget_line, cmd, uow=self.uow(), actor=current_identity(), request_id=_request_id(context)
        )
        return pb.UpdateBudgetLineResponse(budget_plan=budget_plan_to_pb(plan))

    async def RemoveBudgetLine(
        self, request: pb.RemoveBudgetLineRequest, context: grpc.aio.ServicerContext
    ) -> pb.RemoveBudgetLineResponse:
        cmd = budget.RemoveBudgetLine(request.plan_id, _expected(request.expected_version), request.line_number)
        plan = await self.db.run(
            budget.remove_budget_line, cmd, uow=self.uow(), actor=current_identity(), request_id=_request_id(context)
        )
        return pb.RemoveBudgetLineResponse(budget_plan=budget_plan_to_pb(plan))

    async def _transition(
        self, use_case: Callable[..., BudgetPlan], cmd: object, context: grpc.aio.ServicerContext
    ) -> BudgetPlan:
        return await self.db.run(
            use_case, cmd, uow=self.uow(), actor=current_identity(), request_id=_request_id(context)
        )

    async def SubmitBudgetPlan(
        self, request: pb.SubmitBudgetPlanRequest, context: grpc.aio.ServicerContext
    ) -> pb.SubmitBudgetPlanResponse:
        cmd = budget.PlanTransition(request.plan_id, _expected(request.expected_version))
        plan = await self._transition(budget.submit_budget_plan, cmd, context)
        return pb.SubmitBudgetPlanResponse(budget_plan=budget_plan_to_pb(plan))

    async def VerifyBudgetPlan(
        self, request: pb.VerifyBudgetPlanRequest, context: grpc.aio.ServicerContext
    ) -> pb.VerifyBudgetPlanResponse:
        cmd = budget.PlanTransition(request.plan_id, _expected(request.expected_version))
        plan = await self._transition(budget.verify_budget_plan, cmd, context)
        return pb.VerifyBudgetPlanResponse(budget_plan=budget_plan_to_pb(plan))

    async def ReturnBudgetPlan(
        self, request: pb.ReturnBudgetPlanRequest, context: grpc.aio.ServicerContext
    ) -> pb.ReturnBudgetPlanResponse:
        notes: dict[int, str] = {}
        for i, n in enumerate(request.line_notes):
            if n.line_number in notes:
                raise InvalidArgument.field(f"line_notes[{i}].line_number", f"line {n.line_number} is noted twice")
            notes[n.line_number] = n.note
        cmd = budget.ReturnBudgetPlan(request.plan_id, request.note, notes, _expected(request.expected_version))
        plan = await self._transition(budget.return_budget_plan, cmd, context)
        return pb.ReturnBudgetPlanResponse(budget_plan=budget_plan_to_pb(plan))

    async def ApproveBudgetPlan(
        self, request: pb.ApproveBudgetPlanRequest, context: grpc.aio.ServicerContext
    ) -> pb.ApproveBudgetPlanResponse:
        cmd = budget.PlanTransition(request.plan_id, _expected(request.expected_version))
        plan = await self._transition(budget.approve_budget_plan, cmd, context)
        # The approved plan goes back in full: callers keep the DPA they approved.
        return pb.ApproveBudgetPlanResponse(budget_plan=budget_plan_to_pb(plan))

    async def ReviseBudgetPlan(
        self, request: pb.ReviseBudgetPlanRequest, context: grpc.aio.ServicerContext
    ) -> pb.ReviseBudgetPlanResponse:
        cmd = budget.ReviseBudgetPlan(
            request.plan_id, revision_kind_from_pb(request.kind), request.reason, _expected(request.expected_version)
        )
        plan = await self._transition(budget.revise_budget_plan, cmd, context)
        return pb.ReviseBudgetPlanResponse(budget_plan=budget_plan_to_pb(plan))

    async def GetBudgetPlan(
        self, request: pb.GetBudgetPlanRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetBudgetPlanResponse:
        plan, outputs = await self.db.run(
            budget.get_budget_plan_outputs, request.plan_id, uow=self.uow(), actor=current_identity()
        )
        return pb.GetBudgetPlanResponse(budget_plan=budget_plan_to_pb(plan, outputs))

    async def ListBudgetPlans(
        self, request: pb.ListBudgetPlansRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListBudgetPlansResponse:
        items, token = await self.db.run(
            budget.list_budget_plans,
            request.government_code,
            request.agency_code,
            request.fiscal_year,
            plan_state_from_pb(request.state),
            _page(request.page),
            uow=self.uow(),
            actor=current_identity(),
        )
        return pb.ListBudgetPlansResponse(
            budget_plans=[plan_listing_to_pb(p) for p in items], page=paging_pb2.PageResponse(next_page_token=token)
        )

    async def ListBudgetPlanVersions(
        self, request: pb.ListBudgetPlanVersionsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListBudgetPlanVersionsResponse:
        versions = await self.db.run(
            budget.list_budget_plan_versions, request.plan_id, uow=self.uow(), actor=current_identity()
        )
        return pb.ListBudgetPlanVersionsResponse(versions=[plan_version_to_pb(v) for v in versions])

    async def DiffBudgetPlanVersions(
        self, request: pb.DiffBudgetPlanVersionsRequest, context: grpc.aio.ServicerContext
    ) -> pb.DiffBudgetPlanVersionsResponse:
        old, new, lines = await self.db.run(
            budget.diff_budget_plan_versions,
            request.plan_id,
            request.from_version,
            request.to_version,
            uow=self.uow(),
            actor=current_identity(),
        )
        return pb.DiffBudgetPlanVersionsResponse(
            lines=[line_diff_to_pb(d) for d in lines], from_total=money(old.total), to_total=money(new.total)
        )

    async def ListAuditEntries(
        self, request: pb.ListAuditEntriesRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListAuditEntriesResponse:
        entries, token, broken = await self.db.run(
            budget.list_audit_entries, request.plan_id, _page(request.page), uow=self.uow(), actor=current_identity()
        )
        return pb.ListAuditEntriesResponse(
            entries=[audit_entry_to_pb(e) for e in entries],
            page=paging_pb2.PageResponse(next_page_token=token),
            first_broken_seq=broken or 0,
        )

    # ---- e-penatausahaan -----------------------------------------------------------------

    async def SetCashPlan(
        self, request: pb.SetCashPlanRequest, context: grpc.aio.ServicerContext
    ) -> pb.SetCashPlanResponse:
        cmd = treasury.SetCashPlan(request.plan_id, request.line_number, [m.rupiah for m in request.months])
        plans, proposed = await self.db.run(treasury.set_cash_plan, cmd, uow=self.uow(), actor=current_identity())
        return pb.SetCashPlanResponse(cash_plans=[cash_plan_to_pb(c) for c in plans], proposed=proposed)

    async def ListCashPlans(
        self, request: pb.ListCashPlansRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListCashPlansResponse:
        in_force, proposed = await self.db.run(
            treasury.list_cash_plans, request.plan_id, uow=self.uow(), actor=current_identity()
        )
        return pb.ListCashPlansResponse(
            cash_plans=[cash_plan_to_pb(c) for c in in_force],
            proposed_cash_plans=[cash_plan_to_pb(c) for c in proposed],
        )

    async def CreateSpendingAllotment(
        self, request: pb.CreateSpendingAllotmentRequest, context: grpc.aio.ServicerContext
    ) -> pb.CreateSpendingAllotmentResponse:
        cmd = treasury.CreateSpendingAllotment(
            request.plan_id, request.from_month, request.to_month, request.amount.rupiah
        )
        allotment = await self.db.run(treasury.create_spending_allotment, cmd, uow=self.uow(), actor=current_identity())
        return pb.CreateSpendingAllotmentResponse(spending_allotment=allotment_to_pb(allotment))

    async def CreatePaymentRequest(
        self, request: pb.CreatePaymentRequestRequest, context: grpc.aio.ServicerContext
    ) -> pb.CreatePaymentRequestResponse:
        cmd = treasury.CreatePaymentRequest(
            plan_id=request.plan_id,
            line_number=request.line_number,
            allotment_id=request.allotment_id,
            kind=payment_kind_from_pb(request.kind),
            amount=request.amount.rupiah,
            description=request.description,
            beneficiary=beneficiary_from_pb(request.beneficiary, request.HasField("beneficiary")),
            contract_reference=request.contract_reference,
        )
        found = await self.db.run(treasury.create_payment_request, cmd, uow=self.uow(), actor=current_identity())
        return pb.CreatePaymentRequestResponse(payment_request=payment_request_to_pb(found))

    async def RequestContractPayment(
        self, request: pb.RequestContractPaymentRequest, context: grpc.aio.ServicerContext
    ) -> pb.RequestContractPaymentResponse:
        cmd = treasury.RequestContractPayment(
            external_request_id=request.external_request_id,
            plan_id=request.plan_id,
            line_number=request.line_number,
            allotment_id=request.allotment_id,
            amount=request.amount.rupiah,
            description=request.description,
            beneficiary=beneficiary_from_pb(request.beneficiary, request.HasField("beneficiary")),
            contract_reference=request.contract_reference,
        )
        found = await self.db.run(treasury.request_contract_payment, cmd, uow=self.uow(), actor=current_identity())
        return pb.RequestContractPaymentResponse(payment_request=payment_request_to_pb(found))

    async def OrderPayment(
        self, request: pb.OrderPaymentRequest, context: grpc.aio.ServicerContext
    ) -> pb.OrderPaymentResponse:
        cmd = treasury.PaymentStep(request.payment_request_id, _expected(request.expected_version))
        found = await self.db.run(treasury.order_payment, cmd, uow=self.uow(), actor=current_identity())
        return pb.OrderPaymentResponse(payment_request=payment_request_to_pb(found))

    async def DisbursePayment(
        self, request: pb.DisbursePaymentRequest, context: grpc.aio.ServicerContext
    ) -> pb.DisbursePaymentResponse:
        cmd = treasury.PaymentStep(request.payment_request_id, _expected(request.expected_version))
        found = await self.db.run(treasury.disburse_payment, cmd, uow=self.uow(), actor=current_identity())
        return pb.DisbursePaymentResponse(payment_request=payment_request_to_pb(found))

    async def RejectPaymentRequest(
        self, request: pb.RejectPaymentRequestRequest, context: grpc.aio.ServicerContext
    ) -> pb.RejectPaymentRequestResponse:
        cmd = treasury.RejectPaymentRequest(
            request.payment_request_id, request.reason, _expected(request.expected_version)
        )
        found = await self.db.run(treasury.reject_payment_request, cmd, uow=self.uow(), actor=current_identity())
        return pb.RejectPaymentRequestResponse(payment_request=payment_request_to_pb(found))

    async def GetPaymentRequest(
        self, request: pb.GetPaymentRequestRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetPaymentRequestResponse:
        found = await self.db.run(
            treasury.get_payment_request, request.payment_request_id, uow=self.uow(), actor=current_identity()
        )
        return pb.GetPaymentRequestResponse(payment_request=payment_request_to_pb(found))

    async def ListPaymentRequests(
        self, request: pb.ListPaymentRequestsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListPaymentRequestsResponse:
        items, token = await self.db.run(
            treasury.list_payment_requests,
            request.government_code,
            request.agency_code,
            payment_state_from_pb(request.state),
            _page(request.page),
            uow=self.uow(),
            actor=current_identity(),
        )
        return pb.ListPaymentRequestsResponse(
            payment_requests=[payment_request_to_pb(r) for r in items],
            page=paging_pb2.PageResponse(next_page_token=token),
        )

    # ---- RKA workbooks -------------------------------------------------------------------

    async def ImportBudgetLines(
        self, request: pb.ImportBudgetLinesRequest, context: grpc.aio.ServicerContext
    ) -> pb.ImportBudgetLinesResponse:
        # Decision: one bytes field, not a client stream — the kit's interceptor maps identity
        # and errors for unary and server-streaming calls; 8 MiB holds ~50,000 RKA lines.
        if request.workbook and request.csv:
            raise InvalidArgument.field("csv", "send the workbook or the CSV file, not both")
        source, data = ("csv", request.csv) if request.csv else ("workbook", request.workbook)
        if not data:
            raise InvalidArgument.field("workbook", "is empty")
        if len(data) > MAX_WORKBOOK_BYTES:
            raise InvalidArgument.field(source, f"is larger than {MAX_WORKBOOK_BYTES // (1024 * 1024)} MiB")
        rows, letters = await asyncio.to_thread(read_rka_csv if source == "csv" else read_rka, data)
        cmd = budget.ImportBudgetLines(request.plan_id, _expected(request.expected_version), rows, letters)
        plan, count = await self.db.run(
            budget.import_budget_lines, cmd, uow=self.uow(), actor=current_identity(), request_id=_request_id(context)
        )
        return pb.ImportBudgetLinesResponse(budget_plan=budget_plan_to_pb(plan), imported_count=count)

    async def LoadApprovedPlans(
        self, request: pb.LoadApprovedPlansRequest, context: grpc.aio.ServicerContext
    ) -> pb.LoadApprovedPlansResponse:
        cmd = budget.LoadApprovedPlans(
            request.government_code,
            request.fiscal_year,
            [
                budget.ApprovedPlanInput(
                    p.agency_code,
                    p.sub_activity_code,
                    [line_input_from_pb(line) for line in p.lines],
                    [m.rupiah for m in p.cash_plan],
                    [m.rupiah for m in p.disbursed_months],
                )
                for p in request.plans
            ],
        )
        loaded, skipped, lines = await self.db.run(
            budget.load_approved_plans, cmd, uow=self.uow(), actor=current_identity(), request_id=_request_id(context)
        )
        return pb.LoadApprovedPlansResponse(loaded_count=loaded, skipped_count=skipped, line_count=lines)

    async def ExportBudgetPlan(
        self, request: pb.ExportBudgetPlanRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[pb.ExportBudgetPlanResponse]:
        plan = await self.db.run(budget.get_budget_plan, request.plan_id, uow=self.uow(), actor=current_identity())
        data = await asyncio.to_thread(write_rka, plan)
        for offset in range(0, len(data), EXPORT_CHUNK_BYTES):
            yield pb.ExportBudgetPlanResponse(
                total_size=len(data) if offset == 0 else 0, chunk=data[offset : offset + EXPORT_CHUNK_BYTES]
            )

    # ---- open data (public: approved plans and audit heads only) ------------------------

    async def StreamApprovedBudgetLines(
        self, request: pb.StreamApprovedBudgetLinesRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[pb.StreamApprovedBudgetLinesResponse]:
        government, year = _open_scope(request.government_code, request.fiscal_year)
        after: LineKey | None = None
        while True:
            batch = await self.db.run(
                self.open_data.approved_lines, government, year, after=after, limit=OPEN_DATA_BATCH
            )
            if batch or after is None:  # an empty year still answers once, with no lines
                yield pb.StreamApprovedBudgetLinesResponse(lines=[_open_line_to_pb(line) for line in batch])
            if len(batch) < OPEN_DATA_BATCH:
                return
            after = batch[-1].key

    async def GetUnitPriceAnomalies(
        self, request: pb.GetUnitPriceAnomaliesRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetUnitPriceAnomaliesResponse:
        government, year = _open_scope(request.government_code, request.fiscal_year)
        found = await self.db.run(self.open_data.unit_price_anomalies, government, year)
        return pb.GetUnitPriceAnomaliesResponse(
            ceiling_bunching=[
                open_data_pb2.CeilingBunching(
                    agency_code=b.agency_code,
                    agency_name=b.agency_name,
                    priced_lines=b.priced_lines,
                    lines_at_ceiling=b.lines_at_ceiling,
                    line_share_bp=b.line_share_bp,
                    priced_amount=b.priced_amount,
                    amount_at_ceiling=b.amount_at_ceiling,
                    amount_share_bp=b.amount_share_bp,
                )
                for b in found.ceiling_bunching
            ],
            price_spreads=[
                open_data_pb2.PriceSpread(
                    standard_item_code=s.standard_item_code,
                    item_name=s.item_name,
                    unit=s.unit,
                    standard_price=s.standard_price,
                    min_unit_price=s.min_unit_price,
                    max_unit_price=s.max_unit_price,
                    spread=s.spread,
                    spread_bp=s.spread_bp,
                    agencies=[
                        open_data_pb2.AgencyPrice(
                            agency_code=a.agency_code,
                            agency_name=a.agency_name,
                            min_unit_price=a.min_unit_price,
                            max_unit_price=a.max_unit_price,
                            line_count=a.line_count,
                        )
                        for a in s.agencies
                    ],
                )
                for s in found.price_spreads
            ],
            ceiling_threshold_bp=found.threshold_bp,
        )

    async def GetAuditHeads(
        self, request: pb.GetAuditHeadsRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetAuditHeadsResponse:
        government = _government(request.government_code)
        heads = await self.db.run(self.open_data.audit_heads, government)
        return pb.GetAuditHeadsResponse(
            heads=open_data_pb2.AuditHeads(
                government_code=government,
                plans=[
                    open_data_pb2.PlanAuditHead(
                        plan_id=h.plan_id, agency_code=h.agency_code, fiscal_year=h.fiscal_year, seq=h.seq, hash=h.hash
                    )
                    for h in heads
                ],
                combined_hash=combined_head(heads),
                compute_time=timestamp(self.uow().clock.now()),
            )
        )

    async def ListAuditAnchors(
        self, request: pb.ListAuditAnchorsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListAuditAnchorsResponse:
        """Public, like GetAuditHeads: the anchors are published so that anyone can keep them."""
        government = _government(request.government_code)
        page = _page(request.page)
        limit = page.limit()
        before = _day_token(page.token)
        anchors = await self.db.run(self.open_data.audit_anchors, government, before=before, limit=limit + 1)
        if anchors is None:
            raise NotFound(f"government {government} does not exist")
        # The token is the last day returned: the next page is the days before it (keyset, AIP-158).
        items, token = anchors[:limit], anchors[limit - 1].day.isoformat() if len(anchors) > limit else ""
        return pb.ListAuditAnchorsResponse(
            anchors=[audit_anchor_to_pb(a) for a in items], page=paging_pb2.PageResponse(next_page_token=token)
        )


def _day_token(token: str) -> dt.date | None:
    """The day a ListAuditAnchors page token names (None for the first page); INVALID_ARGUMENT otherwise."""
    if not token:
        return None
    try:
        if len(token) != 10:
            raise ValueError(token)
        return dt.date.fromisoformat(token)
    except ValueError:
        raise InvalidArgument.field("page.page_token", "is not a token this service issued") from None


def _government(code: str) -> str:
    code = code.strip()
    if not code or len(code) > 20:
        raise InvalidArgument.field("government_code", "is required (at most 20 characters)")
    return code


def _open_scope(government_code: str, fiscal_year: int) -> tuple[str, int]:
    government = _government(government_code)
    check_fiscal_year(fiscal_year)
    return government, fiscal_year


def _open_line_to_pb(line: ApprovedLine) -> open_data_pb2.OpenBudgetLine:
    return open_data_pb2.OpenBudgetLine(
        agency_code=line.agency_code,
        agency_name=line.agency_name,
        sub_activity_code=line.sub_activity_code,
        line_number=line.line_number,
        account_code=line.account_code,
        account_display_code=line.account_display_code,
        standard_item_code=line.standard_item_code,
        description=line.description,
        volume=line.volume,
        unit=line.unit,
        unit_price=line.unit_price,
        amount=line.amount,
        funding_source=line.funding_source,
        disbursed=line.disbursed,
    )
