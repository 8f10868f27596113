"""Event naming and the CloudEvents headers of an envelope."""

from __future__ import annotations

import datetime as dt

import pytest
from grms.budgeting.v1 import agency_pb2, events_pb2
from grms_kit.events import Envelope, Header, service_of, stream_for, stream_subjects, subject_for
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider


@pytest.mark.parametrize(
    ("full_name", "subject"),
    [
        ("grms.budgeting.v1.AgencyRegistered", "grms.budgeting.agency_registered.v1"),
        ("grms.complaints.v1.ComplaintReceived", "grms.complaints.complaint_received.v1"),
        ("grms.budgeting.v2.GovernmentRegistered", "grms.budgeting.government_registered.v2"),
        ("grms.delivery.v1.SPMApproved", "grms.delivery.spm_approved.v1"),
    ],
)
def test_subject_is_derived_from_the_full_name(full_name: str, subject: str) -> None:
    assert subject_for(full_name) == subject


def test_stream_per_service() -> None:
    assert stream_for("budgeting") == "GRMS_BUDGETING"
    assert stream_subjects("budgeting") == ["grms.budgeting.>"]
    assert service_of("grms.budgeting.v1.AgencyRegistered") == "budgeting"


@pytest.mark.parametrize(
    "bad",
    [
        "AgencyRegistered",
        "grms.budgeting.AgencyRegistered",
        "other.budgeting.v1.X",
        "grms.budgeting.version1.X",
        "grms.budgeting.v1.sub.X",
        "",
    ],
)
def test_bad_names_raise(bad: str) -> None:
    with pytest.raises(ValueError, match=r"grms\.<service>\.v<N>\.<Event>"):
        subject_for(bad)


def _event() -> events_pb2.AgencyRegistered:
    return events_pb2.AgencyRegistered(agency=agency_pb2.Agency(government_code="33", code="1.02", name="Dinkes"))


def test_envelope_headers_follow_cloudevents() -> None:
    when = dt.datetime(2025, 1, 6, 8, 0, tzinfo=dt.timezone(dt.timedelta(hours=7)))
    env = Envelope.wrap(_event(), source="budgeting", government="33", time=when)
    h = env.headers()
    assert h[Header.SPECVERSION] == "1.0"
    assert h[Header.TYPE] == "grms.budgeting.v1.AgencyRegistered"
    assert h[Header.SOURCE] == "budgeting"
    assert h[Header.TIME] == "2025-01-06T01:00:00Z"  # UTC on the wire
    assert h[Header.ID] == env.event_id and len(env.event_id) == 36
    assert h[Header.MSG_ID] == h[Header.ID]
    assert h[Header.GOVERNMENT] == "33"
    assert "traceparent" not in h
    assert env.subject == "grms.budgeting.agency_registered.v1"
    assert events_pb2.AgencyRegistered.FromString(env.payload) == _event()


def test_each_envelope_gets_its_own_id() -> None:
    now = dt.datetime.now(dt.UTC)
    a = Envelope.wrap(_event(), source="budgeting", government="33", time=now)
    b = Envelope.wrap(_event(), source="budgeting", government="33", time=now)
    assert a.event_id != b.event_id
    c = Envelope.wrap(_event(), source="budgeting", government="33", time=now, event_id="fixed")
    assert c.headers()[Header.MSG_ID] == "fixed"


def test_traceparent_when_a_span_is_active() -> None:
    from grms_kit.telemetry import inject_headers

    tracer = TracerProvider().get_tracer("test")
    with tracer.start_as_current_span("op") as span:
        trace_headers = inject_headers({})
        env = Envelope.wrap(
            _event(), source="budgeting", government="33", time=dt.datetime.now(dt.UTC), trace_headers=trace_headers
        )
    h = env.headers()
    trace_id = format(span.get_span_context().trace_id, "032x")
    assert h["traceparent"].startswith(f"00-{trace_id}-")
    assert trace.get_current_span() is trace.INVALID_SPAN or not trace.get_current_span().is_recording()
