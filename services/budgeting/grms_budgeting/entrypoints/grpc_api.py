"""The BudgetingService gRPC API: protobuf in, use case on the database thread, protobuf out."""

from __future__ import annotations

from collections.abc import Callable

import grpc
from grms.budgeting.v1 import budgeting_service_pb2 as pb
from grms.budgeting.v1 import budgeting_service_pb2_grpc as pb_grpc
from grms.budgeting.v1 import government_pb2
from grms.common.v1 import paging_pb2
from grms_kit.db import Database
from grms_kit.errors import InvalidArgument
from grms_kit.identity import current_identity
from grms_kit.paging import Page

from grms_budgeting.adapters.wire import LEVELS, agency_to_pb, contact_from_pb, government_to_pb, head_from_pb
from grms_budgeting.service_layer import handlers
from grms_budgeting.service_layer.ports import UnitOfWork

__all__ = ["BudgetingApi"]

_LEVELS_BACK = {v: k for k, v in LEVELS.items()}


def _page(message: paging_pb2.PageRequest) -> Page:
    return Page(size=message.page_size, token=message.page_token)


class BudgetingApi(pb_grpc.BudgetingServiceServicer):
    """grms.budgeting.v1.BudgetingService."""

    def __init__(self, db: Database, uow: Callable[[], UnitOfWork]) -> None:
        self.db = db
        self.uow = uow

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
