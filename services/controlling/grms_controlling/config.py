"""Controlling settings: `GRMS_CONTROLLING_*` plus the shared `GRMS_*` variables."""

from __future__ import annotations

from grms_kit.settings import ServiceSettings, service_config
from pydantic import Field

__all__ = ["Settings"]


class Settings(ServiceSettings):
    """GRMS_CONTROLLING_DATABASE_URL, GRMS_CONTROLLING_GRPC_HOST, GRMS_CONTROLLING_GRPC_PORT, …"""

    model_config = service_config("controlling")

    grpc_port: int = Field(50154, ge=1, le=65535)
