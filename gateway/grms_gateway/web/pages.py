"""Web pages: the home page (suite health, governments, a government's agencies), favicon and language toggle."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import grpc
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.templating import Jinja2Templates

from grms_gateway.clients import CallContext
from grms_gateway.config import SERVICES
from grms_gateway.errors import UpstreamError
from grms_gateway.i18n import Lang, format_rupiah, format_wib, negotiate, translate
from grms_gateway.schemas.reference import AgencyOut, GovernmentOut, agency_out, government_out
from grms_gateway.state import Gateway, get_gateway
from grms_gateway.web.session import session_caller

__all__ = [
    "NO_STORE",
    "STATIC_DIR",
    "TEMPLATES_DIR",
    "make_templates",
    "problem_page",
    "render",
    "router",
    "service_down",
]

WEB_DIR = Path(__file__).resolve().parent
TEMPLATES_DIR = WEB_DIR / "templates"
STATIC_DIR = WEB_DIR / "static"
DEFAULT_GOVERNMENT = "33"
_GOV_CODE = re.compile(r"^\d{2}(\.\d{2})?$")
LANG_COOKIE_MAX_AGE = 365 * 24 * 3600

router = APIRouter(include_in_schema=False)


def make_templates() -> Jinja2Templates:
    """The Jinja2 environment of the pages, with the rupiah and WIB filters."""
    templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
    templates.env.filters["rupiah"] = format_rupiah
    templates.env.filters["wib"] = format_wib
    return templates


def _translator(lang: Lang) -> Callable[..., str]:
    def t(key: str, **values: Any) -> str:
        return translate(key, lang, **values)

    return t


#: Pages with a form, a session or a citizen's ticket are never stored by caches.
NO_STORE = {"Cache-Control": "no-store"}


def service_down(err: BaseException) -> bool:
    """The service behind a page is down or too slow (503 page), not refusing the request."""
    return isinstance(err, UpstreamError) and err.code in (
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DEADLINE_EXCEEDED,
    )


def render(
    request: Request, gateway: Gateway, template: str, context: dict[str, Any], *, status_code: int = 200
) -> HTMLResponse:
    """Render `template` in Indonesian, or English when chosen; `?lang=` also sets the `lang` cookie.

    Pages ignore Accept-Language on purpose: a regional government's site opens in Bahasa
    Indonesia whatever the browser's locale, and the visible toggle is the one way to switch.
    """
    lang = negotiate(query=request.query_params.get("lang"), cookies=request.cookies, accept_language=None)
    response = gateway.templates.TemplateResponse(
        request,
        template,
        {
            "lang": lang,
            "t": _translator(lang),
            "path": request.url.path,
            "session": session_caller(request, gateway),
            **context,
        },
        status_code=status_code,
        headers={"Content-Language": lang},
    )
    chosen = request.query_params.get("lang")
    if chosen in ("id", "en"):
        response.set_cookie("lang", chosen, max_age=LANG_COOKIE_MAX_AGE, httponly=True, samesite="lax")
    return response


def problem_page(request: Request, gateway: Gateway, kind: str, status_code: int) -> HTMLResponse:
    """The page for a refusal (403), an unknown id (404) or a service that is down (503)."""
    return render(request, gateway, "planning_problem.html", {"kind": kind}, status_code=status_code)


@router.get("/", response_class=HTMLResponse)
async def home(
    request: Request,
    *,
    gateway: Annotated[Gateway, Depends(get_gateway)],
    government: Annotated[str, Query(max_length=10)] = DEFAULT_GOVERNMENT,
) -> HTMLResponse:
    """The suite's health, the governments of Central Java and the selected government's agencies."""
    if not _GOV_CODE.match(government):
        government = DEFAULT_GOVERNMENT
    clients = gateway.clients
    ctx: CallContext = clients.context(None)
    health, governments_result, agencies_result = await asyncio.gather(
        clients.health_all(),
        clients.budgeting.all_governments(ctx=ctx, within=DEFAULT_GOVERNMENT),
        clients.budgeting.list_agencies(government, ctx=ctx, page_size=500),
        return_exceptions=True,
    )
    if isinstance(health, BaseException):
        raise health
    down = {name for name, status in health.items() if status != "SERVING"}
    errors: list[str] = []
    governments: list[GovernmentOut] = []
    agencies: list[AgencyOut] = []
    for result in (governments_result, agencies_result):
        if isinstance(result, BaseException):
            if not isinstance(result, UpstreamError):
                raise result
            if service_down(result):
                down.add(result.service)
            elif result.code != grpc.StatusCode.NOT_FOUND:
                errors.append(f"{result.service}: {result.code.name}")
    if not isinstance(governments_result, BaseException):
        governments = [government_out(g) for g in governments_result]
    if not isinstance(agencies_result, BaseException):
        agencies = [agency_out(a) for a in agencies_result.agencies]
    selected = next((g for g in governments if g.code == government), None)
    context = {
        "health": health,
        "services": SERVICES,
        "down": [s for s in SERVICES if s in down],
        "errors": errors,
        "governments": governments,
        "agencies": agencies,
        "selected_code": government,
        "selected": selected,
        "generated_at": dt.datetime.now(dt.UTC),
    }
    return render(request, gateway, "home.html", context)


@router.get("/favicon.svg")
async def favicon_svg() -> FileResponse:
    """The icon, as SVG."""
    return FileResponse(
        STATIC_DIR / "favicon.svg", media_type="image/svg+xml", headers={"Cache-Control": "max-age=86400"}
    )


@router.get("/favicon.ico")
async def favicon_ico() -> FileResponse:
    """Browsers ask for /favicon.ico by habit; every current browser renders the SVG served here."""
    return FileResponse(
        STATIC_DIR / "favicon.svg", media_type="image/svg+xml", headers={"Cache-Control": "max-age=86400"}
    )
