"""The composition root of complaints: the one place concrete things are built."""

from __future__ import annotations

from pathlib import Path

from grms.complaints.v1 import complaints_service_pb2, complaints_service_pb2_grpc
from grms_kit.clock import Clock
from grms_kit.runtime import ServiceRuntime
from grms_kit.settings import load_settings
from grms_reference.service import build_replica_service

from grms_complaints.adapters.tables import messaging, reference
from grms_complaints.config import Settings

__all__ = ["MIGRATIONS", "SERVICE", "build"]

SERVICE = "complaints"
MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def build(settings: Settings | None = None, *, clock: Clock | None = None) -> ServiceRuntime:
    """Build the complaints service from the environment (or the given settings)."""
    return build_replica_service(
        SERVICE,
        settings or load_settings(Settings),
        messaging=messaging,
        reference=reference,
        pb=complaints_service_pb2,
        pb_grpc=complaints_service_pb2_grpc,
        migrations=MIGRATIONS,
        clock=clock,
    )
