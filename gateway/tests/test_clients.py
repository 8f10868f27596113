"""The gRPC side of the gateway: retry policy, deadlines, forwarded identity and trace edges."""

from __future__ import annotations

import json
from typing import Any

import httpx
from grms_gateway.clients import CallContext, retry_service_config
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter


def test_retry_policy_covers_only_idempotent_reads_on_unavailable() -> None:
    config = json.loads(retry_service_config("budgeting"))
    (method_config,) = config["methodConfig"]
    methods = {n["method"] for n in method_config["name"]}
    assert methods == {"GetGovernment", "ListGovernments", "GetAgency", "ListAgencies"}
    assert {n["service"] for n in method_config["name"]} == {"grms.budgeting.v1.BudgetingService"}
    assert method_config["retryPolicy"]["maxAttempts"] == 4
    assert method_config["retryPolicy"]["retryableStatusCodes"] == ["UNAVAILABLE"]
    planning = json.loads(retry_service_config("planning"))["methodConfig"][0]["name"]
    assert {n["service"] for n in planning} == {"grms.planning.v1.PlanningService"}


def test_call_context_sends_a_bearer_token_only_when_there_is_one() -> None:
    assert CallContext.start(token=None, budget=1).metadata() == ()
    assert CallContext.start(token="abc", budget=1).metadata() == (("authorization", "Bearer abc"),)
    assert 0 < CallContext.start(token=None, budget=0.5).remaining() <= 0.5


async def test_a_slow_service_is_a_504_within_the_deadline(
    client: httpx.AsyncClient, suite: Any, settings: Any
) -> None:
    settings.grpc_deadline = 0.3
    suite.budgeting.delay = 2.0
    response = await client.get("/api/v1/governments/33", headers={"Accept-Language": "en"})
    assert response.status_code == 504
    assert response.json()["service"] == "budgeting"
    assert response.elapsed.total_seconds() < 1.5


async def test_trace_flows_from_http_through_grpc_to_the_service(client: httpx.AsyncClient) -> None:
    provider = trace.get_tracer_provider()
    assert isinstance(provider, TracerProvider), "setup_telemetry installs the SDK provider"
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    try:
        response = await client.get("/api/v1/governments/33.01")
        assert response.status_code == 200
    finally:
        exporter.shutdown()
    spans = exporter.get_finished_spans()
    client_span = next(s for s in spans if s.kind == trace.SpanKind.CLIENT and "GetGovernment" in s.name)
    server_span = next(s for s in spans if s.kind == trace.SpanKind.SERVER and "GetGovernment" in s.name)
    http_span = next(s for s in spans if s.kind == trace.SpanKind.SERVER and "/api/v1/governments/{code}" in s.name)
    assert client_span.context.trace_id == server_span.context.trace_id == http_span.context.trace_id
    assert server_span.parent is not None and server_span.parent.span_id == client_span.context.span_id
