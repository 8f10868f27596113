"""Integration events: protobuf messages wrapped with their CloudEvents attributes.

The subject and stream of an event are derived from its protobuf full name, so nothing is
typed twice: `grms.budgeting.v1.AgencyRegistered` travels on subject
`grms.budgeting.agency_registered.v1` in stream `GRMS_BUDGETING`.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import dataclass, field

from google.protobuf.message import Message

__all__ = [
    "Envelope",
    "Header",
    "service_of",
    "stream_for",
    "stream_subjects",
    "subject_for",
]

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


class Header:
    """Message headers: the CloudEvents NATS binding (binary mode) plus GRMS's own."""

    SPECVERSION = "ce-specversion"
    ID = "ce-id"
    TYPE = "ce-type"
    SOURCE = "ce-source"
    TIME = "ce-time"
    DATACONTENTTYPE = "ce-datacontenttype"
    MSG_ID = "Nats-Msg-Id"
    GOVERNMENT = "grms-government"


def _split_full_name(full_name: str) -> tuple[str, str, str]:
    parts = full_name.split(".")
    if len(parts) != 4 or parts[0] != "grms" or not re.fullmatch(r"v\d+", parts[2]):
        raise ValueError(f"event {full_name!r} is not named grms.<service>.v<N>.<Event>")
    return parts[1], parts[2], parts[3]


def service_of(full_name: str) -> str:
    """The service that publishes the event type `full_name`."""
    return _split_full_name(full_name)[0]


def subject_for(full_name: str) -> str:
    """`grms.<service>.<event_snake>.<version>` for the protobuf full name of an event."""
    service, version, name = _split_full_name(full_name)
    return f"grms.{service}.{_CAMEL.sub('_', name).lower()}.{version}"


def stream_for(service: str) -> str:
    """The JetStream stream a service publishes into: `GRMS_<SERVICE>`."""
    return f"GRMS_{service.upper()}"


def stream_subjects(service: str) -> list[str]:
    """The subjects of a service's stream."""
    return [f"grms.{service}.>"]


@dataclass(frozen=True)
class Envelope:
    """One event ready for the outbox: the payload plus everything its headers need."""

    event_id: str
    type: str
    subject: str
    source: str
    time: dt.datetime
    government: str
    payload: bytes
    trace_headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def wrap(
        cls,
        message: Message,
        *,
        source: str,
        government: str,
        time: dt.datetime,
        event_id: str | None = None,
        trace_headers: dict[str, str] | None = None,
    ) -> Envelope:
        """Wrap a protobuf event `message` raised by `source` for tenant `government`."""
        full_name = message.DESCRIPTOR.full_name
        return cls(
            event_id=event_id or str(uuid.uuid4()),
            type=full_name,
            subject=subject_for(full_name),
            source=source,
            time=time.astimezone(dt.UTC),
            government=government,
            payload=message.SerializeToString(deterministic=True),
            trace_headers=dict(trace_headers or {}),
        )

    def headers(self) -> dict[str, str]:
        """The NATS headers: CloudEvents attributes, de-duplication id, tenant, trace."""
        return {
            Header.SPECVERSION: "1.0",
            Header.ID: self.event_id,
            Header.TYPE: self.type,
            Header.SOURCE: self.source,
            Header.TIME: self.time.isoformat().replace("+00:00", "Z"),
            Header.DATACONTENTTYPE: "application/protobuf",
            Header.MSG_ID: self.event_id,
            Header.GOVERNMENT: self.government,
            **self.trace_headers,
        }
