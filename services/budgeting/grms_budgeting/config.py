"""Budgeting settings: `GRMS_BUDGETING_*` plus the shared `GRMS_*` variables."""

from __future__ import annotations

from grms_kit.settings import ServiceSettings, service_config
from pydantic import Field

__all__ = ["Settings"]


class Settings(ServiceSettings):
    """GRMS_BUDGETING_DATABASE_URL, GRMS_BUDGETING_GRPC_HOST, GRMS_BUDGETING_GRPC_PORT, …"""

    model_config = service_config("budgeting")

    grpc_port: int = Field(50151, ge=1, le=65535)
