"""The governor's complaint board as JSON: GET /api/v1/complaints/board (staff who read complaints).

Registered before the complaints router, whose `/api/v1/complaints/{ticket_id}` would
otherwise take "board" for a ticket. Days are WIB calendar days; `end` is included.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response
from grms.complaints.v1 import complaints_service_pb2 as pb
from grms_kit.identity import Role

from grms_gateway.auth import Caller, call_context, require_role
from grms_gateway.clients import CallContext
from grms_gateway.i18n import WIB
from grms_gateway.schemas.complaint_board import BoardOut, board_out
from grms_gateway.schemas.problem import problem_responses
from grms_gateway.state import Gateway, get_gateway

__all__ = ["DEFAULT_DAYS", "board_period", "fetch_board", "router"]

router = APIRouter(tags=["complaints"])
READERS = (Role.COMPLAINTS_OFFICER, Role.ADMIN, Role.AGENCY_HEAD, Role.EXECUTIVE, Role.AUDITOR)
Reader = Annotated[Caller, Depends(require_role(*READERS))]
Ctx = Annotated[CallContext, Depends(call_context)]
GatewayDep = Annotated[Gateway, Depends(get_gateway)]
DEFAULT_DAYS = 30


def board_period(start: dt.date | None, end: dt.date | None, today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """The board's first and last day: the last 30 WIB days up to today unless given."""
    today = today or dt.datetime.now(WIB).date()
    end = end or today
    return start or end - dt.timedelta(days=DEFAULT_DAYS - 1), end


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0), tzinfo=WIB).astimezone(dt.UTC)


async def fetch_board(
    gateway: Gateway,
    ctx: CallContext,
    *,
    government: str,
    start: dt.date,
    end: dt.date,
    agency: str = "",
    open_only: bool = False,
    page_size: int = 0,
    page_token: str = "",
) -> pb.GetComplaintBoardResponse:
    """GetComplaintBoard for the WIB days `start` to `end` (both included)."""
    request = pb.GetComplaintBoardRequest(government_code=government, agency_code=agency, open_only=open_only)
    request.period.start_time.FromDatetime(_midnight(start))
    request.period.end_time.FromDatetime(_midnight(end + dt.timedelta(days=1)))
    request.page.page_size = page_size
    request.page.page_token = page_token
    return await gateway.clients.complaints.call("GetComplaintBoard", request, ctx=ctx)  # type: ignore[no-any-return]


@router.get(
    "/api/v1/complaints/board",
    response_model=BoardOut,
    summary="The governor's complaint board (staff)",
    responses=problem_responses(400, 401, 403, 422, 500, 503, 504),
)
async def complaint_board(
    *,
    caller: Reader,
    ctx: Ctx,
    gateway: GatewayDep,
    government: Annotated[str | None, Query(pattern=r"^\d{2}(\.\d{2})?$")] = None,
    start: Annotated[dt.date | None, Query(description="First WIB day; default 29 days before end")] = None,
    end: Annotated[dt.date | None, Query(description="Last WIB day (included); default today")] = None,
    agency: Annotated[str, Query(max_length=40)] = "",
    open_only: bool = False,
    page_size: Annotated[int, Query(ge=0, le=500)] = 0,
    page_token: Annotated[str, Query(max_length=500)] = "",
) -> Response:
    """Per agency open and overdue counts, first-response median and p90 (hours), SLA compliance,
    the oldest open complaint; the trend per day; and who reported what, when, who handles it and
    how long, newest first and keyset-paged. Never identity: a pseudonymous reporter reference."""
    government = government or caller.identity.government or "33"
    first, last = board_period(start, end)
    answer = await fetch_board(
        gateway,
        ctx,
        government=government,
        start=first,
        end=last,
        agency=agency,
        open_only=open_only,
        page_size=page_size,
        page_token=page_token,
    )
    # Serialized once by pydantic: returning the model made FastAPI dump it, validate it
    # again against `response_model` and encode it a second time (bench (h) measures both).
    return Response(board_out(government, first, last, answer).model_dump_json(), media_type="application/json")
