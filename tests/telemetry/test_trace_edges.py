"""One trace from the caller through budgeting's RPC and its event to planning's consumer.

The context travels in gRPC metadata, then in the outbox row's `traceparent` header, then in
the NATS message headers, and the consumer's span continues the caller's trace.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import grpc
import pytest
from grms.budgeting.v1 import budgeting_service_pb2 as pb
from grms.budgeting.v1 import budgeting_service_pb2_grpc as pb_grpc
from grms_budgeting import bootstrap as budgeting
from grms_budgeting.config import Settings as BudgetingSettings
from grms_kit.identity import Identity, Role, TokenCodec
from grms_kit.testing import NatsServer, free_port
from grms_planning import bootstrap as planning
from grms_planning.config import Settings as PlanningSettings
from opentelemetry import trace
from opentelemetry.instrumentation.grpc import aio_client_interceptors
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

SECRET = "trace-test-secret-0123456789abcdefghij"


@pytest.fixture(scope="module")
def spans() -> InMemorySpanExporter:
    exporter = InMemorySpanExporter()
    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):
        provider = TracerProvider()
        trace.set_tracer_provider(provider)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return exporter


async def test_the_consumer_span_continues_the_callers_trace(spans: InMemorySpanExporter, tmp_path: Path) -> None:
    nats = NatsServer(tmp_path / "nats").start()
    common = {"nats_url": nats.url, "auth_secret": SECRET, "var_dir": tmp_path}
    producer = budgeting.build(
        BudgetingSettings(database_url=f"sqlite:///{tmp_path / 'b.db'}", grpc_port=free_port(), **common)
    )
    consumer = planning.build(
        PlanningSettings(database_url=f"sqlite:///{tmp_path / 'p.db'}", grpc_port=free_port(), **common)
    )
    stop = asyncio.Event()
    tasks = [asyncio.create_task(r.run(stop)) for r in (producer, consumer)]
    try:
        await asyncio.wait_for(asyncio.gather(producer.ready.wait(), consumer.ready.wait()), 30)
        token = TokenCodec(SECRET).issue(Identity(sub="t", roles=frozenset({Role.ADMIN}), government="33"))
        tracer = trace.get_tracer("test")
        async with grpc.aio.insecure_channel(
            producer.settings.grpc_address, interceptors=aio_client_interceptors()
        ) as channel:
            with tracer.start_as_current_span("citizen request") as root:
                await pb_grpc.BudgetingServiceStub(channel).RegisterGovernment(
                    pb.RegisterGovernmentRequest(code="33", name="Provinsi Jawa Tengah"),
                    metadata=[("authorization", f"Bearer {token}")],
                    timeout=5,
                )
        trace_id = root.get_span_context().trace_id

        async def consumed() -> None:
            while not any(s.name.endswith(" process") for s in spans.get_finished_spans()):
                await asyncio.sleep(0.05)

        await asyncio.wait_for(consumed(), 20)
    finally:
        stop.set()
        await asyncio.gather(*tasks)
        nats.stop()

    in_trace = [s for s in spans.get_finished_spans() if s.context.trace_id == trace_id]
    rpc = "/grms.budgeting.v1.BudgetingService/RegisterGovernment"
    (client,) = [s for s in in_trace if s.name == rpc and s.kind == trace.SpanKind.CLIENT]
    (server,) = [s for s in in_trace if s.name == rpc and s.kind == trace.SpanKind.SERVER]
    (process,) = [s for s in in_trace if s.name == "grms.budgeting.government_registered.v1 process"]
    assert client.parent is not None and client.parent.span_id == root.get_span_context().span_id
    assert server.parent is not None and server.parent.span_id == client.context.span_id
    assert process.kind == trace.SpanKind.CONSUMER
    assert process.parent is not None and process.parent.span_id == server.context.span_id
    assert process.attributes["messaging.consumer.group.name"] == "planning-budgeting-reference"
