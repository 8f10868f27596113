"""Monev settings: `GRMS_MONEV_*` plus the shared `GRMS_*` variables."""

from __future__ import annotations

from grms_kit.settings import ServiceSettings, service_config
from pydantic import Field

__all__ = ["Settings"]


class Settings(ServiceSettings):
    """GRMS_MONEV_DATABASE_URL, GRMS_MONEV_GRPC_HOST, GRMS_MONEV_GRPC_PORT, …"""

    model_config = service_config("monev")

    grpc_port: int = Field(50155, ge=1, le=65535)
