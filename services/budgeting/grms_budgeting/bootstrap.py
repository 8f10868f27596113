"""The composition root of budgeting: the one place concrete things are built."""

from __future__ import annotations

from pathlib import Path

from grms.budgeting.v1 import budgeting_service_pb2, budgeting_service_pb2_grpc
from grms_kit.clock import Clock, SystemClock
from grms_kit.consumer import EventConsumer
from grms_kit.db import Database
from grms_kit.runtime import ServiceRuntime
from grms_kit.settings import load_settings

from grms_budgeting.adapters.tables import messaging
from grms_budgeting.adapters.unit_of_work import SqlUnitOfWork
from grms_budgeting.config import Settings
from grms_budgeting.entrypoints.anchor_scheduler import AnchorScheduler
from grms_budgeting.entrypoints.grpc_api import BudgetingApi
from grms_budgeting.entrypoints.planning_consumer import planning_handlers

__all__ = ["INDICATOR_CONSUMER", "MIGRATIONS", "SERVICE", "build", "unit_of_work_factory"]

SERVICE = "budgeting"
# The durable consumer of planning's SubActivityPlanned (the output-indicator rule); its name is
# part of the deployed state: never rename it.
INDICATOR_CONSUMER = f"{SERVICE}-planning-indicators"
MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def unit_of_work_factory(db: Database, clock: Clock):  # type: ignore[no-untyped-def]
    """A factory of budgeting units of work on `db`."""
    return lambda: SqlUnitOfWork(db, messaging, clock=clock, source=f"grms-{SERVICE}")


def build(settings: Settings | None = None, *, clock: Clock | None = None) -> ServiceRuntime:
    """Build the budgeting service from the environment (or the given settings)."""
    settings = settings or load_settings(Settings)
    clock = clock or SystemClock()
    db = Database(settings.database_url_for(SERVICE))
    uow = unit_of_work_factory(db, clock)
    api = BudgetingApi(db, uow)
    name = budgeting_service_pb2.DESCRIPTOR.services_by_name["BudgetingService"].full_name
    return ServiceRuntime(
        SERVICE,
        settings,
        db,
        messaging,
        clock,
        migrations=MIGRATIONS,
        grpc_services=[(budgeting_service_pb2_grpc.add_BudgetingServiceServicer_to_server, api, name)],
        consumers=[EventConsumer(INDICATOR_CONSUMER, db, messaging, planning_handlers(), clock)],
        background=[AnchorScheduler(db, uow, clock).run],
    )
