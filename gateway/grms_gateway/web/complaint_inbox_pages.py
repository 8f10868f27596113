"""The handlers' inbox: /pengaduan/kotak-masuk (staff login required).

The open complaints of the handler's agency (complaints officers and admins: all) with SLA
countdowns, and one page per complaint with the actions its status allows: verify, route or
re-route with a reason, start work, public reply, internal note, resolve, reject with a reason.
Forms post here; the gateway calls the complaints service with the user's own token, which
checks role, government and agency again. Every form carries a per-session CSRF token (an HMAC
of the session token under the gateway's secret) on top of the SameSite=Strict cookie; errors
are shown in the page.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
from typing import Annotated, Any

import grpc
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response
from grms.complaints.v1 import complaint_pb2
from grms.complaints.v1 import complaints_service_pb2 as pb
from grms_kit.errors import FieldViolation

from grms_gateway.auth import Caller
from grms_gateway.errors import UpstreamError
from grms_gateway.i18n import translate
from grms_gateway.schemas.complaint_board import BoardComplaintOut, board_complaint_out
from grms_gateway.schemas.complaints import complaint_out
from grms_gateway.state import Gateway, get_gateway
from grms_gateway.web import board_words  # noqa: F401  (the inbox's words)
from grms_gateway.web.pages import DEFAULT_GOVERNMENT, NO_STORE, problem_page, render
from grms_gateway.web.session import login_redirect, session_caller

__all__ = ["ACTIONS", "countdown", "csrf_token", "csrf_violations", "error_page", "router"]

router = APIRouter(include_in_schema=False)
GatewayDep = Annotated[Gateway, Depends(get_gateway)]
_TICKET = re.compile(r"^[A-Za-z2-7]{16}$")
PAGE_SIZE = 100
REJECTIONS = ("spam", "not_our_authority", "not_eligible")
#: The actions a form may post, and the statuses each is offered in.
ACTIONS: dict[str, tuple[str, ...]] = {
    "verify": ("received",),
    "assign": ("verified", "assigned", "in_progress"),
    "start": ("assigned",),
    "respond": ("in_progress",),
    "note": ("received", "verified", "assigned", "in_progress", "responded"),
    "resolve": ("responded",),
    "reject": ("received", "verified"),
}
_STATUS_CODES = {
    grpc.StatusCode.INVALID_ARGUMENT: 400,
    grpc.StatusCode.FAILED_PRECONDITION: 409,
    grpc.StatusCode.ABORTED: 409,
    grpc.StatusCode.PERMISSION_DENIED: 403,
    grpc.StatusCode.NOT_FOUND: 404,
}


def csrf_token(gateway: Gateway, caller: Caller) -> str:
    """The form token of this session: an HMAC of the session token, so it needs no storage."""
    key = gateway.settings.auth_secret.get_secret_value().encode()
    return hmac.new(key, b"csrf|" + caller.token.encode(), hashlib.sha256).hexdigest()


def csrf_violations(gateway: Gateway, caller: Caller, form: dict[str, str], lang: str) -> list[FieldViolation]:
    """Nothing when the form carries this session's token; otherwise the one violation to show (with a 403)."""
    if hmac.compare_digest(form.get("csrf", ""), csrf_token(gateway, caller)):
        return []
    return [FieldViolation("csrf", translate("inbox.csrf", lang))]  # type: ignore[arg-type]


def countdown(due: dt.datetime | None, now: dt.datetime, lang: str = "id") -> tuple[str, bool]:
    """("sisa 3 jam 20 menit", False) before `due`; ("terlambat 1 hari 2 jam", True) after; ("", False) for none."""
    if due is None:
        return "", False
    late = due < now
    minutes = int(abs((due - now).total_seconds()) // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    parts = []
    if days:
        parts.append(translate("inbox.days", lang, n=days))  # type: ignore[arg-type]
    if hours or days:
        parts.append(translate("inbox.hours", lang, n=hours))  # type: ignore[arg-type]
    if not days:
        parts.append(translate("inbox.minutes", lang, n=mins))  # type: ignore[arg-type]
    span = " ".join(parts)
    return translate("inbox.late" if late else "inbox.left", lang, span=span), late  # type: ignore[arg-type]


def _lang(request: Request) -> str:
    chosen = request.query_params.get("lang") or request.cookies.get("lang")
    return chosen if chosen in ("id", "en") else "id"


def error_page(request: Request, gateway: Gateway, err: UpstreamError) -> Response:
    """The page for a complaints call that failed: log in again, forbidden, or the service is away (others raise)."""
    if err.code == grpc.StatusCode.UNAUTHENTICATED:
        return login_redirect(request)
    if err.code == grpc.StatusCode.PERMISSION_DENIED:
        return problem_page(request, gateway, "forbidden", 403)
    if err.code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
        return problem_page(request, gateway, "complaints_unavailable", 503)
    raise err


async def _agencies(gateway: Gateway, caller: Caller, government: str) -> dict[str, str]:
    try:
        found = await gateway.clients.complaints.agencies(government, ctx=gateway.clients.context(caller.token))
    except UpstreamError:
        return {}
    return {a.code: a.name for a in found}


@router.get("/pengaduan/kotak-masuk", response_model=None)
async def inbox_page(
    request: Request,
    gateway: GatewayDep,
    opd: Annotated[str, Query(max_length=40)] = "",
    halaman: Annotated[str, Query(max_length=500)] = "",
) -> Response:
    """The open complaints the logged-in handler works on, oldest first, with their SLA countdowns."""
    caller = session_caller(request, gateway)
    if caller is None:
        return login_redirect(request)
    government = caller.identity.government or DEFAULT_GOVERNMENT
    request_pb = pb.ListInboxComplaintsRequest(government_code=government, agency_code=opd.strip())
    request_pb.page.page_size = PAGE_SIZE
    request_pb.page.page_token = halaman
    try:
        answer = await gateway.clients.complaints.call(
            "ListInboxComplaints", request_pb, ctx=gateway.clients.context(caller.token)
        )
    except UpstreamError as err:
        if err.code == grpc.StatusCode.INVALID_ARGUMENT:
            return problem_page(request, gateway, "forbidden", 400)
        return error_page(request, gateway, err)
    now = answer.as_of_time.ToDatetime(dt.UTC) if answer.HasField("as_of_time") else dt.datetime.now(dt.UTC)
    lang = _lang(request)
    items: list[tuple[BoardComplaintOut, str, bool]] = []
    for c in answer.complaints:
        out = board_complaint_out(c)
        text, late = countdown(out.next_due_time, now, lang)
        items.append((out, text, late))
    context: dict[str, Any] = {
        "items": items,
        "agencies": await _agencies(gateway, caller, government),
        "opd": opd,
        "next_token": answer.page.next_page_token,
        "government": government,
    }
    response = render(request, gateway, "complaint_inbox.html", context)
    response.headers.update(NO_STORE)
    return response


async def _detail(
    request: Request,
    gateway: Gateway,
    caller: Caller,
    ticket_id: str,
    *,
    errors: list[FieldViolation] | None = None,
    done: str = "",
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    try:
        found = await gateway.clients.complaints.call(
            "GetComplaint", pb.GetComplaintRequest(ticket_id=ticket_id), ctx=gateway.clients.context(caller.token)
        )
    except UpstreamError as err:
        if err.code in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.INVALID_ARGUMENT):
            return problem_page(request, gateway, "complaint", 404)
        return error_page(request, gateway, err)
    complaint = complaint_out(found.complaint)
    now = dt.datetime.now(dt.UTC)
    lang = _lang(request)
    deadlines = [
        (d, *countdown(d.due_time, now, lang)) for d in complaint.deadlines if d.met_time is None and not d.cancelled
    ]
    context: dict[str, Any] = {
        "c": complaint,
        "deadlines": deadlines,
        "agencies": await _agencies(gateway, caller, complaint.government_code),
        "allowed": {action for action, statuses in ACTIONS.items() if complaint.status in statuses},
        "rejections": REJECTIONS,
        "csrf": csrf_token(gateway, caller),
        "errors": errors or [],
        "done": done,
        "values": values or {},
    }
    response = render(request, gateway, "complaint_inbox_detail.html", context, status_code=status_code)
    response.headers.update(NO_STORE)
    return response


@router.get("/pengaduan/kotak-masuk/{ticket_id}", response_model=None)
async def complaint_page(
    request: Request, ticket_id: str, gateway: GatewayDep, selesai: Annotated[str, Query(max_length=20)] = ""
) -> Response:
    """One complaint for its handler: the whole staff view (never identity) and the forms its status allows."""
    caller = session_caller(request, gateway)
    if caller is None:
        return login_redirect(request)
    if not _TICKET.match(ticket_id):
        return problem_page(request, gateway, "complaint", 404)
    return await _detail(request, gateway, caller, ticket_id.upper(), done=selesai if selesai in ACTIONS else "")


def _call_for(action: str, ticket_id: str, form: dict[str, str]) -> tuple[str, Any]:
    if action == "verify":
        return "VerifyComplaint", pb.VerifyComplaintRequest(ticket_id=ticket_id)
    if action == "assign":
        return "AssignComplaint", pb.AssignComplaintRequest(
            ticket_id=ticket_id, agency_code=form.get("agency_code", ""), reason=form.get("reason", "")
        )
    if action == "start":
        return "StartWork", pb.StartWorkRequest(ticket_id=ticket_id)
    if action == "respond":
        return "RespondToComplaint", pb.RespondToComplaintRequest(ticket_id=ticket_id, text=form.get("text", ""))
    if action == "note":
        return "AddInternalNote", pb.AddInternalNoteRequest(ticket_id=ticket_id, text=form.get("text", ""))
    if action == "resolve":
        return "ResolveComplaint", pb.ResolveComplaintRequest(ticket_id=ticket_id)
    reason = form.get("reason", "")
    value = complaint_pb2.RejectionReason.Value(f"REJECTION_REASON_{reason.upper()}") if reason in REJECTIONS else 0
    return "RejectComplaint", pb.RejectComplaintRequest(ticket_id=ticket_id, reason=value, note=form.get("note", ""))  # type: ignore[arg-type]


@router.post("/pengaduan/kotak-masuk/{ticket_id}/{action}", response_model=None)
async def act(request: Request, ticket_id: str, action: str, gateway: GatewayDep) -> Response:
    """Apply one action; back to the complaint's page (303) or the page again with what went wrong."""
    caller = session_caller(request, gateway)
    if caller is None:
        return login_redirect(request)
    if not _TICKET.match(ticket_id) or action not in ACTIONS:
        return problem_page(request, gateway, "complaint", 404)
    ticket_id = ticket_id.upper()
    form = {k: str(v)[:5000] for k, v in (await request.form()).items()}
    if forged := csrf_violations(gateway, caller, form, _lang(request)):
        return await _detail(request, gateway, caller, ticket_id, errors=forged, status_code=403)
    method, message = _call_for(action, ticket_id, form)
    try:
        await gateway.clients.complaints.call(method, message, ctx=gateway.clients.context(caller.token))
    except UpstreamError as err:
        status_code = _STATUS_CODES.get(err.code)
        if status_code is None:
            return error_page(request, gateway, err)
        errors = err.violations or [FieldViolation("", err.message)]
        values = {f"{action}.{k}": v for k, v in form.items() if k != "csrf"}
        return await _detail(request, gateway, caller, ticket_id, errors=errors, values=values, status_code=status_code)
    return RedirectResponse(f"/pengaduan/kotak-masuk/{ticket_id}?selesai={action}", status_code=303)
