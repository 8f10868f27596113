"""OpenTelemetry set-up and the W3C trace context carried in NATS headers.

Traces are exported over OTLP only when `OTEL_EXPORTER_OTLP_ENDPOINT` is set; otherwise
spans are still created and propagated (so trace ids reach the logs and the events) but
go nowhere.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from opentelemetry import context, propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

__all__ = ["extract_context", "inject_headers", "setup_telemetry", "tracer"]

_configured = False


def setup_telemetry(service_name: str) -> None:
    """Install the tracer provider for `service_name` (e.g. "grms-budgeting"); idempotent."""
    global _configured
    if _configured:
        return
    provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
    if os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    _configured = True


def tracer(name: str) -> trace.Tracer:
    """A tracer for instrumentation scope `name`."""
    return trace.get_tracer(name)


def inject_headers(headers: dict[str, str]) -> dict[str, str]:
    """Add `traceparent` (and `tracestate`) of the current span to `headers`; return them."""
    propagate.inject(headers)
    return headers


def extract_context(headers: Mapping[str, str] | None) -> context.Context:
    """The trace context carried in message `headers` (empty context when none)."""
    return propagate.extract(dict(headers or {}))
