"""The gateway's typed lifespan state: what the lifespan builds and every request borrows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypedDict

from fastapi import Request
from fastapi.templating import Jinja2Templates
from grms_kit.identity import TokenCodec

from grms_gateway.accounts import AccountStore
from grms_gateway.clients import ServiceClients
from grms_gateway.config import GatewaySettings
from grms_gateway.live import ComplaintFeed
from grms_gateway.metrics import GatewayMetrics
from grms_gateway.throttle import PublicLimits

__all__ = ["Gateway", "LifespanState", "get_gateway"]


@dataclass(frozen=True)
class Gateway:
    """Everything a request handler may use, built once per app start."""

    settings: GatewaySettings
    accounts: AccountStore
    clients: ServiceClients
    codec: TokenCodec
    metrics: GatewayMetrics
    templates: Jinja2Templates
    #: The rate limits of the public doors (throttle.py).
    limits: PublicLimits
    #: The complaints events for live tracking; None when live events are off.
    feed: ComplaintFeed | None = None


class LifespanState(TypedDict):
    """The state the lifespan yields; Starlette copies it into each request's `request.state`."""

    gateway: Gateway


async def get_gateway(request: Request) -> Gateway:
    """Dependency: the running gateway's state (`async`: a plain `def` would hop to a worker thread)."""
    gateway: Gateway = request.state.gateway
    return gateway
