"""Complaints settings: `GRMS_COMPLAINTS_*` plus the shared `GRMS_*` variables."""

from __future__ import annotations

from grms_kit.settings import ServiceSettings, service_config
from pydantic import Field

__all__ = ["Settings"]


class Settings(ServiceSettings):
    """GRMS_COMPLAINTS_DATABASE_URL, GRMS_COMPLAINTS_GRPC_HOST, GRMS_COMPLAINTS_GRPC_PORT, …"""

    model_config = service_config("complaints")

    grpc_port: int = Field(50156, ge=1, le=65535)
