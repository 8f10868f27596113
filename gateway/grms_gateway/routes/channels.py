"""Complaint channels: the WhatsApp Cloud API and SMS webhooks, social-media mentions and operator entry.

Every channel ends in the complaints service's FileComplaint, which is idempotent per
delivery: the channel's own message id travels as `channel_message_id`, so a webhook that
is delivered twice (Meta and SMS gateways retry until they get a 2xx) makes one complaint,
and the redelivery gets the same ticket back with `duplicate_delivery` and no new PIN.

* WhatsApp: `GET /webhooks/whatsapp` answers Meta's verification handshake; `POST` checks
  `X-Hub-Signature-256` (HMAC-SHA256 of the raw body under the app secret) before the body
  is parsed at all. A valid delivery is answered 200 at once; messages the complaints
  service refuses (too short, a foreign number) are logged and acknowledged, since a retry
  cannot fix them. Only when the complaints service is unreachable does the webhook fail
  (503), so that Meta delivers again later — safe, because intake is idempotent.
* SMS: `POST /webhooks/sms` with the shared secret in `X-GRMS-SMS-Secret`; JSON or form
  fields `from`, `text`, `id`. The answer carries `reply`, the text the SMS gateway sends
  back to the sender (with the PIN for a new complaint).
* Social media: officers import mentions (`POST /api/v1/complaints/import/social`); the
  platform and post id make the delivery id, so importing the same mentions again is a no-op.
* Operators: a complaints officer types in a hotline call or a walk-in visit, optionally for
  a villager on behalf of their village head (`POST /api/v1/complaints/operator`).

Messages from free-text channels have no category and no location: they are filed as
"lainnya" without a location, and the coordinator completes them at verification.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from typing import Annotated, Any, Literal

import grpc
from fastapi import APIRouter, Body, Depends, Query, Request, status
from fastapi.responses import PlainTextResponse
from grms.complaints.v1 import complaint_pb2
from grms.complaints.v1 import complaints_service_pb2 as pb
from grms_kit.errors import FieldViolation
from grms_kit.identity import Role
from pydantic import SecretStr, ValidationError

from grms_gateway.auth import Caller, call_context, require_role
from grms_gateway.clients import CallContext
from grms_gateway.errors import ApiProblem, UpstreamError
from grms_gateway.schemas.channels import (
    ImportOut,
    ImportResultOut,
    MentionIn,
    OperatorEntryIn,
    SmsIn,
    SmsOut,
    SocialImportIn,
    WaPayload,
    WebhookOut,
)
from grms_gateway.schemas.complaints import FiledOut, enum_name, file_request, timestamp
from grms_gateway.schemas.problem import problem_responses
from grms_gateway.state import Gateway, get_gateway

__all__ = ["SIGNATURE_HEADER", "SMS_SECRET_HEADER", "router", "title_of"]

log = logging.getLogger(__name__)

router = APIRouter(tags=["complaint channels"])

OFFICERS = (Role.COMPLAINTS_OFFICER, Role.ADMIN)
SIGNATURE_HEADER = "X-Hub-Signature-256"
SMS_SECRET_HEADER = "X-GRMS-SMS-Secret"
#: Meta caps a webhook payload well below this; anything larger is not from Meta.
MAX_WEBHOOK_BYTES = 1_000_000
#: Messages arrive without a category; the coordinator sets the real one at verification.
UNSORTED_CATEGORY = "lainnya"

GatewayDep = Annotated[Gateway, Depends(get_gateway)]
Ctx = Annotated[CallContext, Depends(call_context)]
Officer = Annotated[Caller, Depends(require_role(*OFFICERS))]

_WEBHOOK_PROBLEMS = problem_responses(400, 401, 422, 500, 503, 504)
_STAFF_PROBLEMS = problem_responses(400, 401, 403, 422, 500, 503, 504)


def _not_configured(channel: str) -> ApiProblem:
    return ApiProblem(503, "problem.unavailable", "channel not configured", channel=channel)


def _secret(value: SecretStr | None, channel: str) -> bytes:
    if value is None or not value.get_secret_value():
        raise _not_configured(channel)
    return value.get_secret_value().encode()


def title_of(text: str, fallback: str) -> str:
    """A title from a message: its first line, at most 100 characters cut at a word; `fallback` if too short."""
    line = " ".join(text.strip().splitlines()[0].split()) if text.strip() else ""
    if len(line) > 100:
        line = line[:99].rsplit(" ", 1)[0] + "…"
    return line if len(line) >= 5 else fallback


def _message_request(
    *, government: str, channel: int, delivery_id: str, text: str, title_fallback: str, complainant: Any
) -> pb.FileComplaintRequest:
    return pb.FileComplaintRequest(
        government_code=government,
        complaint_class=complaint_pb2.COMPLAINT_CLASS_PENGADUAN,
        category_code=UNSORTED_CATEGORY,
        channel=channel,  # type: ignore[arg-type]
        title=title_of(text, title_fallback),
        description=text.strip(),
        complainant=complainant,
        channel_message_id=delivery_id,
    )


# WhatsApp Cloud API.


@router.get(
    "/webhooks/whatsapp",
    response_class=PlainTextResponse,
    summary="WhatsApp Cloud API webhook verification (Meta's handshake)",
    responses=problem_responses(403, 503),
)
async def whatsapp_verify(
    *,
    gateway: GatewayDep,
    mode: Annotated[str, Query(alias="hub.mode", max_length=50)] = "",
    token: Annotated[str, Query(alias="hub.verify_token", max_length=500)] = "",
    challenge: Annotated[str, Query(alias="hub.challenge", max_length=500)] = "",
) -> PlainTextResponse:
    """Echo `hub.challenge` when `hub.mode` is subscribe and `hub.verify_token` is the configured token."""
    expected = _secret(gateway.settings.whatsapp_verify_token, "whatsapp")
    if mode != "subscribe" or not hmac.compare_digest(token.encode(), expected):
        raise ApiProblem(403, "problem.forbidden", "the verify token does not match")
    return PlainTextResponse(challenge)


def _check_signature(body: bytes, header: str | None, secret: bytes) -> None:
    expected = hmac.new(secret, body, hashlib.sha256).hexdigest()
    given = (header or "").strip()
    if not given.startswith("sha256=") or not hmac.compare_digest(given[7:].lower().encode(), expected.encode()):
        raise ApiProblem(401, "problem.unauthenticated", f"missing or wrong {SIGNATURE_HEADER}")


async def _raw_body(request: Request) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_WEBHOOK_BYTES:
        raise ApiProblem(413, "problem.too_large")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_WEBHOOK_BYTES:
            raise ApiProblem(413, "problem.too_large")
    return body


def _violations(exc: ValidationError) -> list[FieldViolation]:
    return [FieldViolation(".".join(str(p) for p in e["loc"]), e["msg"]) for e in exc.errors()]


async def _file_message(gateway: Gateway, request: pb.FileComplaintRequest) -> pb.FileComplaintResponse | None:
    """File one message; None when the complaints service refuses it (a retry would not help)."""
    try:
        return await gateway.clients.complaints.file(request, ctx=gateway.clients.context(None))
    except UpstreamError as exc:
        if exc.code != grpc.StatusCode.INVALID_ARGUMENT:
            raise
        log.warning(
            "complaint channel %s: message %s refused: %s",
            complaint_pb2.ComplaintChannel.Name(request.channel),
            request.channel_message_id,
            "; ".join(f"{v.field}: {v.description}" for v in exc.violations) or exc.message,
        )
        return None


@router.post(
    "/webhooks/whatsapp",
    response_model=WebhookOut,
    summary="WhatsApp Cloud API webhook: each text message becomes a complaint",
    responses=_WEBHOOK_PROBLEMS,
)
async def whatsapp_webhook(*, request: Request, gateway: GatewayDep) -> WebhookOut:
    """Signed by Meta (`X-Hub-Signature-256`); redeliveries are recognised by the message id."""
    secret = _secret(gateway.settings.whatsapp_app_secret, "whatsapp")
    body = await _raw_body(request)
    _check_signature(body, request.headers.get(SIGNATURE_HEADER), secret)
    try:
        payload = WaPayload.model_validate(json.loads(body))
    except (ValueError, ValidationError) as exc:
        errors = _violations(exc) if isinstance(exc, ValidationError) else []
        detail = "not a WhatsApp Cloud API webhook payload"
        raise ApiProblem(400, "problem.bad_request", detail, errors=errors) from None
    out = WebhookOut(received=0, duplicates=0, ignored=0, rejected=0)
    if payload.object != "whatsapp_business_account":
        return out
    for entry in payload.entry:
        for change in entry.changes:
            if change.field != "messages":
                continue
            names = {c.wa_id: c.profile.name.strip() for c in change.value.contacts}
            for message in change.value.messages:
                if message.type != "text" or message.text is None or not message.text.body.strip():
                    out.ignored += 1
                    continue
                name = names.get(message.from_, "")
                filed = await _file_message(
                    gateway,
                    _message_request(
                        government=gateway.settings.channel_government,
                        channel=complaint_pb2.COMPLAINT_CHANNEL_WHATSAPP,
                        delivery_id=message.id,
                        text=message.text.body,
                        title_fallback="Aduan melalui WhatsApp",
                        complainant=complaint_pb2.Complainant(
                            name=name if len(name) >= 2 else "", phone="+" + message.from_.lstrip("+")
                        ),
                    ),
                )
                if filed is None:
                    out.rejected += 1
                elif filed.duplicate_delivery:
                    out.duplicates += 1
                else:
                    out.received += 1
    return out


# SMS gateway.


@router.post(
    "/webhooks/sms",
    response_model=SmsOut,
    summary="SMS gateway webhook: an SMS becomes a complaint",
    responses=_WEBHOOK_PROBLEMS,
)
async def sms_webhook(*, request: Request, gateway: GatewayDep) -> SmsOut:
    """Authenticated by the shared secret in `X-GRMS-SMS-Secret`; JSON or form fields `from`, `text`, `id`."""
    secret = _secret(gateway.settings.sms_secret, "sms")
    given = request.headers.get(SMS_SECRET_HEADER, "")
    if not hmac.compare_digest(given.encode(), secret):
        raise ApiProblem(401, "problem.unauthenticated", f"missing or wrong {SMS_SECRET_HEADER}")
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            fields: Any = json.loads(await _raw_body(request))
        except ValueError:
            raise ApiProblem(400, "problem.bad_request", "the body is not JSON") from None
    else:
        fields = dict(await request.form())
    try:
        sms = SmsIn.model_validate(fields)
    except ValidationError as exc:
        raise ApiProblem(422, "problem.validation", "problem.validation_detail", errors=_violations(exc)) from None
    filed = await gateway.clients.complaints.file(
        _message_request(
            government=gateway.settings.channel_government,
            channel=complaint_pb2.COMPLAINT_CHANNEL_SMS,
            delivery_id=sms.id,
            text=sms.text,
            title_fallback="Aduan melalui SMS",
            complainant=complaint_pb2.Complainant(phone=sms.from_),
        ),
        ctx=gateway.clients.context(None),
    )
    if filed.duplicate_delivery:
        reply = f"Aduan ini sudah kami terima dengan nomor tiket {filed.ticket_id}."
    else:
        reply = (
            f"Aduan Anda kami terima. Tiket {filed.ticket_id}, PIN {filed.pin}. "
            "Simpan PIN ini untuk memantau aduan Anda."
        )
    return SmsOut(ticket_id=filed.ticket_id, duplicate_delivery=filed.duplicate_delivery, pin=filed.pin, reply=reply)


# Social-media mentions (staff).


def _mention_request(government: str, m: MentionIn) -> pb.FileComplaintRequest:
    handle = m.author_handle.lstrip("@")
    return _message_request(
        government=government,
        channel=complaint_pb2.COMPLAINT_CHANNEL_SOCIAL_MEDIA,
        delivery_id=f"{m.platform}:{m.post_id}",
        text=f"{m.text.strip()}\n\nSumber: {m.url}",
        title_fallback=f"Aduan melalui {m.platform}",
        complainant=complaint_pb2.Complainant(name=m.author_name.strip() or handle, handle=f"{m.platform}:@{handle}"),
    )


@router.post(
    "/api/v1/complaints/import/social",
    response_model=ImportOut,
    summary="Import social-media mentions as complaints (officers; idempotent by post)",
    responses=_STAFF_PROBLEMS,
)
async def import_social(
    *, body: Annotated[SocialImportIn, Body()], caller: Officer, ctx: Ctx, gateway: GatewayDep
) -> ImportOut:
    """One complaint per post: a post imported before is reported as a duplicate, not filed again."""
    results: list[ImportResultOut] = []
    for mention in body.mentions:
        request = _mention_request(body.government_code, mention)
        outcome: Literal["created", "duplicate", "rejected"] = "created"
        ticket, errors = "", []
        try:
            filed = await gateway.clients.complaints.file(request, ctx=ctx)
            ticket = filed.ticket_id
            outcome = "duplicate" if filed.duplicate_delivery else "created"
        except UpstreamError as exc:
            if exc.code != grpc.StatusCode.INVALID_ARGUMENT:
                raise
            outcome = "rejected"
            errors = [{"field": v.field, "description": v.description} for v in exc.violations] or [
                {"field": "", "description": exc.message}
            ]
        results.append(
            ImportResultOut(
                platform=mention.platform, post_id=mention.post_id, outcome=outcome, ticket_id=ticket, errors=errors
            )
        )
    return ImportOut(
        created=sum(r.outcome == "created" for r in results),
        duplicates=sum(r.outcome == "duplicate" for r in results),
        rejected=sum(r.outcome == "rejected" for r in results),
        results=results,
    )


# Operator entry (staff).


@router.post(
    "/api/v1/complaints/operator",
    response_model=FiledOut,
    status_code=status.HTTP_201_CREATED,
    summary="Enter a hotline call or a walk-in visit (officers), optionally for a village head",
    responses=_STAFF_PROBLEMS,
)
async def operator_entry(
    *, body: Annotated[OperatorEntryIn, Body()], caller: Officer, ctx: Ctx, gateway: GatewayDep
) -> FiledOut:
    """The officer is recorded; the complainant (the villager, for a village head) gets the ticket and PIN."""
    request = file_request(body)
    if body.submitted_by is not None:
        request.submitted_by.name = body.submitted_by.name
        request.submitted_by.village_code = body.submitted_by.village_code
        request.submitted_by.role = complaint_pb2.SubmitterRole.Value(
            f"SUBMITTER_ROLE_{body.submitted_by.role.upper()}"
        )
    filed = await gateway.clients.complaints.file(request, ctx=ctx)
    return FiledOut(
        ticket_id=filed.ticket_id,
        pin=filed.pin,
        status=enum_name(complaint_pb2.ComplaintStatus, filed.status, "COMPLAINT_STATUS_"),
        receive_time=timestamp(filed.receive_time),
    )
