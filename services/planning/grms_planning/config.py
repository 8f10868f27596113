"""Planning settings: `GRMS_PLANNING_*` plus the shared `GRMS_*` variables."""

from __future__ import annotations

from grms_kit.settings import ServiceSettings, service_config
from pydantic import Field

__all__ = ["Settings"]


class Settings(ServiceSettings):
    """GRMS_PLANNING_DATABASE_URL, GRMS_PLANNING_GRPC_HOST, GRMS_PLANNING_GRPC_PORT, …

    The direct-procurement (pengadaan langsung) ceilings the split-package detector and the
    package rules use default to grms_planning.domain.procurement.DEFAULT_THRESHOLDS; a
    government whose regulation differs sets GRMS_PLANNING_DIRECT_LIMIT_*_RUPIAH.
    """

    model_config = service_config("planning")

    grpc_port: int = Field(50152, ge=1, le=65535)
    direct_limit_goods_rupiah: int = Field(200_000_000, gt=0)
    direct_limit_works_rupiah: int = Field(400_000_000, gt=0)
    direct_limit_consulting_rupiah: int = Field(100_000_000, gt=0)
    direct_limit_other_services_rupiah: int = Field(200_000_000, gt=0)
    split_near_basis_points: int = Field(8_000, ge=1, le=10_000)
    # Complaints of one category from one village in one year that make a recurring problem
    # worth offering to planners as a proposal for the next year.
    recurring_complaint_threshold: int = Field(5, ge=2, le=100_000)
