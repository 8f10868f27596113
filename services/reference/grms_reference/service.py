"""Building a service whose first use case is the reference-data copy.

planning, delivery, controlling, monev and complaints each serve `ListGovernments`,
`ListAgencies` and `GetAgency` in their own proto package; the messages have the same
shape everywhere, so one servicer implementation serves all five.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import Any

import grpc
from grms.common.v1 import paging_pb2
from grms_kit.clock import Clock, SystemClock
from grms_kit.consumer import EventConsumer
from grms_kit.db import Database
from grms_kit.paging import Page
from grms_kit.runtime import ServiceRuntime
from grms_kit.settings import ServiceSettings
from grms_kit.tables import MessagingTables

from grms_reference.replica import ReferenceReplica
from grms_reference.tables import ReferenceTables

__all__ = ["build_replica_service", "reference_servicer"]


def _page(message: paging_pb2.PageRequest) -> Page:
    return Page(size=message.page_size, token=message.page_token)


def reference_servicer(base: type, pb: ModuleType, db: Database, replica: ReferenceReplica) -> Any:
    """An instance of `base` (the generated XxxServiceServicer) answering from `replica`."""

    class ReferenceApi(base):  # type: ignore[misc, valid-type]
        async def ListGovernments(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
            items, token = await db.run(replica.list_governments, request.within_code, _page(request.page))
            return pb.ListGovernmentsResponse(governments=items, page=paging_pb2.PageResponse(next_page_token=token))

        async def ListAgencies(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
            items, token = await db.run(replica.list_agencies, request.government_code, _page(request.page))
            return pb.ListAgenciesResponse(agencies=items, page=paging_pb2.PageResponse(next_page_token=token))

        async def GetAgency(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
            agency = await db.run(replica.get_agency, request.government_code, request.code)
            return pb.GetAgencyResponse(agency=agency)

    ReferenceApi.__name__ = ReferenceApi.__qualname__ = f"{base.__name__.removesuffix('Servicer')}Api"
    return ReferenceApi()


def build_replica_service(
    name: str,
    settings: ServiceSettings,
    *,
    messaging: MessagingTables,
    reference: ReferenceTables,
    pb: ModuleType,
    pb_grpc: ModuleType,
    migrations: Path,
    clock: Clock | None = None,
) -> ServiceRuntime:
    """The runtime of service `name`: its replica consumer and its gRPC service."""
    clock = clock or SystemClock()
    db = Database(settings.database_url_for(name))
    replica = ReferenceReplica(db, reference, clock)
    service_name = f"{name.capitalize()}Service"
    servicer = reference_servicer(getattr(pb_grpc, f"{service_name}Servicer"), pb, db, replica)
    consumer = EventConsumer(f"{name}-budgeting-reference", db, messaging, replica.handlers, clock)
    return ServiceRuntime(
        name,
        settings,
        db,
        messaging,
        clock,
        migrations=migrations,
        grpc_services=[
            (
                getattr(pb_grpc, f"add_{service_name}Servicer_to_server"),
                servicer,
                pb.DESCRIPTOR.services_by_name[service_name].full_name,
            )
        ],
        consumers=[consumer],
    )
