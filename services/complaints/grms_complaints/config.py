"""Complaints settings: `GRMS_COMPLAINTS_*` plus the shared `GRMS_*` variables."""

from __future__ import annotations

import datetime as dt

from grms_kit.settings import ServiceSettings, service_config
from pydantic import BaseModel, Field

__all__ = ["CUTI_BERSAMA_2025", "Settings", "SlaCategory"]

# Cuti bersama 2025 (SKB 3 Menteri on national holidays and collective leave for 2025):
# collective leave days are not public holidays, so the `holidays` package does not list them.
CUTI_BERSAMA_2025 = (
    dt.date(2025, 1, 28),
    dt.date(2025, 3, 28),
    dt.date(2025, 4, 2),
    dt.date(2025, 4, 3),
    dt.date(2025, 4, 4),
    dt.date(2025, 4, 7),
    dt.date(2025, 5, 13),
    dt.date(2025, 5, 30),
    dt.date(2025, 6, 9),
    dt.date(2025, 12, 26),
)


class SlaCategory(BaseModel):
    """The SLA of one complaint category, overriding the defaults of DOMAIN §7.2."""

    first_response_hours: int = Field(24, ge=1, le=24 * 30)
    verification_days: int = Field(3, ge=1, le=60)
    follow_up_days: int = Field(5, ge=1, le=60)
    resolution_days: int = Field(14, ge=1, le=365)
    field_check_resolution_days: int = Field(60, ge=1, le=365)
    requires_field_check: bool = False


class Settings(ServiceSettings):
    """GRMS_COMPLAINTS_DATABASE_URL, GRMS_COMPLAINTS_GRPC_HOST, GRMS_COMPLAINTS_GRPC_PORT, …

    GRMS_COMPLAINTS_CUTI_BERSAMA is a JSON list of dates; GRMS_COMPLAINTS_SLA_CATEGORIES a
    JSON object of category code → SlaCategory.
    """

    model_config = service_config("complaints")

    grpc_port: int = Field(50156, ge=1, le=65535)
    sla_scan_interval: float = Field(30.0, gt=0, le=3600)
    sla_scan_batch: int = Field(200, ge=1, le=5000)
    cuti_bersama: list[dt.date] = Field(default_factory=lambda: list(CUTI_BERSAMA_2025))
    sla_categories: dict[str, SlaCategory] = Field(default_factory=dict)
