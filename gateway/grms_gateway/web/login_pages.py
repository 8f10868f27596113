"""Web login: /masuk (a form posting to the gateway's own account check) and /keluar (log out).

The session cookie holds the same JWT `/api/v1/auth/token` issues (grms_gateway.auth.sign_in);
answers that set or clear it are never cached, and a failed login says nothing about which
of username or password was wrong.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from grms_gateway.auth import sign_in
from grms_gateway.state import Gateway, get_gateway
from grms_gateway.web.pages import NO_STORE, render
from grms_gateway.web.session import clear_session, safe_next, session_caller, start_session

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
GatewayDep = Annotated[Gateway, Depends(get_gateway)]


@router.get("/masuk", response_class=HTMLResponse)
async def login_form(request: Request, gateway: GatewayDep) -> HTMLResponse:
    """The login form; `next` is where to go afterwards (a local path only)."""
    context = {
        "next": safe_next(request.query_params.get("next")),
        "username": "",
        "failed": False,
        "logged_out": request.query_params.get("keluar") == "1",
    }
    response = render(request, gateway, "planning_login.html", context)
    response.headers.update(NO_STORE)
    return response


@router.post("/masuk", response_model=None)
async def login(request: Request, gateway: GatewayDep) -> Response:
    """Check username and password; on success set the session cookie and go to `next`."""
    form = await request.form()
    username = str(form.get("username", "")).strip()[:100]
    password = str(form.get("password", ""))[:200]
    target = safe_next(str(form.get("next", "")))
    signed = await sign_in(gateway, username, password) if username and password else None
    if signed is None:
        context = {"next": target, "username": username, "failed": True, "logged_out": False}
        response = render(request, gateway, "planning_login.html", context, status_code=401)
        response.headers.update(NO_STORE)
        return response
    token, expires_in = signed
    redirect = RedirectResponse(target, status_code=303, headers=NO_STORE)
    start_session(redirect, request, token, expires_in)
    return redirect


@router.get("/keluar", response_model=None)
async def logout_form(request: Request, gateway: GatewayDep) -> Response:
    """Ask before logging out (a GET must not change state); not logged in: the login form."""
    if session_caller(request, gateway) is None:
        return RedirectResponse("/masuk", status_code=303)
    response = render(request, gateway, "planning_logout.html", {})
    response.headers.update(NO_STORE)
    return response


@router.post("/keluar", response_model=None)
async def logout(request: Request) -> Response:
    """Clear the session cookie and go to the login form, which says so."""
    redirect = RedirectResponse("/masuk?keluar=1", status_code=303, headers=NO_STORE)
    clear_session(redirect, request)
    return redirect
