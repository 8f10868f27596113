"""The composition root of delivery: the one place concrete things are built."""

from __future__ import annotations

from pathlib import Path

from grms.delivery.v1 import delivery_service_pb2, delivery_service_pb2_grpc
from grms_kit.clock import Clock
from grms_kit.runtime import ServiceRuntime
from grms_kit.settings import load_settings
from grms_reference.service import build_replica_service

from grms_delivery.adapters.tables import messaging, reference
from grms_delivery.config import Settings

__all__ = ["MIGRATIONS", "SERVICE", "build"]

SERVICE = "delivery"
MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def build(settings: Settings | None = None, *, clock: Clock | None = None) -> ServiceRuntime:
    """Build the delivery service from the environment (or the given settings)."""
    return build_replica_service(
        SERVICE,
        settings or load_settings(Settings),
        messaging=messaging,
        reference=reference,
        pb=delivery_service_pb2,
        pb_grpc=delivery_service_pb2_grpc,
        migrations=MIGRATIONS,
        clock=clock,
    )
