"""Complaint channels: the WhatsApp Cloud API and SMS webhooks, social-media mentions and operator entry.

Every channel ends in the complaints service's FileComplaint, which is idempotent per
delivery: the channel's own message id travels as `channel_message_id`, so a webhook that
is delivered twice (Meta and SMS gateways retry until they get a 2xx) makes one complaint,
and the redelivery gets the same ticket back with `duplicate_delivery` and no new PIN.

* WhatsApp: `GET /webhooks/whatsapp` answers Meta's verification handshake; `POST` checks
  `X-Hub-Signature-256` (HMAC-SHA256 of the raw body under the app secret) before the body
  is parsed at all. A valid delivery is answered 200 at once; messages the complaints
  service refuses (too short, a foreign number) are logged and acknowledged, since a retry
  cannot fix them. Only when the complaints service (or, for an image, the Graph API) is
  unreachable does the webhook fail (503), so that Meta delivers again later — safe,
  because intake is idempotent.
* WhatsApp messages by type. A `text` is a complaint. An `image` is fetched through the
  Graph API (`GET {GRMS_GATEWAY_WHATSAPP_GRAPH_URL}/{media-id}` gives a short-lived URL,
  fetched with the same bearer token; both under media.py's SSRF guard, the photo size
  limit, and its `sha256` checked); with a caption it is a complaint of its own (the
  caption the text, the image its photo), without one it joins the sender's complaint. A
  `location` joins the sender's complaint as its point. "The sender's complaint" is the
  newest one the same number filed through WhatsApp within
  `GRMS_GATEWAY_WHATSAPP_ATTACH_WINDOW` seconds (30 minutes by default), which is how
  people report on WhatsApp — text, then photo, then location. With no such complaint the
  image or location is acknowledged and ignored (counted), rather than filed as a
  complaint without words; a redelivery joins nothing twice. Images need
  `GRMS_GATEWAY_WHATSAPP_ACCESS_TOKEN`; without it they are ignored.
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

import base64
import dataclasses
import datetime as dt
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
from grms_kit.identity import Identity, Role
from pydantic import SecretStr, ValidationError

from grms_gateway.auth import Caller, call_context, require_role
from grms_gateway.clients import CallContext
from grms_gateway.errors import ApiProblem, UpstreamError
from grms_gateway.media import FetchError, fetch, fetch_photo
from grms_gateway.schemas.channels import (
    ImportOut,
    ImportResultOut,
    MentionIn,
    OperatorEntryIn,
    SmsIn,
    SmsOut,
    SocialImportIn,
    WaImage,
    WaLocation,
    WaMessage,
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
#: The Graph API's answer about a media id is a small JSON object.
GRAPH_ANSWER_MAX_BYTES = 64 * 1024

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


def _same_hash(content: bytes, given: str) -> bool:
    # Meta's documents show the media's SHA-256 both hex- and base64-encoded: accept either.
    digest = hashlib.sha256(content).digest()
    return given.strip().lower() == digest.hex() or given.strip() == base64.b64encode(digest).decode()


async def _whatsapp_photo(gateway: Gateway, image: WaImage, token: str) -> bytes:
    """The bytes of an image message: its URL from the Graph API, then the media with the same token."""
    auth = {"Authorization": f"Bearer {token}"}
    policy = gateway.settings.media_fetch_policy()
    graph = f"{gateway.settings.whatsapp_graph_url.rstrip('/')}/{image.id}"
    answer, _ = await fetch(graph, dataclasses.replace(policy, max_bytes=GRAPH_ANSWER_MAX_BYTES), headers=auth)
    try:
        url = json.loads(answer)["url"]
    except (ValueError, KeyError, TypeError):
        raise FetchError("the Graph API answered without a media url") from None
    if not isinstance(url, str):
        raise FetchError("the Graph API answered without a media url")
    photo = await fetch_photo(url, policy, headers=auth)
    if image.sha256 and not _same_hash(photo, image.sha256):
        raise FetchError("the media does not match the sha256 of the message")
    return photo


def _channel_identity(government: str) -> Identity:
    # Joining a follow-up message is for channel gateways (role service), not for anyone on the network.
    return Identity(sub="channel:whatsapp", roles=frozenset({Role.SERVICE}), government=government, name="WhatsApp")


async def _join(gateway: Gateway, message: WaMessage, *, photo: bytes = b"", location: WaLocation | None = None) -> str:
    """Join an image without caption or a location to the sender's recent complaint: the outcome."""
    window = int(gateway.settings.whatsapp_attach_window)
    if window <= 0:
        return "ignored"
    government = gateway.settings.channel_government
    request = pb.AttachChannelMessageRequest(
        government_code=government,
        channel=complaint_pb2.COMPLAINT_CHANNEL_WHATSAPP,
        sender_phone="+" + message.from_.lstrip("+"),
        window_seconds=window,
        photo=photo,
    )
    if location is not None:
        request.location.point.latitude = location.latitude
        request.location.point.longitude = location.longitude
        request.location.address = ", ".join(p.strip() for p in (location.name, location.address) if p.strip())[:500]
    token = gateway.codec.issue(_channel_identity(government), ttl=dt.timedelta(minutes=1))
    try:
        answer = await gateway.clients.complaints.call(
            "AttachChannelMessage", request, ctx=gateway.clients.context(token)
        )
    except UpstreamError as exc:
        if exc.code == grpc.StatusCode.NOT_FOUND:
            log.info("whatsapp: %s message %s has no recent complaint to join", message.type, message.id)
            return "ignored"
        if exc.code not in (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.FAILED_PRECONDITION):
            raise
        log.warning("whatsapp: %s message %s refused: %s", message.type, message.id, exc.message)
        return "rejected"
    return "attached" if answer.changed else "duplicate"


async def _whatsapp_message(gateway: Gateway, message: WaMessage, name: str) -> str:
    """Take one message; its outcome: received, duplicate, attached, ignored or rejected."""
    complainant = complaint_pb2.Complainant(name=name if len(name) >= 2 else "", phone="+" + message.from_.lstrip("+"))

    def request(text: str) -> pb.FileComplaintRequest:
        return _message_request(
            government=gateway.settings.channel_government,
            channel=complaint_pb2.COMPLAINT_CHANNEL_WHATSAPP,
            delivery_id=message.id,
            text=text,
            title_fallback="Aduan melalui WhatsApp",
            complainant=complainant,
        )

    if message.type == "text" and message.text is not None and message.text.body.strip():
        return _tally_filed(await _file_message(gateway, request(message.text.body)))
    if message.type == "location" and message.location is not None:
        return await _join(gateway, message, location=message.location)
    if message.type != "image" or message.image is None:
        return "ignored"
    token = gateway.settings.whatsapp_access_token
    if token is None or not token.get_secret_value():
        log.warning("whatsapp: image %s ignored: GRMS_GATEWAY_WHATSAPP_ACCESS_TOKEN is not set", message.id)
        return "ignored"
    try:
        photo = await _whatsapp_photo(gateway, message.image, token.get_secret_value())
    except FetchError as exc:
        if exc.transient:  # Meta delivers again later; what was filed is recognised then
            raise ApiProblem(503, "problem.unavailable", f"WhatsApp media: {exc}", channel="whatsapp") from None
        log.warning("whatsapp: image %s refused: %s", message.id, exc)
        return "rejected"
    if not message.image.caption.strip():
        return await _join(gateway, message, photo=photo)
    filing = request(message.image.caption)
    filing.photos.append(photo)
    return _tally_filed(await _file_message(gateway, filing))


def _tally_filed(filed: pb.FileComplaintResponse | None) -> str:
    if filed is None:
        return "rejected"
    return "duplicate" if filed.duplicate_delivery else "received"


@router.post(
    "/webhooks/whatsapp",
    response_model=WebhookOut,
    summary="WhatsApp Cloud API webhook: texts and captioned images become complaints, photos and locations join",
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
    counts = {"received": 0, "duplicate": 0, "attached": 0, "ignored": 0, "rejected": 0}
    if payload.object == "whatsapp_business_account":
        for entry in payload.entry:
            for change in entry.changes:
                if change.field != "messages":
                    continue
                names = {c.wa_id: c.profile.name.strip() for c in change.value.contacts}
                for message in change.value.messages:
                    counts[await _whatsapp_message(gateway, message, names.get(message.from_, ""))] += 1
    return WebhookOut(
        received=counts["received"],
        duplicates=counts["duplicate"],
        attached=counts["attached"],
        ignored=counts["ignored"],
        rejected=counts["rejected"],
    )


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
