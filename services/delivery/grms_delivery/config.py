"""Delivery settings: `GRMS_DELIVERY_*` plus the shared `GRMS_*` variables."""

from __future__ import annotations

from grms_kit.settings import ServiceSettings, service_config
from pydantic import Field

__all__ = ["Settings"]


class Settings(ServiceSettings):
    """GRMS_DELIVERY_DATABASE_URL, GRMS_DELIVERY_GRPC_HOST, GRMS_DELIVERY_GRPC_PORT, …"""

    model_config = service_config("delivery")

    grpc_port: int = Field(50153, ge=1, le=65535)
