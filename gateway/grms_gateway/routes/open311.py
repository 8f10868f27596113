"""Open311 GeoReport v2 over the complaints service, in JSON and XML (DOMAIN §3.1).

One jurisdiction, `jatengprov.go.id` (the Province of Central Java, region code 33); the
services are the complaint categories the complaints service is configured with. Field and
element names are the spec's. A service request id is our ticket id, and a token is the
ticket id too: requests are created synchronously, so a token resolves at once.

Privacy: GET answers come from ListPublicComplaints, which leaves confidential complaints
out in its query (404 by id, absent from lists), redacts the text and drops the location of
anonymous complaints; no personal field is ever part of a GeoReport request object. The
first_name, last_name, email and phone of a POST become the complainant's identity, stored
apart by the complaints service.

Photos: a POST may name a `media_url`, which the gateway fetches under media.py's SSRF
guard (public addresses only, each redirect re-checked, timeouts, the photo size limit), and
may carry the photo itself as a multipart `media` file (a common GeoReport v2 extension).
Either way the bytes take the web form's path: type read from the bytes, EXIF stripped and
stored by SHA-256 in the complaints service. A photo that cannot be fetched or is not a
JPEG, PNG or WebP within the limit refuses the whole request (400 naming the field), and
nothing is filed. A GET's `media_url` is the gateway's public URL of the complaint's first
photo; confidential complaints are never listed, so never have one.

Villages: the spec's `address_id` ("the internal address ID used by a jurisdiction's master
address repository") is the Kemendagri village code ("33.74.01.1001") here, in a POST and
in a GET; `attribute[village_code]`, declared in each service definition, is the same field
for clients that only send attributes. The complaints service validates it as it does the
web form's. A GET shows it only where the public rules show a location (not for anonymous
complaints), beside the point rounded to about 100 m.

Errors are the spec's list of {code, description} (`<errors><error>` in XML): 400 for a
missing or invalid field or an unknown service_code, 403 for a missing or invalid api_key,
404 for an unknown request, jurisdiction or format, 429 with Retry-After when a POST goes
over the rate limit per client IP (checked before the body is read) or per api_key (after
the key is verified: an unknown key never gets a bucket), or a GET over the public read limit
per client IP — see throttle.py, whose handler answers through `rate_limited_answer`.
"""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET
from typing import Annotated, Any

import grpc
from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from grms.complaints.v1 import complaint_pb2
from grms.complaints.v1 import complaints_service_pb2 as pb
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException

from grms_gateway.auth import API_KEY_TOKEN_TTL
from grms_gateway.clients import CallContext
from grms_gateway.errors import GRPC_TO_HTTP, ApiProblem, UpstreamError
from grms_gateway.i18n import WIB, translate
from grms_gateway.media import FetchError, fetch_photo
from grms_gateway.routes.complaint_photos import check_photo
from grms_gateway.schemas.complaints import enum_name, timestamp
from grms_gateway.state import Gateway, get_gateway
from grms_gateway.throttle import RateLimited, check, limited

__all__ = ["GOVERNMENT_CODE", "JURISDICTION_ID", "rate_limited_answer", "router"]

JURISDICTION_ID = "jatengprov.go.id"
GOVERNMENT_CODE = "33"
CHANGESET = "2026-11-24T00:00:00+07:00"
SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
DEFAULT_WINDOW = dt.timedelta(days=90)
MAX_RESULTS = 1000
MAX_DESCRIPTION = 4000
CLOSED = frozenset({"resolved", "closed", "rejected"})
XML = "application/xml; charset=utf-8"
_URL = re.compile(r"^https?://[^\s<>\"]{1,490}$")
#: The one attribute our services define: where the problem is, as a Kemendagri village code.
VILLAGE_ATTRIBUTE = "village_code"
#: Fields of the complaints service's answers under the names an Open311 client sent.
_FIELD_NAMES = {"location.village_code": f"attribute[{VILLAGE_ATTRIBUTE}]", "photos[0]": "media_url"}

router = APIRouter(prefix="/open311/v2", tags=["open311"])
#: The GETs count against the public read limit, per client IP (a 429 in the spec's format: rate_limited_answer).
_PUBLIC_READ = Depends(limited("public_read"))
GatewayDep = Annotated[Gateway, Depends(get_gateway)]


class Open311Error(Exception):
    """An Open311 error answer: an HTTP status and the spec's list of {code, description}."""

    def __init__(self, status: int, *descriptions: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(f"{status}: {'; '.join(descriptions)}")
        self.status = status
        self.descriptions = descriptions or ("error",)
        self.headers = headers or {}

    @classmethod
    def too_many(cls, exc: RateLimited) -> Open311Error:
        """429 with Retry-After for a client over its rate limit."""
        return cls(
            429,
            f"too many requests; try again in {exc.retry_after} seconds",
            headers={"Retry-After": str(exc.retry_after)},
        )


def _format(fmt: str) -> str:
    if fmt not in ("json", "xml"):
        raise Open311Error(404, f"format {fmt!r} is not supported: use .json or .xml")
    return fmt


def _xml_value(parent: ET.Element, key: str, value: Any) -> None:
    child = ET.SubElement(parent, key)
    if isinstance(value, bool):
        child.text = "true" if value else "false"
    elif value is not None:
        child.text = str(value)


def _xml(root: str, item: str, items: list[dict[str, Any]]) -> bytes:
    top = ET.Element(root)
    for entry in items:
        element = ET.SubElement(top, item)
        for key, value in entry.items():
            _xml_value(element, key, value)
    return ET.tostring(top, encoding="utf-8", xml_declaration=True)


def _answer(
    fmt: str,
    root: str,
    item: str,
    items: list[dict[str, Any]],
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    if fmt == "xml":
        return Response(_xml(root, item, items), status_code=status, media_type=XML, headers=headers)
    return JSONResponse(items, status_code=status, headers=headers)


def rate_limited_answer(request: Request, exc: RateLimited) -> Response:
    """A 429 for a client over a limit, in the spec's error format (the format of the URL asked for)."""
    return _error_response("xml" if request.url.path.endswith(".xml") else "json", Open311Error.too_many(exc))


def _error_response(fmt: str, err: Open311Error) -> Response:
    items = [{"code": err.status, "description": d} for d in err.descriptions]
    fmt = fmt if fmt in ("json", "xml") else "json"
    return _answer(fmt, "errors", "error", items, status=err.status, headers=err.headers)


def _from_upstream(err: UpstreamError, names: dict[str, str] | None = None) -> Open311Error:
    status, _ = GRPC_TO_HTTP.get(err.code, (500, ""))
    if err.code == grpc.StatusCode.INVALID_ARGUMENT:
        named = names or {}
        described = [f"{named.get(v.field, v.field)}: {v.description}" for v in err.violations]
        return Open311Error(400, *(described or [err.message]))
    if err.code == grpc.StatusCode.NOT_FOUND:
        return Open311Error(404, "not found")
    if err.code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
        return Open311Error(503, f"the {err.service} service is unavailable; try again shortly")
    return Open311Error(status if status >= 400 else 500, "the request could not be completed")


def _check_jurisdiction(value: str | None) -> None:
    if value and value != JURISDICTION_ID:
        raise Open311Error(404, f"jurisdiction_id {value!r} not found; this endpoint serves {JURISDICTION_ID}")


def _iso(value: dt.datetime | None) -> str | None:
    return value.astimezone(WIB).isoformat(timespec="seconds") if value else None


def _parse_date(name: str, raw: str | None) -> dt.datetime | None:
    if not raw:
        return None
    try:
        value = dt.datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
    except ValueError:
        raise Open311Error(400, f"{name} must be an ISO 8601 date-time like 2026-11-24T08:00:00+07:00") from None
    return value if value.tzinfo else value.replace(tzinfo=WIB)


def _service(c: pb.Category) -> dict[str, Any]:
    return {
        "service_code": c.code,
        "service_name": c.name,
        "description": c.description,
        "metadata": True,
        "type": "realtime",
        "keywords": ", ".join(c.keywords),
        "group": c.group,
    }


def _status(value: int) -> str:
    return enum_name(complaint_pb2.ComplaintStatus, value, "COMPLAINT_STATUS_")


def _village_attribute() -> dict[str, Any]:
    return {
        "variable": True,
        "code": VILLAGE_ATTRIBUTE,
        "datatype": "string",
        "required": False,
        "datatype_description": "Kode wilayah Kemendagri desa/kelurahan, misalnya 33.74.01.1001",
        "order": 1,
        "description": "Desa/kelurahan tempat masalah (opsional; sama dengan address_id)",
    }


def _media_url(base: str, c: pb.PublicComplaint) -> str:
    # The public photo route serves it to anyone while the complaint is not confidential.
    return f"{base}/api/v1/complaints/{c.ticket_id}/photos/{c.first_photo_sha256}" if c.first_photo_sha256 else ""


def _request_object(
    c: pb.PublicComplaint, services: dict[str, str], agencies: dict[str, str], base: str
) -> dict[str, Any]:
    status = _status(c.status)
    has_point = c.HasField("location") and c.location.HasField("point")
    updated = timestamp(c.update_time)
    return {
        "service_request_id": c.ticket_id,
        "status": "closed" if status in CLOSED else "open",
        "status_notes": translate(f"complaint.status.{status}", "id"),
        "service_name": services.get(c.category_code, c.category_code),
        "service_code": c.category_code,
        "description": c.description,
        "agency_responsible": agencies.get(c.agency_code, c.agency_code),
        "service_notice": "",
        "requested_datetime": _iso(timestamp(c.receive_time)),
        "updated_datetime": _iso(updated),
        "expected_datetime": _iso(timestamp(c.resolve_due_time)),
        "address": c.location.address if c.HasField("location") else "",
        "address_id": c.location.village_code if c.HasField("location") else "",
        "zipcode": "",
        "lat": c.location.point.latitude if has_point else None,
        "long": c.location.point.longitude if has_point else None,
        "media_url": _media_url(base, c),
    }


async def _names(gateway: Gateway, ctx: CallContext) -> tuple[dict[str, str], dict[str, str]]:
    complaints = gateway.clients.complaints
    categories = await complaints.categories(ctx=ctx)
    agencies = await complaints.agencies(GOVERNMENT_CODE, ctx=ctx)
    return {c.code: c.name for c in categories}, {a.code: a.name for a in agencies}


async def _public(gateway: Gateway, ctx: CallContext, request: pb.ListPublicComplaintsRequest) -> list[Any]:
    out: list[Any] = []
    token = ""
    while len(out) < MAX_RESULTS:
        request.page.page_size = 500
        request.page.page_token = token
        page = await gateway.clients.complaints.list_public(request, ctx=ctx)
        out.extend(page.complaints)
        token = page.page.next_page_token
        if not token:
            break
    return out[:MAX_RESULTS]


def _ctx(gateway: Gateway) -> CallContext:
    return gateway.clients.context(None)


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


@router.get("/discovery.{fmt}", summary="Open311 service discovery")
async def discovery(fmt: str, request: Request) -> Response:
    """Where the endpoint is and what it speaks."""
    try:
        fmt = _format(fmt)
    except Open311Error as err:
        return _error_response(fmt, err)
    url = str(request.base_url).rstrip("/") + "/open311/v2"
    endpoint = {
        "specification": SPECIFICATION,
        "url": url,
        "changeset": CHANGESET,
        "type": "production",
        "formats": ["text/xml", "application/json"],
    }
    body = {
        "changeset": CHANGESET,
        "contact": "LaporGub! — Pemerintah Provinsi Jawa Tengah",
        "key_service": "API keys are issued by the GRMS administrators of the jurisdiction.",
        "endpoints": [endpoint],
    }
    if fmt == "json":
        return JSONResponse(body)
    root = ET.Element("discovery")
    for key in ("changeset", "contact", "key_service"):
        _xml_value(root, key, body[key])
    endpoints = ET.SubElement(root, "endpoints")
    element = ET.SubElement(endpoints, "endpoint")
    for key in ("specification", "url", "changeset", "type"):
        _xml_value(element, key, endpoint[key])
    formats = ET.SubElement(element, "formats")
    for value in endpoint["formats"]:
        _xml_value(formats, "format", value)
    return Response(ET.tostring(root, encoding="utf-8", xml_declaration=True), media_type=XML)


@router.get("/services.{fmt}", summary="Open311 service list (the complaint categories)", dependencies=[_PUBLIC_READ])
async def services(fmt: str, request: Request, gateway: GatewayDep) -> Response:
    try:
        fmt = _format(fmt)
        _check_jurisdiction(request.query_params.get("jurisdiction_id"))
        categories = await gateway.clients.complaints.categories(ctx=_ctx(gateway))
        return _answer(fmt, "services", "service", [_service(c) for c in categories])
    except UpstreamError as err:
        return _error_response(fmt, _from_upstream(err))
    except Open311Error as err:
        return _error_response(fmt, err)


@router.get("/services/{service_code}.{fmt}", summary="Open311 service definition", dependencies=[_PUBLIC_READ])
async def service_definition(service_code: str, fmt: str, request: Request, gateway: GatewayDep) -> Response:
    """Each service defines one optional attribute: the village code (`attribute[village_code]`)."""
    try:
        fmt = _format(fmt)
        _check_jurisdiction(request.query_params.get("jurisdiction_id"))
        categories = await gateway.clients.complaints.categories(ctx=_ctx(gateway))
        if service_code not in {c.code for c in categories}:
            raise Open311Error(404, f"service_code {service_code!r} not found")
    except UpstreamError as err:
        return _error_response(fmt, _from_upstream(err))
    except Open311Error as err:
        return _error_response(fmt, err)
    attribute = _village_attribute()
    if fmt == "json":
        return JSONResponse({"service_code": service_code, "attributes": [{**attribute, "values": []}]})
    root = ET.Element("service_definition")
    _xml_value(root, "service_code", service_code)
    element = ET.SubElement(ET.SubElement(root, "attributes"), "attribute")
    for key, value in attribute.items():
        _xml_value(element, key, value)
    ET.SubElement(element, "values")
    return Response(ET.tostring(root, encoding="utf-8", xml_declaration=True), media_type=XML)


@router.get(
    "/requests.{fmt}", summary="Open311 service requests (public; never confidential ones)", dependencies=[_PUBLIC_READ]
)
async def get_requests(fmt: str, request: Request, gateway: GatewayDep) -> Response:
    """Filters: service_request_id (comma list; the others are then ignored), service_code,
    start_date, end_date (default: the last 90 days), status (open, closed); at most 1000."""
    q = request.query_params
    try:
        fmt = _format(fmt)
        _check_jurisdiction(q.get("jurisdiction_id"))
        query = pb.ListPublicComplaintsRequest(government_code=GOVERNMENT_CODE)
        ids = [i.strip() for i in (q.get("service_request_id") or "").split(",") if i.strip()]
        if ids:
            if len(ids) > 100:
                raise Open311Error(400, "service_request_id: at most 100 ids")
            query.ticket_ids.extend(ids)
        else:
            query.category_code = (q.get("service_code") or "").strip()
            start = _parse_date("start_date", q.get("start_date"))
            end = _parse_date("end_date", q.get("end_date"))
            if start is None and end is None:
                start = dt.datetime.now(dt.UTC) - DEFAULT_WINDOW
            if start is not None:
                query.start_time.FromDatetime(start.astimezone(dt.UTC))
            if end is not None:
                query.end_time.FromDatetime(end.astimezone(dt.UTC))
            wanted = {s.strip() for s in (q.get("status") or "").split(",") if s.strip()}
            if wanted - {"open", "closed"}:
                raise Open311Error(400, "status must be open, closed or both (comma-separated)")
            if wanted == {"open"} or wanted == {"closed"}:
                closed = "closed" in wanted
                query.statuses.extend(
                    complaint_pb2.ComplaintStatus.Value(f"COMPLAINT_STATUS_{name.upper()}")
                    for name in ("received", "verified", "assigned", "in_progress", "responded", *CLOSED)
                    if (name in CLOSED) == closed
                )
        ctx = _ctx(gateway)
        found = await _public(gateway, ctx, query)
        services_by_code, agencies = await _names(gateway, ctx)
        items = [_request_object(c, services_by_code, agencies, _base(request)) for c in found]
        return _answer(fmt, "service_requests", "request", items)
    except UpstreamError as err:
        return _error_response(fmt, _from_upstream(err))
    except Open311Error as err:
        return _error_response(fmt, err)


@router.get("/requests/{service_request_id}.{fmt}", summary="Open311 one service request", dependencies=[_PUBLIC_READ])
async def get_request(service_request_id: str, fmt: str, request: Request, gateway: GatewayDep) -> Response:
    """404 for an unknown id, and for a confidential complaint, which is not public."""
    try:
        fmt = _format(fmt)
        _check_jurisdiction(request.query_params.get("jurisdiction_id"))
        ctx = _ctx(gateway)
        query = pb.ListPublicComplaintsRequest(government_code=GOVERNMENT_CODE, ticket_ids=[service_request_id])
        found = await _public(gateway, ctx, query)
        if not found:
            raise Open311Error(404, f"service request {service_request_id!r} not found")
        services_by_code, agencies = await _names(gateway, ctx)
        item = _request_object(found[0], services_by_code, agencies, _base(request))
        return _answer(fmt, "service_requests", "request", [item])
    except UpstreamError as err:
        return _error_response(fmt, _from_upstream(err))
    except Open311Error as err:
        return _error_response(fmt, err)


@router.get("/tokens/{token}.{fmt}", summary="Open311 service request id for a token", dependencies=[_PUBLIC_READ])
async def get_token(token: str, fmt: str, request: Request, gateway: GatewayDep) -> Response:
    """Requests are created at once, so a token (the ticket id) resolves immediately."""
    try:
        fmt = _format(fmt)
        _check_jurisdiction(request.query_params.get("jurisdiction_id"))
        query = pb.ListPublicComplaintsRequest(government_code=GOVERNMENT_CODE, ticket_ids=[token])
        found = await _public(gateway, _ctx(gateway), query)
        if not found:
            raise Open311Error(404, f"token {token!r} not found")
        return _answer(fmt, "service_requests", "request", [{"service_request_id": found[0].ticket_id, "token": token}])
    except UpstreamError as err:
        return _error_response(fmt, _from_upstream(err))
    except Open311Error as err:
        return _error_response(fmt, err)


def _title(service_name: str, description: str) -> str:
    first = " ".join(description.split())
    if len(first) > 80:
        first = first[:80].rsplit(" ", 1)[0] + "…"
    return f"{service_name}: {first}"[:200]


def _declared_too_large(request: Request, max_bytes: int) -> bool:
    # Before the body is parsed: a photo and a generous form at most.
    declared = request.headers.get("content-length", "")
    return declared.isdigit() and int(declared) > max_bytes + 1024 * 1024


async def _form(request: Request, max_bytes: int) -> tuple[dict[str, str], UploadFile | None]:
    if _declared_too_large(request, max_bytes):
        raise Open311Error(400, f"media: the request is larger than the photo limit of {max_bytes} bytes")
    try:
        form = await request.form(max_files=1)
    except StarletteHTTPException as exc:
        raise Open311Error(400, f"the form cannot be read: {exc.detail}") from None
    upload = form.get("media")
    values = {k: v for k, v in form.items() if isinstance(v, str)}
    return values, upload if isinstance(upload, UploadFile) and upload.size else None


async def _uploaded_photo(upload: UploadFile, max_bytes: int) -> bytes:
    data = await upload.read(max_bytes + 1)
    try:
        check_photo(data, max_bytes=max_bytes, field="media")
    except ApiProblem as problem:
        reason = "larger than the photo limit" if problem.status == 413 else "not a JPEG, PNG or WebP image"
        raise Open311Error(400, f"media: {reason} ({max_bytes} bytes at most)") from None
    return data


def _village(values: dict[str, str], problems: list[str]) -> tuple[str, str]:
    """The village code and the name of the field it came from (address_id or the attribute)."""
    by_attribute = values.get(f"attribute[{VILLAGE_ATTRIBUTE}]", "").strip()
    by_address_id = values.get("address_id", "").strip()
    if by_attribute and by_address_id and by_attribute != by_address_id:
        problems.append(f"address_id and attribute[{VILLAGE_ATTRIBUTE}] name different villages")
    if by_attribute:
        return by_attribute, f"attribute[{VILLAGE_ATTRIBUTE}]"
    return by_address_id, "address_id"


_POST_FIELDS: dict[str, Any] = {
    "api_key": {"type": "string"},
    "service_code": {"type": "string"},
    "lat": {"type": "number"},
    "long": {"type": "number"},
    "address_string": {"type": "string"},
    "address_id": {"type": "string", "description": "Kemendagri village code, like 33.74.01.1001"},
    f"attribute[{VILLAGE_ATTRIBUTE}]": {"type": "string", "description": "The same village code"},
    "description": {"type": "string", "maxLength": MAX_DESCRIPTION},
    "media_url": {"type": "string", "description": "An http(s) photo URL the gateway fetches (public hosts only)"},
    "first_name": {"type": "string"},
    "last_name": {"type": "string"},
    "email": {"type": "string"},
    "phone": {"type": "string"},
}
_POST_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/x-www-form-urlencoded": {"schema": {"type": "object", "properties": _POST_FIELDS}},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {**_POST_FIELDS, "media": {"type": "string", "format": "binary"}},
                }
            },
        },
    }
}


@router.post("/requests.{fmt}", summary="Open311 create a service request (api_key required)", openapi_extra=_POST_BODY)
async def post_request(fmt: str, request: Request, gateway: GatewayDep) -> Response:
    """Form-encoded (as the spec says) or multipart: api_key, service_code, lat+long, address_string
    or address_id (a village code), description, media_url or a `media` file, attribute[village_code],
    first_name, last_name, email, phone. Rate-limited per client IP and per api_key (429)."""
    try:
        fmt = _format(fmt)
        check(request, "open311_ip")
        max_bytes = gateway.settings.complaint_photo_max_bytes
        values, upload = await _form(request, max_bytes)
        _check_jurisdiction(values.get("jurisdiction_id"))
        key = await gateway.accounts.verify_api_key(values.get("api_key", "")) if values.get("api_key") else None
        if key is None:
            raise Open311Error(403, "api_key is missing or invalid")
        check(request, "open311_key", key.api_key_id)
        ctx = gateway.clients.context(gateway.codec.issue(key.identity(), ttl=API_KEY_TOKEN_TTL))
        problems: list[str] = []
        service_code = values.get("service_code", "").strip()
        categories = {c.code: c for c in await gateway.clients.complaints.categories(ctx=ctx)}
        if not service_code:
            problems.append("service_code is required")
        elif service_code not in categories:
            problems.append(f"service_code {service_code!r} is not a known service")
        description = values.get("description", "").strip()
        if not description:
            problems.append("description is required")
        elif len(description) > MAX_DESCRIPTION:
            problems.append(f"description must be at most {MAX_DESCRIPTION} characters")
        lat_raw, long_raw = values.get("lat", "").strip(), values.get("long", "").strip()
        address = values.get("address_string", "").strip()
        village, village_field = _village(values, problems)
        lat = lon = None
        if lat_raw or long_raw:
            try:
                lat, lon = float(lat_raw), float(long_raw)
            except ValueError:
                problems.append("lat and long must both be decimal degrees (WGS84)")
        elif not address and not village:
            problems.append("a location is required: lat and long, address_string, or address_id (a village code)")
        attributes = [k for k in values if k.startswith("attribute[") and k != f"attribute[{VILLAGE_ATTRIBUTE}]"]
        if attributes:
            problems.append(
                f"{service_code or 'this service'} defines only attribute[{VILLAGE_ATTRIBUTE}], not: "
                + ", ".join(attributes)
            )
        media_url = values.get("media_url", "").strip()
        if media_url and not _URL.match(media_url):
            problems.append("media_url must be an http(s) URL")
        if problems:
            raise Open311Error(400, *problems)
        # Only now, for a valid request of a known client, does the gateway fetch anything.
        photos: list[bytes] = []
        names = {"location.village_code": village_field}
        if media_url:
            try:
                photos.append(await fetch_photo(media_url, gateway.settings.media_fetch_policy()))
            except FetchError as exc:
                raise Open311Error(400, f"media_url: {exc}") from None
            names[f"photos[{len(photos) - 1}]"] = "media_url"
        if upload is not None:
            photos.append(await _uploaded_photo(upload, max_bytes))
            names[f"photos[{len(photos) - 1}]"] = "media"
        filed = pb.FileComplaintRequest(
            government_code=GOVERNMENT_CODE,
            complaint_class=complaint_pb2.COMPLAINT_CLASS_PENGADUAN,
            category_code=service_code,
            channel=complaint_pb2.COMPLAINT_CHANNEL_APP,
            title=_title(categories[service_code].name, description),
            description=description,
            complainant=complaint_pb2.Complainant(
                name=" ".join(f"{values.get('first_name', '')} {values.get('last_name', '')}".split()),
                phone=values.get("phone", "").strip(),
                email=values.get("email", "").strip(),
            ),
            photos=photos,
        )
        filed.location.address = address
        filed.location.village_code = village
        if lat is not None and lon is not None:
            filed.location.point.latitude = lat
            filed.location.point.longitude = lon
        try:
            answer = await gateway.clients.complaints.file(filed, ctx=ctx)
        except UpstreamError as err:
            raise _from_upstream(err, names) from None
    except UpstreamError as err:
        return _error_response(fmt, _from_upstream(err))
    except Open311Error as err:
        return _error_response(fmt, err)
    notice = (
        f"Tiket {answer.ticket_id}, PIN {answer.pin}. Simpan keduanya: PIN hanya ditampilkan sekali "
        "dan diperlukan untuk melacak pengaduan di /pengaduan/lacak."
    )
    item = {"service_request_id": answer.ticket_id, "service_notice": notice, "account_id": ""}
    return _answer(fmt, "service_requests", "request", [item], status=201)
