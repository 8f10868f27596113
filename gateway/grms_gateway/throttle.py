"""The gateway's public rate limits: which door has which limit, the 429 answers, the refusals counted.

Limits (settings `GRMS_GATEWAY_RATELIMIT_*`; a rate of 0 switches one off):

* `intake` — a citizen's filings, per client IP: complaints (`POST /api/v1/complaints`, the
  `/pengaduan` form) and proposals (`POST /api/v1/proposals`, the `/usulan` form) share it;
* `tracking` — ticket-and-PIN lookups, per client IP: track, reopen and rate, JSON and pages
  (beside the complaints service's own limit per ticket, which stops guessing one ticket's PIN,
  this stops one client trying PINs across many tickets);
* `photos` — a complainant's photo upload, per client IP;
* `open311_ip` and `open311_key` — Open311 `POST requests.{fmt}`, per client IP and per api_key
  (routes/open311.py checks them itself, once it has read the api_key);
* `public_read` — public reads, per client IP: the public complaint list and categories, the
  Open311 GETs, a proposal's public status, the opening of a live-tracking stream;
* `open_data` — the `/open-data/…` downloads, per client IP (ASVS 2.4.1: public complaint and
  open-data endpoints are the ones automation hammers).

Routes take the limit as a dependency (`Depends(limited("intake"))`). A refusal raises
`RateLimited`; the app answers it with 429 and Retry-After, as a problem (JSON routes), a
friendly page (web forms) or the spec's error list (Open311), and counts it in
`grms_gateway_rate_limited_total` by route and limit.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from fastapi import FastAPI, Request
from starlette.responses import Response

from grms_gateway.config import GatewaySettings
from grms_gateway.errors import ApiProblem, problem_response
from grms_gateway.media import Network, parse_networks
from grms_gateway.ratelimit import TokenBucketLimiter, Verdict, client_address

__all__ = ["LIMITS", "PublicLimits", "RateLimited", "check", "install_rate_limit_handler", "limited"]

LIMITS = ("intake", "tracking", "photos", "open311_ip", "open311_key", "public_read", "open_data")
#: The web forms a refusal page links back to (any other limited page goes back to tracking).
_FORMS = ("/pengaduan", "/usulan")


class RateLimited(Exception):
    """A client went over a limit: which one, and the whole seconds until it may try again."""

    def __init__(self, limit: str, retry_after: int) -> None:
        super().__init__(f"rate limit {limit}: retry after {retry_after} s")
        self.limit = limit
        self.retry_after = retry_after


@dataclass(frozen=True)
class PublicLimits:
    """One token-bucket limiter per public door, and who counts as the client."""

    limiters: dict[str, TokenBucketLimiter]
    trusted_proxies: tuple[Network, ...]

    @classmethod
    def from_settings(cls, settings: GatewaySettings) -> PublicLimits:
        """The limits as configured."""
        limiters = {
            name: TokenBucketLimiter(
                per_minute=getattr(settings, f"ratelimit_{name}_per_minute"),
                burst=getattr(settings, f"ratelimit_{name}_burst"),
                max_keys=settings.ratelimit_max_clients,
            )
            for name in LIMITS
        }
        return cls(limiters=limiters, trusted_proxies=parse_networks(settings.trusted_proxies))

    def client(self, request: Request) -> str:
        """The client's IP address: the peer, or X-Forwarded-For's right-most untrusted hop behind trusted proxies."""
        peer = request.client.host if request.client else None
        forwarded = request.headers.getlist("x-forwarded-for")
        return client_address(peer, forwarded, self.trusted_proxies)

    def take(self, limit: str, key: str) -> Verdict:
        """One request of `key` against `limit`."""
        return self.limiters[limit].take(key)


def _route(request: Request) -> str:
    route = request.scope.get("route")
    return getattr(route, "path", None) or request.url.path


def check(request: Request, limit: str, key: str | None = None) -> None:
    """Count one request against `limit` for `key` (default: the client's IP); RateLimited when over."""
    gateway = request.state.gateway
    limits: PublicLimits = gateway.limits
    verdict = limits.take(limit, key if key is not None else limits.client(request))
    if not verdict.allowed:
        gateway.metrics.rate_limited.labels(_route(request), limit).inc()
        raise RateLimited(limit, verdict.retry_after_seconds())


def limited(limit: str) -> Callable[[Request], Awaitable[None]]:
    """A route dependency: the request counts against `limit`, per client IP."""
    if limit not in LIMITS:
        raise KeyError(limit)

    async def dependency(request: Request) -> None:
        check(request, limit)

    return dependency


def _wants_page(request: Request) -> bool:
    # The JSON API, Open311 and open data live under their prefixes, the live stream ends in
    # /events (an EventSource reads no page); every other limited route is a web form.
    path = request.url.path
    return not (path.startswith(("/api/", "/open311/", "/open-data/")) or path.endswith("/events"))


def install_rate_limit_handler(app: FastAPI) -> None:
    """Answer RateLimited with 429 + Retry-After: a problem for the API, a page for the web forms,
    the spec's error list for Open311."""

    async def on_limited(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RateLimited)
        headers = {"Retry-After": str(exc.retry_after)}
        if request.url.path.startswith("/open311/"):
            from grms_gateway.routes.open311 import rate_limited_answer  # open311 imports this module

            return rate_limited_answer(request, exc)
        if _wants_page(request):
            from grms_gateway.web.pages import NO_STORE, render  # the pages import this module's dependency

            back = request.url.path if request.url.path in _FORMS else "/pengaduan/lacak"
            context = {"retry_after": exc.retry_after, "back": back}
            response = render(request, request.state.gateway, "rate_limited.html", context, status_code=429)
            response.headers.update({**NO_STORE, **headers})
            return response
        problem = ApiProblem(
            429,
            "problem.rate_limited",
            "problem.rate_limited_detail",
            headers=headers,
            values={"seconds": exc.retry_after},
            code="RATE_LIMITED",
            limit=exc.limit,
            retry_after=exc.retry_after,
        )
        return problem_response(request, problem)

    app.add_exception_handler(RateLimited, on_limited)
