"""Planning settings: `GRMS_PLANNING_*` plus the shared `GRMS_*` variables."""

from __future__ import annotations

from grms_kit.settings import ServiceSettings, service_config
from pydantic import Field

__all__ = ["Settings"]


class Settings(ServiceSettings):
    """GRMS_PLANNING_DATABASE_URL, GRMS_PLANNING_GRPC_HOST, GRMS_PLANNING_GRPC_PORT, …"""

    model_config = service_config("planning")

    grpc_port: int = Field(50152, ge=1, le=65535)
