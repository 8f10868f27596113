"""Complaints (LaporGub!): filing and tracking for the public, the lifecycle for handlers, the public list.

Citizens need no login: they file, then track with the ticket id and PIN sent in the body,
never in the URL (ASVS 14.2.1). Handlers act with their token; the complaints service checks
role, government and agency again. The Open311 GeoReport v2 endpoints and the public web
pages are included here too, so the app registers complaints with one router.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Query, Request, status
from grms.complaints.v1 import complaint_pb2
from grms.complaints.v1 import complaints_service_pb2 as pb
from grms_kit.identity import Role

from grms_gateway.auth import Caller, call_context, require_role
from grms_gateway.clients import CallContext
from grms_gateway.routes.complaint_categories import router as categories_router
from grms_gateway.routes.complaint_photos import filing_from_request
from grms_gateway.routes.complaint_photos import router as photos_router
from grms_gateway.routes.open311 import router as open311_router
from grms_gateway.schemas.complaints import (
    AssignIn,
    CategoryOut,
    ComplaintOut,
    DuplicateOut,
    FileComplaintIn,
    FiledOut,
    IdentityIn,
    IdentityOut,
    MergeIn,
    PublicComplaintList,
    RateIn,
    RejectIn,
    ReopenIn,
    StatusName,
    TextIn,
    TightenIn,
    TrackedOut,
    TrackIn,
    category_out,
    complaint_out,
    duplicate_out,
    enum_name,
    file_request,
    public_out,
    status_value,
    timestamp,
    tracked_out,
)
from grms_gateway.schemas.problem import problem_responses
from grms_gateway.state import Gateway, get_gateway
from grms_gateway.throttle import limited
from grms_gateway.web.complaint_pages import router as pages_router

__all__ = ["router"]

router = APIRouter(tags=["complaints"])

OFFICERS = (Role.COMPLAINTS_OFFICER, Role.ADMIN)
HANDLERS = (*OFFICERS, Role.AGENCY_HEAD)
READERS = (*HANDLERS, Role.EXECUTIVE, Role.AUDITOR)

Ticket = Annotated[str, Path(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9]+$")]
Ctx = Annotated[CallContext, Depends(call_context)]
GatewayDep = Annotated[Gateway, Depends(get_gateway)]
Officer = Annotated[Caller, Depends(require_role(*OFFICERS))]
Handler = Annotated[Caller, Depends(require_role(*HANDLERS))]
Reader = Annotated[Caller, Depends(require_role(*READERS))]

_PUBLIC_PROBLEMS = problem_responses(400, 404, 422, 500, 503, 504)
_LIMITED_PROBLEMS = {**_PUBLIC_PROBLEMS, **problem_responses(429)}
_STAFF_PROBLEMS = problem_responses(400, 401, 403, 404, 409, 422, 500, 503, 504)
_BASE = "/api/v1/complaints"


async def _staff(gateway: Gateway, method: str, request: Any, ctx: CallContext) -> ComplaintOut:
    response = await gateway.clients.complaints.call(method, request, ctx=ctx)
    return complaint_out(response.complaint)


def _filing_schema() -> dict[str, Any]:
    # FileComplaintIn inline (its nested models are in components already, through OperatorEntryIn).
    schema = FileComplaintIn.model_json_schema(ref_template="#/components/schemas/{model}")
    schema.pop("$defs", None)
    schema["properties"]["photos"] = {"type": "array", "items": {"type": "string", "format": "byte"}, "maxItems": 10}
    return schema


_FILING_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": _filing_schema()},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "complaint": {"type": "string", "description": "FileComplaintIn as JSON"},
                        "photos": {"type": "array", "items": {"type": "string", "format": "binary"}},
                    },
                    "required": ["complaint"],
                }
            },
        },
    }
}


@router.post(
    _BASE,
    response_model=FiledOut,
    status_code=status.HTTP_201_CREATED,
    summary="File a complaint (public, no login), with photos as base64 (JSON) or files (multipart)",
    responses={**_LIMITED_PROBLEMS, **problem_responses(413, 415)},
    dependencies=[Depends(limited("intake"))],
    openapi_extra=_FILING_BODY,
)
async def file_complaint(*, request: Request, ctx: Ctx, gateway: GatewayDep) -> FiledOut:
    """Returns the ticket id and the PIN once: keep both to track the complaint.

    Rate-limited per client IP (429 with Retry-After), together with the /pengaduan form.
    Photos must be JPEG, PNG or WebP (by their bytes: 415 otherwise) within the size limit (413).
    """
    body, photos = await filing_from_request(request, gateway.settings.complaint_photo_max_bytes)
    filing = file_request(body)
    filing.photos.extend(photos)
    filed = await gateway.clients.complaints.file(filing, ctx=ctx)
    return FiledOut(
        ticket_id=filed.ticket_id,
        pin=filed.pin,
        status=enum_name(complaint_pb2.ComplaintStatus, filed.status, "COMPLAINT_STATUS_"),
        receive_time=timestamp(filed.receive_time),
    )


@router.post(
    f"{_BASE}/track",
    response_model=TrackedOut,
    summary="Track a complaint with ticket and PIN",
    responses=_LIMITED_PROBLEMS,
    dependencies=[Depends(limited("tracking"))],
)
async def track_complaint(*, body: Annotated[TrackIn, Body()], ctx: Ctx, gateway: GatewayDep) -> TrackedOut:
    """Status and public replies (redacted); 404 for a wrong PIN as for an unknown ticket."""
    return tracked_out(await gateway.clients.complaints.track(body.ticket_id, body.pin, ctx=ctx))


@router.post(
    f"{_BASE}/reopen",
    response_model=TrackedOut,
    summary="Reopen with ticket and PIN",
    responses=_LIMITED_PROBLEMS,
    dependencies=[Depends(limited("tracking"))],
)
async def reopen_complaint(*, body: Annotated[ReopenIn, Body()], ctx: Ctx, gateway: GatewayDep) -> TrackedOut:
    """The complainant sends an answered or resolved complaint back to work."""
    request = pb.ReopenComplaintRequest(ticket_id=body.ticket_id, pin=body.pin, reason=body.reason)
    await gateway.clients.complaints.call("ReopenComplaint", request, ctx=ctx)
    return tracked_out(await gateway.clients.complaints.track(body.ticket_id, body.pin, ctx=ctx))


@router.post(
    f"{_BASE}/rate",
    response_model=TrackedOut,
    summary="Rate a resolved complaint (1-5) with ticket and PIN, once",
    responses=_LIMITED_PROBLEMS,
    dependencies=[Depends(limited("tracking"))],
)
async def rate_complaint(*, body: Annotated[RateIn, Body()], ctx: Ctx, gateway: GatewayDep) -> TrackedOut:
    """Only when resolved or closed, and only once (400 FAILED_PRECONDITION otherwise); rating closes a resolved one."""
    request = pb.RateComplaintRequest(ticket_id=body.ticket_id, pin=body.pin, score=body.score, comment=body.comment)
    await gateway.clients.complaints.call("RateComplaint", request, ctx=ctx)
    return tracked_out(await gateway.clients.complaints.track(body.ticket_id, body.pin, ctx=ctx))


@router.get(
    "/api/v1/public/complaint-categories",
    response_model=list[CategoryOut],
    summary="The complaint categories",
    responses=_PUBLIC_PROBLEMS,
    dependencies=[Depends(limited("public_read"))],
)
async def list_categories(*, ctx: Ctx, gateway: GatewayDep) -> list[CategoryOut]:
    """The categories the complaints service is configured with."""
    return [category_out(c) for c in await gateway.clients.complaints.categories(ctx=ctx)]


@router.get(
    "/api/v1/public/complaints",
    response_model=PublicComplaintList,
    summary="Public list of complaints (never confidential ones, never identity)",
    responses=_PUBLIC_PROBLEMS,
    dependencies=[Depends(limited("public_read"))],
)
async def list_public_complaints(
    *,
    ctx: Ctx,
    gateway: GatewayDep,
    government: Annotated[str, Query(pattern=r"^\d{2}(\.\d{2})?$")] = "33",
    category: Annotated[str, Query(max_length=60)] = "",
    complaint_status: Annotated[list[StatusName] | None, Query(alias="status")] = None,
    start: Annotated[dt.datetime | None, Query(description="Received at or after (ISO 8601 with offset)")] = None,
    end: Annotated[dt.datetime | None, Query(description="Received before (ISO 8601 with offset)")] = None,
    page_size: Annotated[int, Query(ge=0, le=500)] = 0,
    page_token: Annotated[str, Query(max_length=500)] = "",
) -> PublicComplaintList:
    """Newest first; text redacted, points rounded to about 100 m, no location for anonymous complaints."""
    request = pb.ListPublicComplaintsRequest(
        government_code=government,
        category_code=category,
        statuses=[status_value(s) for s in complaint_status or []],
    )
    request.page.page_size = page_size
    request.page.page_token = page_token
    for field_name, value in (("start_time", start), ("end_time", end)):
        if value is not None:
            getattr(request, field_name).FromDatetime(_aware(value).astimezone(dt.UTC))
    response = await gateway.clients.complaints.list_public(request, ctx=ctx)
    return PublicComplaintList(
        complaints=[public_out(c) for c in response.complaints], next_page_token=response.page.next_page_token
    )


def _aware(value: dt.datetime) -> dt.datetime:
    # A time without an offset is read as WIB, the time the citizens of Central Java live in.
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone(dt.timedelta(hours=7)))


@router.get(
    f"{_BASE}/{{ticket_id}}", response_model=ComplaintOut, summary="Get a complaint (staff)", responses=_STAFF_PROBLEMS
)
async def get_complaint(*, ticket_id: Ticket, caller: Reader, ctx: Ctx, gateway: GatewayDep) -> ComplaintOut:
    """Everything but the complainant's identity, for staff of the complaint's government."""
    return await _staff(gateway, "GetComplaint", pb.GetComplaintRequest(ticket_id=ticket_id), ctx)


@router.post(f"{_BASE}/{{ticket_id}}/verify", response_model=ComplaintOut, summary="Verify", responses=_STAFF_PROBLEMS)
async def verify_complaint(*, ticket_id: Ticket, caller: Officer, ctx: Ctx, gateway: GatewayDep) -> ComplaintOut:
    """Verifikasi by the coordinator."""
    return await _staff(gateway, "VerifyComplaint", pb.VerifyComplaintRequest(ticket_id=ticket_id), ctx)


@router.post(
    f"{_BASE}/{{ticket_id}}/assign",
    response_model=ComplaintOut,
    summary="Route to an agency",
    responses=_STAFF_PROBLEMS,
)
async def assign_complaint(
    *, ticket_id: Ticket, body: Annotated[AssignIn, Body()], caller: Officer, ctx: Ctx, gateway: GatewayDep
) -> ComplaintOut:
    """Disposisi; a re-route needs a reason."""
    request = pb.AssignComplaintRequest(ticket_id=ticket_id, agency_code=body.agency_code, reason=body.reason)
    return await _staff(gateway, "AssignComplaint", request, ctx)


@router.post(
    f"{_BASE}/{{ticket_id}}/start", response_model=ComplaintOut, summary="Start work", responses=_STAFF_PROBLEMS
)
async def start_work(*, ticket_id: Ticket, caller: Handler, ctx: Ctx, gateway: GatewayDep) -> ComplaintOut:
    """The agency takes the complaint up."""
    return await _staff(gateway, "StartWork", pb.StartWorkRequest(ticket_id=ticket_id), ctx)


@router.post(
    f"{_BASE}/{{ticket_id}}/respond",
    response_model=ComplaintOut,
    summary="Publish an answer",
    responses=_STAFF_PROBLEMS,
)
async def respond_to_complaint(
    *, ticket_id: Ticket, body: Annotated[TextIn, Body()], caller: Handler, ctx: Ctx, gateway: GatewayDep
) -> ComplaintOut:
    """The agency's public answer (tindak lanjut); the complainant sees it redacted."""
    request = pb.RespondToComplaintRequest(ticket_id=ticket_id, text=body.text)
    return await _staff(gateway, "RespondToComplaint", request, ctx)


@router.post(
    f"{_BASE}/{{ticket_id}}/notes",
    response_model=ComplaintOut,
    summary="Add an internal note",
    responses=_STAFF_PROBLEMS,
)
async def add_note(
    *, ticket_id: Ticket, body: Annotated[TextIn, Body()], caller: Handler, ctx: Ctx, gateway: GatewayDep
) -> ComplaintOut:
    """A note only staff see."""
    request = pb.AddInternalNoteRequest(ticket_id=ticket_id, text=body.text)
    return await _staff(gateway, "AddInternalNote", request, ctx)


@router.post(
    f"{_BASE}/{{ticket_id}}/resolve", response_model=ComplaintOut, summary="Resolve", responses=_STAFF_PROBLEMS
)
async def resolve_complaint(*, ticket_id: Ticket, caller: Officer, ctx: Ctx, gateway: GatewayDep) -> ComplaintOut:
    """Mark an answered complaint resolved."""
    return await _staff(gateway, "ResolveComplaint", pb.ResolveComplaintRequest(ticket_id=ticket_id), ctx)


@router.post(f"{_BASE}/{{ticket_id}}/close", response_model=ComplaintOut, summary="Archive", responses=_STAFF_PROBLEMS)
async def close_complaint(*, ticket_id: Ticket, caller: Officer, ctx: Ctx, gateway: GatewayDep) -> ComplaintOut:
    """Archive a resolved complaint; it can no longer be reopened."""
    return await _staff(gateway, "CloseComplaint", pb.CloseComplaintRequest(ticket_id=ticket_id), ctx)


@router.post(f"{_BASE}/{{ticket_id}}/reject", response_model=ComplaintOut, summary="Reject", responses=_STAFF_PROBLEMS)
async def reject_complaint(
    *, ticket_id: Ticket, body: Annotated[RejectIn, Body()], caller: Officer, ctx: Ctx, gateway: GatewayDep
) -> ComplaintOut:
    """Spam, not our authority, or not eligible, with a note the complainant can read."""
    request = pb.RejectComplaintRequest(
        ticket_id=ticket_id,
        reason=complaint_pb2.RejectionReason.Value(f"REJECTION_REASON_{body.reason.upper()}"),
        note=body.note,
    )
    return await _staff(gateway, "RejectComplaint", request, ctx)


@router.post(
    f"{_BASE}/{{ticket_id}}/confidentiality",
    response_model=ComplaintOut,
    summary="Set anonymous and/or confidential (never relax)",
    responses=_STAFF_PROBLEMS,
)
async def tighten_confidentiality(
    *, ticket_id: Ticket, body: Annotated[TightenIn, Body()], caller: Officer, ctx: Ctx, gateway: GatewayDep
) -> ComplaintOut:
    """true sets a flag; false on a set flag is refused (403)."""
    request = pb.TightenConfidentialityRequest(ticket_id=ticket_id)
    if body.anonymous is not None:
        request.anonymous = body.anonymous
    if body.confidential is not None:
        request.confidential = body.confidential
    return await _staff(gateway, "TightenConfidentiality", request, ctx)


@router.post(
    f"{_BASE}/{{ticket_id}}/identity",
    response_model=IdentityOut,
    summary="The complainant's identity (officers; a reason is logged)",
    responses=_STAFF_PROBLEMS,
)
async def get_identity(
    *, ticket_id: Ticket, body: Annotated[IdentityIn, Body()], caller: Officer, ctx: Ctx, gateway: GatewayDep
) -> IdentityOut:
    """POST, so the reason stays out of URLs and logs; every read is in the service's access log."""
    request = pb.GetComplainantIdentityRequest(ticket_id=ticket_id, reason=body.reason)
    response = await gateway.clients.complaints.call("GetComplainantIdentity", request, ctx=ctx)
    c = response.complainant
    return IdentityOut(name=c.name, nik=c.nik, phone=c.phone, email=c.email)


@router.get(
    f"{_BASE}/{{ticket_id}}/duplicates",
    response_model=list[DuplicateOut],
    summary="Likely duplicates of a complaint (staff)",
    responses=_STAFF_PROBLEMS,
)
async def list_duplicates(*, ticket_id: Ticket, caller: Reader, ctx: Ctx, gateway: GatewayDep) -> list[DuplicateOut]:
    """Best first: similar words, near in place (within 1 km) and time (30 days), same category."""
    request = pb.ListDuplicateCandidatesRequest(ticket_id=ticket_id)
    response = await gateway.clients.complaints.call("ListDuplicateCandidates", request, ctx=ctx)
    return [duplicate_out(c) for c in response.candidates]


@router.post(
    f"{_BASE}/{{ticket_id}}/merge",
    response_model=ComplaintOut,
    summary="Merge this complaint as a duplicate into another (officers)",
    responses=_STAFF_PROBLEMS,
)
async def merge_complaint(
    *, ticket_id: Ticket, body: Annotated[MergeIn, Body()], caller: Officer, ctx: Ctx, gateway: GatewayDep
) -> ComplaintOut:
    """It follows the primary's status and resolution from now on; 400 FAILED_PRECONDITION for a forbidden merge."""
    request = pb.MergeComplaintsRequest(
        primary_ticket_id=body.primary_ticket_id, duplicate_ticket_id=ticket_id, reason=body.reason
    )
    response = await gateway.clients.complaints.call("MergeComplaints", request, ctx=ctx)
    return complaint_out(response.duplicate)


router.include_router(photos_router)
router.include_router(categories_router)
router.include_router(open311_router)
router.include_router(pages_router)
