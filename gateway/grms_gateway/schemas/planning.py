"""JSON shapes of planning's routes: citizens' proposals and sub-activities with their S-curve."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from grms.planning.v1 import proposal_pb2, sub_activity_pb2
from pydantic import BaseModel, Field

__all__ = [
    "CATEGORY_VALUES",
    "AcceptIn",
    "ProposalChangeOut",
    "ProposalIn",
    "PublicProposalOut",
    "RejectIn",
    "SCurvePointOut",
    "StaffProposalOut",
    "SubActivityDetail",
    "SubActivityList",
    "SubActivityOut",
    "public_proposal_out",
    "staff_proposal_out",
    "sub_activity_out",
]

Category = Literal["infrastructure", "health", "education", "economy", "social", "environment", "governance", "other"]
CATEGORY_VALUES: dict[str, int] = {
    name: proposal_pb2.ProposalCategory.Value(f"PROPOSAL_CATEGORY_{name.upper()}")
    for name in Category.__args__  # type: ignore[attr-defined]
}


def _status(value: int) -> str:
    return proposal_pb2.ProposalStatus.Name(value).removeprefix("PROPOSAL_STATUS_").lower()


class ProposalIn(BaseModel):
    """A citizen's proposal (usulan); the proposer's name and contact are never shown publicly."""

    government_code: str = Field(pattern=r"^\d{2}(\.\d{2})?$", examples=["33.74"])
    village_code: str = Field("", max_length=20, examples=["33.74.01.1001"])
    category: Category
    title: str = Field(max_length=200)
    description: str = Field(max_length=5000)
    proposer_name: str = Field(max_length=100)
    proposer_contact: str = Field("", max_length=200)


class AcceptIn(BaseModel):
    sub_activity_id: str = Field(min_length=1, max_length=36)
    note: str = Field("", max_length=1000)


class RejectIn(BaseModel):
    reason: str = Field(max_length=1000)


class ProposalChangeOut(BaseModel):
    status: str
    time: dt.datetime
    note: str
    sub_activity_id: str


class PublicProposalOut(BaseModel):
    public_id: str
    government_code: str
    village_code: str
    category: str
    title: str
    description: str
    status: str
    sub_activity_id: str
    history: list[ProposalChangeOut]


class StaffProposalOut(PublicProposalOut):
    proposer_name: str
    proposer_contact: str
    version: int


def public_proposal_out(p: proposal_pb2.PublicProposal) -> PublicProposalOut:
    return PublicProposalOut(
        public_id=p.public_id,
        government_code=p.government_code,
        village_code=p.village_code,
        category=proposal_pb2.ProposalCategory.Name(p.category).removeprefix("PROPOSAL_CATEGORY_").lower(),
        title=p.title,
        description=p.description,
        status=_status(p.status),
        sub_activity_id=p.sub_activity_id,
        history=[
            ProposalChangeOut(
                status=_status(c.status), time=c.time.ToDatetime(dt.UTC), note=c.note, sub_activity_id=c.sub_activity_id
            )
            for c in p.history
        ],
    )


def staff_proposal_out(p: proposal_pb2.Proposal) -> StaffProposalOut:
    return StaffProposalOut(
        **public_proposal_out(p.proposal).model_dump(),
        proposer_name=p.proposer_name,
        proposer_contact=p.proposer_contact,
        version=p.version,
    )


class IndicatorOut(BaseModel):
    level: str
    kind: str
    code: str
    name: str
    unit: str
    target: str


class SCurvePointOut(BaseModel):
    month: int
    physical_percent: str
    cumulative_disbursement: int
    financial_percent: str


class SubActivityOut(BaseModel):
    id: str
    government_code: str
    agency_code: str
    fiscal_year: int
    code: str
    name: str
    status: str
    budget: int
    approved_budget: int | None
    packaged: int
    version: int
    indicators: list[IndicatorOut]


class SubActivityDetail(SubActivityOut):
    s_curve: list[SCurvePointOut]


class SubActivityList(BaseModel):
    sub_activities: list[SubActivityOut]
    next_page_token: str


def _lower(name: str, prefix: str) -> str:
    return name.removeprefix(prefix).lower()


def sub_activity_out(s: sub_activity_pb2.SubActivity) -> SubActivityOut:
    return SubActivityOut(
        id=s.id,
        government_code=s.government_code,
        agency_code=s.agency_code,
        fiscal_year=s.fiscal_year,
        code=s.code,
        name=s.name,
        status=_lower(sub_activity_pb2.SubActivityStatus.Name(s.status), "SUB_ACTIVITY_STATUS_"),
        budget=s.budget.rupiah,
        approved_budget=s.approved_budget.rupiah if s.HasField("approved_budget") else None,
        packaged=s.packaged.rupiah,
        version=s.version,
        indicators=[
            IndicatorOut(
                level=_lower(sub_activity_pb2.IndicatorLevel.Name(i.level), "INDICATOR_LEVEL_"),
                kind=_lower(sub_activity_pb2.IndicatorKind.Name(i.kind), "INDICATOR_KIND_"),
                code=i.code,
                name=i.name,
                unit=i.unit,
                target=i.target,
            )
            for i in s.indicators
        ],
    )
