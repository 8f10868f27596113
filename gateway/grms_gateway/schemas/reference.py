"""Schemas of the reference data routes (governments and agencies) and their protobuf mapping.

Inputs are separate models per route with `extra="forbid"`: a client can set only what that
route allows (mass-assignment guard), never `version` or timestamps.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from google.protobuf import timestamp_pb2
from grms.budgeting.v1 import agency_pb2, budgeting_service_pb2, government_pb2
from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "AgencyHeadIn",
    "AgencyHeadOut",
    "AgencyList",
    "AgencyOut",
    "ContactIn",
    "ContactOut",
    "GovernmentList",
    "GovernmentOut",
    "RegisterAgencyIn",
    "ReplicaState",
    "UpdateAgencyIn",
    "agency_out",
    "contacts_to_proto",
    "government_out",
    "head_to_proto",
    "register_request",
    "update_patch",
]

ContactKind = Literal["email", "phone", "whatsapp"]
GovernmentLevel = Literal["province", "regency", "city", "unspecified"]

_KIND_TO_PB: dict[str, int] = {
    "email": agency_pb2.CONTACT_KIND_EMAIL,
    "phone": agency_pb2.CONTACT_KIND_PHONE,
    "whatsapp": agency_pb2.CONTACT_KIND_WHATSAPP,
}
_PB_TO_KIND = {v: k for k, v in _KIND_TO_PB.items()}
_PB_TO_LEVEL: dict[int, GovernmentLevel] = {
    government_pb2.GOVERNMENT_LEVEL_PROVINCE: "province",
    government_pb2.GOVERNMENT_LEVEL_REGENCY: "regency",
    government_pb2.GOVERNMENT_LEVEL_CITY: "city",
}

AgencyCode = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[0-9A-Za-z.\-]+$")]
Name = Annotated[str, Field(min_length=1, max_length=200)]
ShortName = Annotated[str, Field(max_length=60)]


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AgencyHeadIn(_Input):
    """The head of an agency as a client sends it."""

    name: Name
    title: Annotated[str, Field(max_length=200)] = ""
    nip: Annotated[str, Field(pattern=r"^(\d{18})?$", description="NIP, 18 digits, or empty")] = ""


class ContactIn(_Input):
    """One contact channel as a client sends it."""

    kind: ContactKind
    value: Annotated[str, Field(min_length=1, max_length=200)]
    verified: bool = False


class RegisterAgencyIn(_Input):
    """Body of POST /api/v1/governments/{code}/agencies."""

    code: AgencyCode
    name: Name
    short_name: ShortName = ""
    head: AgencyHeadIn | None = None
    contacts: Annotated[list[ContactIn], Field(max_length=20)] = []


class UpdateAgencyIn(_Input):
    """Body of PATCH …/agencies/{agency_code}: a JSON merge patch; only the fields present change."""

    name: Name | None = None
    short_name: ShortName | None = None
    head: AgencyHeadIn | None = None
    contacts: Annotated[list[ContactIn], Field(max_length=20)] | None = None


class AgencyHeadOut(BaseModel):
    """The head of an agency."""

    name: str
    title: str
    nip: str


class ContactOut(BaseModel):
    """One way to reach an agency."""

    kind: ContactKind | Literal["unspecified"]
    value: str
    verified: bool
    verify_time: dt.datetime | None = None


class AgencyOut(BaseModel):
    """An agency (OPD) of a government."""

    government_code: str
    code: str
    name: str
    short_name: str
    head: AgencyHeadOut | None
    contacts: list[ContactOut]
    version: int
    create_time: dt.datetime | None = None
    update_time: dt.datetime | None = None


class AgencyList(BaseModel):
    """One page of agencies."""

    agencies: list[AgencyOut]
    next_page_token: str = ""


class GovernmentOut(BaseModel):
    """A regional government."""

    code: str
    name: str
    level: GovernmentLevel
    parent_code: str
    create_time: dt.datetime | None = None


class GovernmentList(BaseModel):
    """Governments, ordered by code."""

    governments: list[GovernmentOut]


class ReplicaState(BaseModel):
    """One service's copy of an agency: its version (null when the copy is missing) or an error."""

    version: int | None = None
    error: str | None = None


def _time(msg: object, name: str) -> dt.datetime | None:
    if not msg.HasField(name):  # type: ignore[attr-defined]
        return None
    stamp: timestamp_pb2.Timestamp = getattr(msg, name)
    return stamp.ToDatetime(tzinfo=dt.UTC)


def government_out(pb: government_pb2.Government) -> GovernmentOut:
    """The JSON view of a Government message."""
    return GovernmentOut(
        code=pb.code,
        name=pb.name,
        level=_PB_TO_LEVEL.get(pb.level, "unspecified"),
        parent_code=pb.parent_code,
        create_time=_time(pb, "create_time"),
    )


def agency_out(pb: agency_pb2.Agency) -> AgencyOut:
    """The JSON view of an Agency message."""
    head = AgencyHeadOut(name=pb.head.name, title=pb.head.title, nip=pb.head.nip) if pb.HasField("head") else None
    return AgencyOut(
        government_code=pb.government_code,
        code=pb.code,
        name=pb.name,
        short_name=pb.short_name,
        head=head,
        contacts=[
            ContactOut(
                kind=_PB_TO_KIND.get(c.kind, "unspecified"),
                value=c.value,
                verified=c.verified,
                verify_time=_time(c, "verify_time"),
            )
            for c in pb.contacts
        ],
        version=pb.version,
        create_time=_time(pb, "create_time"),
        update_time=_time(pb, "update_time"),
    )


def head_to_proto(head: AgencyHeadIn | None) -> agency_pb2.AgencyHead | None:
    """The AgencyHead message for `head` (None stays None)."""
    return None if head is None else agency_pb2.AgencyHead(name=head.name, title=head.title, nip=head.nip)


def contacts_to_proto(contacts: list[ContactIn] | None) -> list[agency_pb2.ContactChannel]:
    """ContactChannel messages for `contacts`."""
    return [
        agency_pb2.ContactChannel(kind=_KIND_TO_PB[c.kind], value=c.value, verified=c.verified) for c in contacts or []
    ]


def register_request(government: str, body: RegisterAgencyIn) -> budgeting_service_pb2.RegisterAgencyRequest:
    """The RegisterAgency request for a validated body."""
    request = budgeting_service_pb2.RegisterAgencyRequest(
        government_code=government,
        code=body.code,
        name=body.name,
        short_name=body.short_name,
        contacts=contacts_to_proto(body.contacts),
    )
    head = head_to_proto(body.head)
    if head is not None:
        request.head.CopyFrom(head)
    return request


def update_patch(government: str, code: str, body: UpdateAgencyIn) -> tuple[agency_pb2.Agency, list[str]]:
    """The Agency carrying the new values and the field-mask paths, from the fields present in `body`."""
    agency = agency_pb2.Agency(government_code=government, code=code)
    paths: list[str] = []
    for name in ("name", "short_name", "head", "contacts"):
        if name not in body.model_fields_set:
            continue
        paths.append(name)
        if name == "head":
            head = head_to_proto(body.head)
            if head is not None:
                agency.head.CopyFrom(head)
        elif name == "contacts":
            agency.contacts.extend(contacts_to_proto(body.contacts))
        else:
            setattr(agency, name, getattr(body, name) or "")
    return agency, paths
