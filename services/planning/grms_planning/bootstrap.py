"""The composition root of planning: the one place concrete things are built."""

from __future__ import annotations

from pathlib import Path

from grms.planning.v1 import planning_service_pb2, planning_service_pb2_grpc
from grms_kit.clock import Clock
from grms_kit.runtime import ServiceRuntime
from grms_kit.settings import load_settings
from grms_reference.service import build_replica_service

from grms_planning.adapters.tables import messaging, reference
from grms_planning.config import Settings

__all__ = ["MIGRATIONS", "SERVICE", "build"]

SERVICE = "planning"
MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def build(settings: Settings | None = None, *, clock: Clock | None = None) -> ServiceRuntime:
    """Build the planning service from the environment (or the given settings)."""
    return build_replica_service(
        SERVICE,
        settings or load_settings(Settings),
        messaging=messaging,
        reference=reference,
        pb=planning_service_pb2,
        pb_grpc=planning_service_pb2_grpc,
        migrations=MIGRATIONS,
        clock=clock,
    )
