"""The composition root of monev: the one place concrete things are built."""

from __future__ import annotations

from pathlib import Path

from grms.monev.v1 import monev_service_pb2, monev_service_pb2_grpc
from grms_kit.clock import Clock
from grms_kit.runtime import ServiceRuntime
from grms_kit.settings import load_settings
from grms_reference.service import build_replica_service

from grms_monev.adapters.tables import messaging, reference
from grms_monev.config import Settings

__all__ = ["MIGRATIONS", "SERVICE", "build"]

SERVICE = "monev"
MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def build(settings: Settings | None = None, *, clock: Clock | None = None) -> ServiceRuntime:
    """Build the monev service from the environment (or the given settings)."""
    return build_replica_service(
        SERVICE,
        settings or load_settings(Settings),
        messaging=messaging,
        reference=reference,
        pb=monev_service_pb2,
        pb_grpc=monev_service_pb2_grpc,
        migrations=MIGRATIONS,
        clock=clock,
    )
