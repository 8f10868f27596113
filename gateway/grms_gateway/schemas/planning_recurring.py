"""JSON shapes of recurring complaints offered to planners as proposals."""

from __future__ import annotations

import datetime as dt

from grms.planning.v1 import proposal_pb2
from pydantic import BaseModel, Field

__all__ = ["ComplaintClusterOut", "ProposeFromComplaintsIn", "RecurringComplaintsOut", "cluster_out"]


class ComplaintClusterOut(BaseModel):
    """Complaints of one category from one village in one year: counts and times only."""

    government_code: str
    year: int
    village_code: str
    category_code: str
    complaint_count: int
    first_received_at: dt.datetime
    last_received_at: dt.datetime
    proposal_category: str
    proposal_public_id: str | None


class RecurringComplaintsOut(BaseModel):
    threshold: int
    clusters: list[ComplaintClusterOut]


class ProposeFromComplaintsIn(BaseModel):
    village_code: str = Field(max_length=20, examples=["33.74.01.1001"])
    category_code: str = Field(max_length=60, examples=["jalan_rusak"])


def cluster_out(c: proposal_pb2.ComplaintCluster) -> ComplaintClusterOut:
    """A cluster as JSON."""
    return ComplaintClusterOut(
        government_code=c.government_code,
        year=c.year,
        village_code=c.village_code,
        category_code=c.category_code,
        complaint_count=c.complaint_count,
        first_received_at=c.first_receive_time.ToDatetime(dt.UTC),
        last_received_at=c.last_receive_time.ToDatetime(dt.UTC),
        proposal_category=proposal_pb2.ProposalCategory.Name(c.proposal_category)
        .removeprefix("PROPOSAL_CATEGORY_")
        .lower(),
        proposal_public_id=c.proposal_public_id or None,
    )
