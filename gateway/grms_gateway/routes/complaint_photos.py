"""Complaint photos at the gateway: filing with photos (JSON base64 or multipart), adding them later, serving them.

The gateway reads a photo's type from its first bytes (JPEG, PNG, WebP; 415 otherwise) and
its size against `GRMS_GATEWAY_COMPLAINT_PHOTO_MAX_BYTES` (413) before anything is forwarded;
the complaints service checks both again and stores the photo by its SHA-256. Photos are
served from `GET /api/v1/complaints/{ticket}/photos/{sha256}`: to anyone when the complaint is
not confidential, else only to its staff — the service decides, the gateway passes the token.

* `POST /api/v1/complaints` takes JSON (`photos`: base64 strings) or multipart/form-data
  (a `complaint` part holding the same JSON without photos, and `photos` file parts).
* `POST /api/v1/complaints/photos`: the complainant, with ticket and PIN in the body.
* `POST /api/v1/complaints/{ticket}/photos`: staff with their token.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from grms.complaints.v1 import complaints_service_pb2 as pb
from grms_kit.errors import FieldViolation
from grms_kit.identity import Role
from grms_kit.images import sniff_image
from pydantic import BaseModel, Field, ValidationError
from starlette.datastructures import UploadFile

from grms_gateway.auth import Caller, call_context, require_role
from grms_gateway.clients import CallContext
from grms_gateway.errors import ApiProblem
from grms_gateway.schemas.complaints import FileComplaintIn, PhotoOut, photo_out
from grms_gateway.schemas.problem import problem_responses
from grms_gateway.state import Gateway, get_gateway
from grms_gateway.throttle import limited

__all__ = ["MAX_PHOTOS", "check_photo", "filing_from_request", "read_upload", "router"]

router = APIRouter(tags=["complaints"])

Ctx = Annotated[CallContext, Depends(call_context)]
GatewayDep = Annotated[Gateway, Depends(get_gateway)]
Handler = Annotated[Caller, Depends(require_role(Role.COMPLAINTS_OFFICER, Role.ADMIN, Role.AGENCY_HEAD))]
Ticket = Annotated[str, Path(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9]+$")]
Sha256 = Annotated[str, Path(pattern=r"^[0-9a-fA-F]{64}$")]
_PROBLEMS = problem_responses(400, 401, 403, 404, 413, 415, 422, 500, 503, 504)
MAX_PHOTOS = 10
_EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}


def _megabytes(limit: int) -> str:
    return f"{limit / (1024 * 1024):.1f} MB".replace(".0 MB", " MB")


def check_photo(data: bytes, *, max_bytes: int, field: str) -> None:
    """413 when `data` is over `max_bytes`, 415 when it is not a JPEG, PNG or WebP image."""
    if len(data) > max_bytes:
        raise ApiProblem(413, "problem.too_large", "problem.photo_too_large",
                         values={"field": field, "limit": _megabytes(max_bytes)})  # fmt: skip
    if sniff_image(data) is None:
        raise ApiProblem(415, "problem.unsupported_media_type", "problem.photo_type", values={"field": field})


async def read_upload(upload: UploadFile, *, max_bytes: int, field: str) -> bytes:
    """The bytes of an uploaded file, reading no more than one byte past the limit."""
    data = await upload.read(max_bytes + 1)
    check_photo(data, max_bytes=max_bytes, field=field)
    return data


def _decode(value: str, field: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise ApiProblem(400, "problem.validation", errors=[_violation(field, "must be base64")]) from None


def _violation(field: str, description: str) -> FieldViolation:
    return FieldViolation(field, description)


def _invalid(exc: ValidationError, prefix: tuple[str, ...] = ("body",)) -> RequestValidationError:
    return RequestValidationError([{**e, "loc": (*prefix, *e["loc"])} for e in exc.errors()])


def _check_length(request: Request, max_bytes: int, photos: int) -> None:
    # Before reading the body: more than the photos (as base64) and a generous complaint cannot be right.
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > photos * (max_bytes * 4 // 3 + 4096) + 1024 * 1024:
        raise ApiProblem(413, "problem.too_large")


async def filing_from_request(request: Request, max_bytes: int) -> tuple[FileComplaintIn, list[bytes]]:
    """The complaint and its photos from a JSON body (base64 photos) or a multipart form."""
    _check_length(request, max_bytes, MAX_PHOTOS)
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        form = await request.form(max_files=MAX_PHOTOS + 1)
        raw = form.get("complaint")
        if not isinstance(raw, str):
            raise ApiProblem(400, "problem.validation", errors=[_violation("complaint", "a JSON part is required")])
        try:
            body = FileComplaintIn.model_validate_json(raw)
        except ValidationError as exc:
            raise _invalid(exc, ("body", "complaint")) from None
        uploads = [u for u in form.getlist("photos") if isinstance(u, UploadFile)]
        if len(uploads) > MAX_PHOTOS:
            raise ApiProblem(400, "problem.validation", errors=[_violation("photos", f"at most {MAX_PHOTOS}")])
        photos = [
            await read_upload(u, max_bytes=max_bytes, field=f"photos[{i}]") for i, u in enumerate(uploads) if u.size
        ]
        return body, photos
    try:
        payload = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ApiProblem(400, "problem.validation", errors=[_violation("body", "must be JSON")]) from None
    if not isinstance(payload, dict):
        raise ApiProblem(400, "problem.validation", errors=[_violation("body", "must be a JSON object")])
    encoded = payload.pop("photos", [])
    if not isinstance(encoded, list) or len(encoded) > MAX_PHOTOS or not all(isinstance(p, str) for p in encoded):
        raise ApiProblem(
            400, "problem.validation", errors=[_violation("photos", f"at most {MAX_PHOTOS} base64 strings")]
        )
    try:
        body = FileComplaintIn.model_validate(payload)
    except ValidationError as exc:
        raise _invalid(exc) from None
    photos = [_decode(p, f"photos[{i}]") for i, p in enumerate(encoded)]
    for i, photo in enumerate(photos):
        check_photo(photo, max_bytes=max_bytes, field=f"photos[{i}]")
    return body, photos


class PhotoIn(BaseModel):
    """A photo as base64 (JSON); multipart sends the file as the `photo` part instead."""

    content: str = Field(min_length=1, max_length=21 * 1024 * 1024)


class ComplainantPhotoIn(PhotoIn):
    ticket_id: str = Field(min_length=1, max_length=40)
    pin: str = Field(min_length=1, max_length=40)


async def _photo_from_request(request: Request, max_bytes: int, *, with_pin: bool) -> tuple[bytes, str, str]:
    """(content, ticket_id, pin) from multipart (`photo` file, `ticket_id`, `pin`) or JSON (base64 `content`)."""
    _check_length(request, max_bytes, 1)
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        form = await request.form(max_files=1)
        upload = form.get("photo")
        if not isinstance(upload, UploadFile):
            raise ApiProblem(400, "problem.validation", errors=[_violation("photo", "a file part is required")])
        content = await read_upload(upload, max_bytes=max_bytes, field="photo")
        return content, str(form.get("ticket_id", "")).strip()[:40], str(form.get("pin", "")).strip()[:40]
    try:
        payload = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ApiProblem(400, "problem.validation", errors=[_violation("body", "must be JSON")]) from None
    model = ComplainantPhotoIn if with_pin else PhotoIn
    try:
        parsed = model.model_validate(payload)
    except ValidationError as exc:
        raise _invalid(exc) from None
    content = _decode(parsed.content, "content")
    check_photo(content, max_bytes=max_bytes, field="content")
    if isinstance(parsed, ComplainantPhotoIn):
        return content, parsed.ticket_id, parsed.pin
    return content, "", ""


_UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": {"type": "object", "properties": {"content": {"type": "string"}}}},
            "multipart/form-data": {
                "schema": {"type": "object", "properties": {"photo": {"type": "string", "format": "binary"}}}
            },
        },
    }
}


@router.post(
    "/api/v1/complaints/photos",
    response_model=PhotoOut,
    status_code=status.HTTP_201_CREATED,
    summary="Add a photo to your complaint with ticket and PIN (JSON base64 or multipart)",
    responses={**_PROBLEMS, **problem_responses(429)},
    dependencies=[Depends(limited("photos"))],
    openapi_extra=_UPLOAD_BODY,
)
async def add_photo_as_complainant(*, request: Request, ctx: Ctx, gateway: GatewayDep) -> PhotoOut:
    """Ticket and PIN travel in the body; 404 for a wrong PIN as for an unknown ticket; rate-limited per client IP."""
    content, ticket_id, pin = await _photo_from_request(
        request, gateway.settings.complaint_photo_max_bytes, with_pin=True
    )
    if not ticket_id or not pin:
        raise ApiProblem(400, "problem.validation", errors=[_violation("pin", "ticket_id and pin are required")])
    request_pb = pb.AddPhotoRequest(ticket_id=ticket_id, pin=pin, content=content)
    response = await gateway.clients.complaints.call("AddPhoto", request_pb, ctx=ctx)
    return photo_out(ticket_id.upper(), response.attachment)


@router.post(
    "/api/v1/complaints/{ticket_id}/photos",
    response_model=PhotoOut,
    status_code=status.HTTP_201_CREATED,
    summary="Add a photo to a complaint (handlers; JSON base64 or multipart)",
    responses=_PROBLEMS,
    openapi_extra=_UPLOAD_BODY,
)
async def add_photo_as_staff(
    *, ticket_id: Ticket, request: Request, caller: Handler, ctx: Ctx, gateway: GatewayDep
) -> PhotoOut:
    """The photo is recorded as added by the caller."""
    content, _, _ = await _photo_from_request(request, gateway.settings.complaint_photo_max_bytes, with_pin=False)
    request_pb = pb.AddPhotoRequest(ticket_id=ticket_id, content=content)
    response = await gateway.clients.complaints.call("AddPhoto", request_pb, ctx=ctx)
    return photo_out(ticket_id.upper(), response.attachment)


@router.get(
    "/api/v1/complaints/{ticket_id}/photos/{sha256}",
    summary="A complaint's photo (public unless the complaint is confidential)",
    responses={200: {"content": {t: {} for t in _EXTENSIONS}}, **problem_responses(400, 401, 403, 404, 500, 503)},
    response_class=Response,
)
async def get_photo(*, ticket_id: Ticket, sha256: Sha256, ctx: Ctx, gateway: GatewayDep) -> Response:
    """The bytes with their media type (nosniff comes with every answer); 404 when the complaint is
    confidential and the caller is not its staff."""
    request_pb = pb.GetPhotoRequest(ticket_id=ticket_id, sha256=sha256.lower())
    response = await gateway.clients.complaints.call("GetPhoto", request_pb, ctx=ctx)
    media_type = response.attachment.media_type
    headers = {
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "Content-Disposition": f'inline; filename="{sha256.lower()}.{_EXTENSIONS.get(media_type, "bin")}"',
        # A complaint may turn confidential later: caches must ask again every time.
        "Cache-Control": "private, no-cache",
        "ETag": f'"{sha256.lower()}"',
    }
    return Response(content=response.content, media_type=media_type, headers=headers)
