"""The governor's complaint board as a web page: /pengaduan/papan (staff login required).

Server-rendered from GetComplaintBoard with the session's token (the complaints service checks
role, government and agency again): per-agency figures, the trend per day as an inline SVG
computed here, and the list of complaints with a pseudonymous reporter — never identity.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Annotated, Any
from urllib.parse import urlencode

import grpc
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from grms_gateway.errors import UpstreamError
from grms_gateway.i18n import WIB
from grms_gateway.routes.complaint_board import board_period, fetch_board
from grms_gateway.schemas.complaint_board import board_out
from grms_gateway.state import Gateway, get_gateway
from grms_gateway.web import board_words  # noqa: F401  (the board's words)
from grms_gateway.web.board_chart import trend_chart
from grms_gateway.web.pages import DEFAULT_GOVERNMENT, NO_STORE, problem_page, render
from grms_gateway.web.session import login_redirect, session_caller

__all__ = ["format_hours", "login_redirect", "router"]

router = APIRouter(include_in_schema=False)
GatewayDep = Annotated[Gateway, Depends(get_gateway)]
PAGE_SIZE = 50


def format_hours(hours: float | None, lang: str = "id") -> str:
    """1.5 → "1,5" in Indonesian, "1.5" in English; one decimal; "–" for none."""
    if hours is None:
        return "–"
    text = f"{hours:,.1f}"
    if lang == "id":
        text = text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")
    return text


async def _agency_names(gateway: Gateway, government: str, ctx: Any) -> dict[str, str]:
    """The government's agencies by code, or none when the service cannot say (the filter shows codes)."""
    try:
        return {a.code: a.name for a in await gateway.clients.complaints.agencies(government, ctx=ctx)}
    except UpstreamError:
        return {}


@router.get("/pengaduan/papan", response_model=None)
async def board_page(
    request: Request,
    gateway: GatewayDep,
    dari: Annotated[dt.date | None, Query()] = None,
    sampai: Annotated[dt.date | None, Query()] = None,
    opd: Annotated[str, Query(max_length=40)] = "",
    terbuka: Annotated[bool, Query()] = False,
    halaman: Annotated[str, Query(max_length=500)] = "",
) -> Response:
    """The board of the logged-in user's government for a period (the last 30 days unless given)."""
    caller = session_caller(request, gateway)
    if caller is None:
        return login_redirect(request)
    government = caller.identity.government or DEFAULT_GOVERNMENT
    start, end = board_period(dari, sampai)
    ctx = gateway.clients.context(caller.token)
    # The agencies' names (for the filter) are asked for beside the board, not after it: one
    # gRPC round trip less of waiting per page.
    names = asyncio.create_task(_agency_names(gateway, government, ctx))
    error = ""
    try:
        answer = await fetch_board(
            gateway,
            ctx,
            government=government,
            start=start,
            end=end,
            agency=opd.strip(),
            open_only=terbuka,
            page_size=PAGE_SIZE,
            page_token=halaman,
        )
    except UpstreamError as err:
        answer = None
        if err.code == grpc.StatusCode.INVALID_ARGUMENT:
            error = "; ".join(v.description for v in err.violations) or err.message
        else:
            names.cancel()
            if err.code == grpc.StatusCode.UNAUTHENTICATED:
                return login_redirect(request)
            if err.code == grpc.StatusCode.PERMISSION_DENIED:
                return problem_page(request, gateway, "forbidden", 403)
            if err.code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
                return problem_page(request, gateway, "complaints_unavailable", 503)
            raise
    except BaseException:
        names.cancel()
        raise
    board = board_out(government, start, end, answer) if answer is not None else None
    agencies = await names
    lang = request.query_params.get("lang") or request.cookies.get("lang") or "id"
    query = {"dari": start.isoformat(), "sampai": end.isoformat(), "opd": opd, **({"terbuka": "1"} if terbuka else {})}
    now = dt.datetime.now(dt.UTC)
    context: dict[str, Any] = {
        "board": board,
        "error": error,
        "government": government,
        "start": start,
        "end": end,
        "opd": opd,
        "terbuka": terbuka,
        "agencies": agencies,
        "chart": trend_chart([(d.date, d.received, d.responded, d.breached) for d in board.trend]) if board else None,
        "hours": lambda value: format_hours(value, lang),
        "minutes_to_hours": lambda minutes: format_hours(minutes / 60 if minutes is not None else None, lang),
        "waited": lambda since: format_hours((now - since).total_seconds() / 3600 if since else None, lang),
        "day": lambda d: d.strftime("%d-%m-%Y"),
        "next_url": f"/pengaduan/papan?{urlencode({**query, 'halaman': board.next_page_token})}"
        if board and board.next_page_token
        else "",
        "today": dt.datetime.now(WIB).date(),
    }
    response = render(request, gateway, "complaint_board.html", context, status_code=400 if error else 200)
    response.headers.update(NO_STORE)
    return response
