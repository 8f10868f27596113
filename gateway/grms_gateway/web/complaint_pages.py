"""Public complaint pages: /pengaduan (file a complaint) and /pengaduan/lacak (track it with ticket and PIN).

Server-rendered forms posting to themselves; no script and no external asset. The ticket and
PIN are shown once, on the answer to the POST, which no cache may keep (Cache-Control:
no-store); tracking posts ticket and PIN in the body, never in the URL (ASVS 14.2.1).
Filing, tracking and rating are rate-limited per client IP (throttle.py): over the limit the
citizen gets a friendly 429 page saying how long to wait, and nothing is sent on.
"""

from __future__ import annotations

from typing import Annotated, Any

import grpc
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from grms.complaints.v1 import complaint_pb2
from grms.complaints.v1 import complaints_service_pb2 as pb
from grms_kit.errors import FieldViolation
from starlette.datastructures import UploadFile

from grms_gateway.errors import ApiProblem, UpstreamError
from grms_gateway.i18n import negotiate, translate
from grms_gateway.routes.complaint_photos import MAX_PHOTOS, read_upload
from grms_gateway.schemas.complaints import tracked_out
from grms_gateway.state import Gateway, get_gateway
from grms_gateway.throttle import limited
from grms_gateway.web.pages import DEFAULT_GOVERNMENT, NO_STORE, render, service_down

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
GatewayDep = Annotated[Gateway, Depends(get_gateway)]
CLASSES = ("pengaduan", "aspirasi", "permintaan_informasi")
_FIELDS = (
    "complaint_class",
    "category_code",
    "title",
    "description",
    "address",
    "village_code",
    "name",
    "nik",
    "phone",
    "email",
)


async def _form_page(
    request: Request, gateway: GatewayDep, values: dict[str, str], errors: list[FieldViolation], status_code: int
) -> HTMLResponse:
    unavailable = False
    categories: list[pb.Category] = []
    try:
        categories = await gateway.clients.complaints.categories(ctx=gateway.clients.context(None))
    except UpstreamError as err:
        if not service_down(err):
            raise
        unavailable, status_code = True, 503
    context: dict[str, Any] = {
        "categories": categories,
        "classes": CLASSES,
        "values": values,
        "errors": errors,
        "unavailable": unavailable,
    }
    return render(request, gateway, "complaint_form.html", context, status_code=status_code)


@router.get("/pengaduan", response_class=HTMLResponse)
async def complaint_form(request: Request, gateway: GatewayDep) -> HTMLResponse:
    """The form to file a complaint."""
    return await _form_page(request, gateway, {}, [], 200)


@router.post("/pengaduan", response_class=HTMLResponse, dependencies=[Depends(limited("intake"))])
async def file_complaint(request: Request, gateway: GatewayDep) -> HTMLResponse:
    """File the complaint; show ticket and PIN once, or the form again with what is wrong."""
    form = await request.form(max_files=MAX_PHOTOS)
    values = {k: str(form.get(k, "")).strip() for k in _FIELDS}
    photos: list[bytes] = []
    uploads = [u for u in form.getlist("photos") if isinstance(u, UploadFile) and u.size]
    try:
        for i, upload in enumerate(uploads):
            photos.append(
                await read_upload(upload, max_bytes=gateway.settings.complaint_photo_max_bytes, field=f"photos[{i}]")
            )
    except ApiProblem as problem:
        # Too large (413) or not a photo (415): the form again, with what is wrong, nothing filed.
        lang = negotiate(query=request.query_params.get("lang"), cookies=request.cookies, accept_language=None)
        text = translate(problem.detail or problem.title, lang, **problem.values)
        return await _form_page(request, gateway, values, [FieldViolation("photos", text)], problem.status)
    complaint_class = values["complaint_class"] if values["complaint_class"] in CLASSES else "pengaduan"
    filed = pb.FileComplaintRequest(
        government_code=DEFAULT_GOVERNMENT,
        complaint_class=complaint_pb2.ComplaintClass.Value(f"COMPLAINT_CLASS_{complaint_class.upper()}"),
        category_code=values["category_code"],
        channel=complaint_pb2.COMPLAINT_CHANNEL_WEB,
        title=values["title"],
        description=values["description"],
        complainant=complaint_pb2.Complainant(
            name=values["name"], nik=values["nik"], phone=values["phone"], email=values["email"]
        ),
        anonymous=form.get("anonymous") == "on",
        confidential=form.get("confidential") == "on",
        photos=photos,
    )
    if values["address"] or values["village_code"]:
        filed.location.address = values["address"]
        filed.location.village_code = values["village_code"]
    try:
        answer = await gateway.clients.complaints.file(filed, ctx=gateway.clients.context(None))
    except UpstreamError as err:
        if err.code == grpc.StatusCode.INVALID_ARGUMENT:
            errors = err.violations or [FieldViolation("", err.message)]
            return await _form_page(request, gateway, values, errors, 400)
        if service_down(err):
            return await _form_page(request, gateway, values, [], 503)
        raise
    response = render(request, gateway, "complaint_filed.html", {"ticket_id": answer.ticket_id, "pin": answer.pin})
    response.headers.update(NO_STORE)
    return response


@router.get("/pengaduan/lacak", response_class=HTMLResponse)
async def track_form(request: Request, gateway: GatewayDep) -> HTMLResponse:
    """The form to track a complaint."""
    context = {"tracked": None, "not_found": False, "ticket_id": "", "rate_error": ""}
    return render(request, gateway, "complaint_track.html", context)


@router.post("/pengaduan/lacak", response_class=HTMLResponse, dependencies=[Depends(limited("tracking"))])
async def track(request: Request, gateway: GatewayDep) -> HTMLResponse:
    """Status and public replies for ticket and PIN; the same answer for a wrong PIN as for an unknown ticket."""
    form = await request.form()
    ticket_id = str(form.get("ticket_id", "")).strip()[:40]
    pin = str(form.get("pin", "")).strip()[:40]
    return await _tracking_page(request, gateway, ticket_id, pin)


@router.post("/pengaduan/nilai", response_class=HTMLResponse, dependencies=[Depends(limited("tracking"))])
async def rate(request: Request, gateway: GatewayDep) -> HTMLResponse:
    """The complainant rates a resolved complaint (1-5, once), then sees the tracking page again."""
    form = await request.form()
    ticket_id = str(form.get("ticket_id", "")).strip()[:40]
    pin = str(form.get("pin", "")).strip()[:40]
    score = str(form.get("score", "")).strip()
    comment = str(form.get("comment", "")).strip()[:1000]
    if not score.isdigit() or not 1 <= int(score) <= 5:
        return await _tracking_page(request, gateway, ticket_id, pin, rate_error="complaint.rate_pick", status_code=400)
    request_pb = pb.RateComplaintRequest(ticket_id=ticket_id, pin=pin, score=int(score), comment=comment)
    try:
        await gateway.clients.complaints.call("RateComplaint", request_pb, ctx=gateway.clients.context(None))
    except UpstreamError as err:
        if err.code == grpc.StatusCode.FAILED_PRECONDITION:
            return await _tracking_page(
                request, gateway, ticket_id, pin, rate_error="complaint.rate_refused", status_code=409
            )
        # Wrong ticket/PIN, too many wrong PINs or a service down: the tracking page below says which.
        quiet = (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.RESOURCE_EXHAUSTED)
        if err.code not in quiet and not service_down(err):
            raise
    return await _tracking_page(request, gateway, ticket_id, pin)


async def _tracking_page(
    request: Request, gateway: GatewayDep, ticket_id: str, pin: str, *, rate_error: str = "", status_code: int = 200
) -> HTMLResponse:
    context: dict[str, Any] = {
        "tracked": None,
        "not_found": False,
        "unavailable": False,
        "too_many": False,
        "ticket_id": ticket_id,
        "rate_error": rate_error,
    }
    try:
        answer = await gateway.clients.complaints.track(ticket_id, pin, ctx=gateway.clients.context(None))
        context["tracked"] = tracked_out(answer)
        if answer.watch_token:  # live updates (web/complaint_live.py) without sending the PIN again
            context["events_url"] = f"/pengaduan/lacak/{answer.ticket_id}/events?token={answer.watch_token}"
    except UpstreamError as err:
        if err.code in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.INVALID_ARGUMENT):
            context["not_found"], status_code = True, 404
        elif err.code == grpc.StatusCode.RESOURCE_EXHAUSTED:
            # The service's own limit: too many wrong PINs for this ticket (the form, not a JSON problem).
            context["too_many"], status_code = True, 429
        elif service_down(err):
            context["unavailable"], status_code = True, 503
        else:
            raise
    response = render(request, gateway, "complaint_track.html", context, status_code=status_code)
    response.headers.update(NO_STORE)
    return response
