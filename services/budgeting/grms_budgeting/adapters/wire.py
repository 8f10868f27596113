"""Budgeting's wire format: domain objects and events as grms.budgeting.v1 protobuf messages."""

from __future__ import annotations

import datetime as dt

from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp
from grms.budgeting.v1 import agency_pb2, events_pb2, government_pb2
from grms_kit.errors import InvalidArgument

from grms_budgeting.domain.model import (
    Agency,
    AgencyHead,
    AgencyRegistered,
    AgencyUpdated,
    ContactChannel,
    ContactKind,
    DomainEvent,
    Government,
    GovernmentLevel,
    GovernmentRegistered,
)

__all__ = [
    "LEVELS",
    "agency_to_pb",
    "contact_from_pb",
    "event_to_message",
    "government_to_pb",
    "head_from_pb",
]

LEVELS = {
    GovernmentLevel.PROVINCE: government_pb2.GOVERNMENT_LEVEL_PROVINCE,
    GovernmentLevel.REGENCY: government_pb2.GOVERNMENT_LEVEL_REGENCY,
    GovernmentLevel.CITY: government_pb2.GOVERNMENT_LEVEL_CITY,
}
KINDS = {
    ContactKind.EMAIL: agency_pb2.CONTACT_KIND_EMAIL,
    ContactKind.PHONE: agency_pb2.CONTACT_KIND_PHONE,
    ContactKind.WHATSAPP: agency_pb2.CONTACT_KIND_WHATSAPP,
}
KINDS_BACK = {v: k for k, v in KINDS.items()}


def _ts(value: dt.datetime | None) -> Timestamp | None:
    if value is None:
        return None
    ts = Timestamp()
    ts.FromDatetime(value.astimezone(dt.UTC))
    return ts


def government_to_pb(government: Government) -> government_pb2.Government:
    """A Government as its protobuf message."""
    return government_pb2.Government(
        code=government.code,
        name=government.name,
        level=LEVELS[government.level],
        parent_code=government.parent_code,
        create_time=_ts(government.created_at),
    )


def agency_to_pb(agency: Agency) -> agency_pb2.Agency:
    """An Agency as its protobuf message."""
    return agency_pb2.Agency(
        government_code=agency.government_code,
        code=agency.code,
        name=agency.name,
        short_name=agency.short_name,
        head=agency_pb2.AgencyHead(name=agency.head.name, title=agency.head.title, nip=agency.head.nip)
        if agency.head
        else None,
        contacts=[
            agency_pb2.ContactChannel(
                kind=KINDS[c.kind], value=c.value, verified=c.verified, verify_time=_ts(c.verified_at)
            )
            for c in agency.contacts
        ],
        version=agency.version,
        create_time=_ts(agency.created_at),
        update_time=_ts(agency.updated_at),
    )


def head_from_pb(message: agency_pb2.AgencyHead) -> AgencyHead | None:
    """An AgencyHead from its message; None when the message is empty."""
    if not (message.name or message.title or message.nip):
        return None
    return AgencyHead(name=message.name, title=message.title, nip=message.nip)


def contact_from_pb(message: agency_pb2.ContactChannel, index: int) -> ContactChannel:
    """A ContactChannel from its message; an unspecified kind is invalid."""
    kind = KINDS_BACK.get(message.kind)
    if kind is None:
        raise InvalidArgument.field(f"contacts[{index}].kind", "must be EMAIL, PHONE or WHATSAPP")
    return ContactChannel(kind=kind, value=message.value, verified=message.verified)


def event_to_message(event: DomainEvent) -> tuple[Message, str]:
    """The integration event for a domain event, with its tenant (government code)."""
    if isinstance(event, GovernmentRegistered):
        return events_pb2.GovernmentRegistered(government=government_to_pb(event.government)), event.government.code
    if isinstance(event, AgencyRegistered):
        return events_pb2.AgencyRegistered(agency=agency_to_pb(event.agency)), event.agency.government_code
    if isinstance(event, AgencyUpdated):
        return (
            events_pb2.AgencyUpdated(agency=agency_to_pb(event.agency), changed_fields=event.changed_fields),
            event.agency.government_code,
        )
    raise TypeError(f"no integration event for {type(event).__name__}")
