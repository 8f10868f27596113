"""The composition root of planning: the one place concrete things are built."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from grms.planning.v1 import planning_service_pb2, planning_service_pb2_grpc
from grms_kit.clock import Clock, SystemClock
from grms_kit.consumer import EventConsumer
from grms_kit.db import Database
from grms_kit.runtime import ServiceRuntime
from grms_kit.settings import load_settings
from grms_reference.replica import ReferenceReplica
from grms_reference.service import reference_servicer

from grms_planning.adapters.tables import messaging, reference
from grms_planning.adapters.unit_of_work import SqlUnitOfWork
from grms_planning.config import Settings
from grms_planning.domain.procurement import DirectProcurementThresholds
from grms_planning.entrypoints.budget_consumer import budget_handlers
from grms_planning.entrypoints.complaints_consumer import complaint_handlers
from grms_planning.entrypoints.grpc_api import PlanningApi

__all__ = [
    "BUDGET_CONSUMER",
    "COMPLAINTS_CONSUMER",
    "MIGRATIONS",
    "REFERENCE_CONSUMER",
    "SERVICE",
    "build",
    "thresholds_of",
    "unit_of_work_factory",
]

SERVICE = "planning"
MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
# The durable JetStream consumer that keeps the reference copy; its name is part of the
# deployed state (and the e2e chaos test reads its inbox rows): never rename it.
REFERENCE_CONSUMER = f"{SERVICE}-budgeting-reference"
# The durable consumer of budgeting's approvals (BudgetPlanApproved): see entrypoints/budget_consumer.py
# for why it is a consumer of its own.
BUDGET_CONSUMER = f"{SERVICE}-budgeting-budget"
# The durable consumer that counts complaints' ComplaintReceived into recurring-complaint clusters.
COMPLAINTS_CONSUMER = f"{SERVICE}-complaints-recurring"


def unit_of_work_factory(db: Database, clock: Clock) -> Callable[[], SqlUnitOfWork]:
    """A factory of planning units of work on `db`."""
    return lambda: SqlUnitOfWork(db, messaging, clock=clock, source=f"grms-{SERVICE}")


def thresholds_of(settings: Settings) -> DirectProcurementThresholds:
    """The direct-procurement ceilings configured for this deployment."""
    return DirectProcurementThresholds(
        goods=settings.direct_limit_goods_rupiah,
        works=settings.direct_limit_works_rupiah,
        consulting=settings.direct_limit_consulting_rupiah,
        other_services=settings.direct_limit_other_services_rupiah,
        near_basis_points=settings.split_near_basis_points,
    )


def build(settings: Settings | None = None, *, clock: Clock | None = None) -> ServiceRuntime:
    """Build the planning service from the environment (or the given settings)."""
    settings = settings or load_settings(Settings)
    clock = clock or SystemClock()
    db = Database(settings.database_url_for(SERVICE))
    replica = ReferenceReplica(db, reference, clock)
    replica_api = reference_servicer(
        planning_service_pb2_grpc.PlanningServiceServicer, planning_service_pb2, db, replica
    )
    api = PlanningApi(
        db,
        unit_of_work_factory(db, clock),
        replica_api,
        thresholds_of(settings),
        recurring_threshold=settings.recurring_complaint_threshold,
    )
    name = planning_service_pb2.DESCRIPTOR.services_by_name["PlanningService"].full_name
    return ServiceRuntime(
        SERVICE,
        settings,
        db,
        messaging,
        clock,
        migrations=MIGRATIONS,
        grpc_services=[(planning_service_pb2_grpc.add_PlanningServiceServicer_to_server, api, name)],
        consumers=[
            EventConsumer(REFERENCE_CONSUMER, db, messaging, replica.handlers, clock),
            EventConsumer(BUDGET_CONSUMER, db, messaging, budget_handlers(), clock),
            EventConsumer(COMPLAINTS_CONSUMER, db, messaging, complaint_handlers(), clock),
        ],
    )
