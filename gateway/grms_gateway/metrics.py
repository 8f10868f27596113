"""Prometheus metrics of one gateway app: HTTP requests by route and status, gRPC calls by service, method and code."""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["GatewayMetrics", "MetricsMiddleware"]

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class GatewayMetrics:
    """The collectors, in a registry of their own so two apps in one process never collide."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self.http_requests = Counter(
            "grms_gateway_http_requests",
            "HTTP requests answered, by method, route template and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.http_latency = Histogram(
            "grms_gateway_http_request_duration_seconds",
            "Time to answer an HTTP request, by method and route template.",
            ["method", "route"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.grpc_calls = Counter(
            "grms_gateway_grpc_calls",
            "gRPC calls made to the services, by service, method and status code.",
            ["service", "method", "code"],
            registry=self.registry,
        )
        self.grpc_latency = Histogram(
            "grms_gateway_grpc_call_duration_seconds",
            "Duration of gRPC calls to the services, by service and method.",
            ["service", "method"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )

        self.rate_limited = Counter(
            "grms_gateway_rate_limited",
            "Requests refused with 429 by a public rate limit, by route template and limit.",
            ["route", "limit"],
            registry=self.registry,
        )

    def observe_grpc(self, service: str, method: str, code: str, seconds: float) -> None:
        """Count one finished gRPC call."""
        self.grpc_calls.labels(service, method, code).inc()
        self.grpc_latency.labels(service, method).observe(seconds)


class MetricsMiddleware:
    """Pure ASGI middleware: times each HTTP request and labels it by its route template, not its URL."""

    def __init__(self, app: ASGIApp, *, metrics: GatewayMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = scope.get("route")
            # Unmatched paths share one label, so a scanner cannot blow up the series count.
            template = getattr(route, "path", None) or "<unmatched>"
            method = scope.get("method", "GET")
            self.metrics.http_requests.labels(method, template, str(status)).inc()
            self.metrics.http_latency.labels(method, template).observe(time.perf_counter() - started)
