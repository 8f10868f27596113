"""Probes and metrics: `/healthz` (the gateway is alive), `/readyz` (every service is SERVING), `/metrics`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.responses import Response

from grms_gateway.state import Gateway, get_gateway

__all__ = ["router"]

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="The gateway process is alive")
async def healthz() -> dict[str, str]:
    """Liveness: answers while the event loop runs; never asks the services (that is readiness)."""
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="Every service answers SERVING",
    responses={503: {"description": "At least one service is not serving; the body says which"}},
)
async def readyz(*, gateway: Annotated[Gateway, Depends(get_gateway)]) -> JSONResponse:
    """Readiness: each service's standard gRPC health ("" = whole server); 503 with per-service detail otherwise."""
    statuses = await gateway.clients.health_all()
    ready = all(status == "SERVING" for status in statuses.values())
    body: dict[str, Any] = {
        "status": "ready" if ready else "not_ready",
        "services": {name: {"status": status} for name, status in statuses.items()},
    }
    headers = {} if ready else {"Retry-After": "5"}
    return JSONResponse(body, status_code=200 if ready else 503, headers=headers)


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
async def metrics(*, gateway: Annotated[Gateway, Depends(get_gateway)]) -> Response:
    """The gateway's metrics in the Prometheus text format."""
    return Response(generate_latest(gateway.metrics.registry), media_type=CONTENT_TYPE_LATEST)
