"""Authentication: the OAuth2 password token endpoint and the dependencies that say who is calling.

A caller presents either `Authorization: Bearer <jwt>` (issued here) or `X-API-Key: <key>`.
For an API key the gateway signs a short-lived token of the key's identity, so services see
the same kind of credential whichever way the caller came in.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.security import APIKeyHeader, OAuth2PasswordBearer, OAuth2PasswordRequestForm
from grms_kit.errors import Unauthenticated
from grms_kit.identity import ANONYMOUS, Identity

from grms_gateway.clients import CallContext
from grms_gateway.errors import ApiProblem
from grms_gateway.schemas.auth import TokenOut
from grms_gateway.schemas.problem import problem_responses
from grms_gateway.state import Gateway, get_gateway

__all__ = ["Caller", "call_context", "get_caller", "require_role", "router", "sign_in"]

TOKEN_URL = "/api/v1/auth/token"
API_KEY_TOKEN_TTL = dt.timedelta(minutes=5)

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])

_bearer = OAuth2PasswordBearer(tokenUrl=TOKEN_URL, auto_error=False)
_api_key = APIKeyHeader(name="X-API-Key", auto_error=False)


@dataclass(frozen=True)
class Caller:
    """Who is calling and the token to forward to services (None for anonymous callers)."""

    identity: Identity
    token: str | None


def _unauthenticated(detail: str = "problem.unauthenticated_detail") -> ApiProblem:
    return ApiProblem(401, "problem.unauthenticated", detail, headers={"WWW-Authenticate": "Bearer"})


async def get_caller(
    *,
    token: Annotated[str | None, Depends(_bearer)],
    api_key: Annotated[str | None, Depends(_api_key)],
    gateway: Annotated[Gateway, Depends(get_gateway)],
) -> Caller:
    """Dependency: the verified caller, ANONYMOUS when no credentials were sent, 401 when they are bad."""
    if token:
        try:
            return Caller(identity=gateway.codec.verify(token), token=token)
        except Unauthenticated:
            raise _unauthenticated() from None
    if api_key:
        key = await gateway.accounts.verify_api_key(api_key)
        if key is None:
            raise _unauthenticated()
        identity = key.identity()
        return Caller(identity=identity, token=gateway.codec.issue(identity, ttl=API_KEY_TOKEN_TTL))
    return Caller(identity=ANONYMOUS, token=None)


def require_role(*roles: str) -> Callable[..., Awaitable[Caller]]:
    """Dependency factory: the caller, if they hold one of `roles`; 401 when anonymous, 403 otherwise."""

    async def dependency(*, caller: Annotated[Caller, Depends(get_caller)]) -> Caller:
        if not caller.identity.authenticated:
            raise _unauthenticated()
        if not caller.identity.has_role(*roles):
            raise ApiProblem(403, "problem.forbidden", "problem.forbidden_detail", required_roles=sorted(roles))
        return caller

    return dependency


async def call_context(
    *, caller: Annotated[Caller, Depends(get_caller)], gateway: Annotated[Gateway, Depends(get_gateway)]
) -> CallContext:
    """Dependency: the caller's token and this request's deadline for every gRPC call it makes.

    `async` although it awaits nothing: FastAPI runs a plain `def` dependency on a worker thread.
    """
    return gateway.clients.context(caller.token)


@router.post(
    "/token",
    response_model=TokenOut,
    summary="Exchange username and password for a bearer token",
    responses=problem_responses(401, 422, 500),
)
async def issue_token(
    *,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    gateway: Annotated[Gateway, Depends(get_gateway)],
) -> TokenOut:
    """OAuth2 password grant: a bearer token for an active user, 401 problem otherwise."""
    signed = await sign_in(gateway, form.username, form.password)
    if signed is None:
        raise _unauthenticated("problem.bad_credentials")
    token, expires_in = signed
    return TokenOut(access_token=token, expires_in=expires_in)


async def sign_in(gateway: Gateway, username: str, password: str) -> tuple[str, int] | None:
    """A signed token and its lifetime in seconds for an active user with this password, else None.

    The one place tokens are issued for people: the OAuth2 endpoint and the web login both use it.
    """
    user = await gateway.accounts.authenticate(username, password)
    if user is None:
        return None
    ttl = dt.timedelta(seconds=gateway.settings.token_ttl)
    return gateway.codec.issue(user.identity(), ttl=ttl), int(ttl.total_seconds())
