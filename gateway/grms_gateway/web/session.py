"""The web session: the gateway's own JWT in an HttpOnly, SameSite=Strict cookie.

The token is the one `/api/v1/auth/token` issues (grms_gateway.auth.sign_in) and is verified
with the gateway's codec like a bearer token; the cookie only carries it. Secure is set when
the request came over HTTPS, so a plain-HTTP development server still works.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import Request, Response
from fastapi.responses import RedirectResponse
from grms_kit.errors import Unauthenticated

from grms_gateway.auth import Caller
from grms_gateway.state import Gateway

__all__ = ["SESSION_COOKIE", "clear_session", "login_redirect", "safe_next", "session_caller", "start_session"]

SESSION_COOKIE = "grms_session"
_MAX_TOKEN = 4096
DEFAULT_NEXT = "/perencanaan"


def session_caller(request: Request, gateway: Gateway) -> Caller | None:
    """The logged-in caller of this request, or None (no cookie, a bad or an expired token)."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token or len(token) > _MAX_TOKEN:
        return None
    try:
        identity = gateway.codec.verify(token)
    except Unauthenticated:
        return None
    return Caller(identity=identity, token=token)


def start_session(response: Response, request: Request, token: str, max_age: int) -> None:
    """Put `token` in the session cookie, for as long as the token lives."""
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


def clear_session(response: Response, request: Request) -> None:
    """Expire the session cookie."""
    response.delete_cookie(
        SESSION_COOKIE, path="/", httponly=True, samesite="strict", secure=request.url.scheme == "https"
    )


def safe_next(value: str | None) -> str:
    """A local path to go to after login; anything else (another host, a scheme) becomes the planner's list."""
    if not value or not value.startswith("/") or value.startswith(("//", "/\\")) or len(value) > 500:
        return DEFAULT_NEXT
    if any(ch in value for ch in "\r\n\\") or any(ord(ch) < 32 for ch in value):
        return DEFAULT_NEXT
    return value


def login_redirect(request: Request) -> RedirectResponse:
    """To /masuk, coming back here (with the query) after login."""
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/masuk?next={quote(target, safe='/')}", status_code=303)
