"""Every error the gateway returns, as an RFC 9457 `application/problem+json` in the caller's language.

gRPC status codes map to HTTP with the grpc-gateway table. FAILED_PRECONDITION maps to 400
as in grpc-gateway, not 412: in GRMS it means "not allowed in this workflow state", which
is not an HTTP precondition; a stale `If-Match` arrives as ABORTED and becomes 409.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import grpc
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from google.rpc import error_details_pb2, status_pb2
from grms_kit.errors import (
    AlreadyExists,
    Conflict,
    DomainError,
    FailedPrecondition,
    FieldViolation,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    Unauthenticated,
)
from grpc_status import rpc_status
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, Response
from starlette.routing import Match

from grms_gateway.i18n import MESSAGES, Lang, negotiate, translate

__all__ = [
    "GRPC_TO_HTTP",
    "PROBLEM_JSON",
    "ApiProblem",
    "UpstreamError",
    "install_error_handlers",
    "problem_from_domain",
    "problem_from_upstream",
    "problem_response",
    "request_language",
]

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
RETRY_AFTER_SECONDS = 5

#: gRPC code → (HTTP status, title key), after grpc-gateway's runtime/errors.go table.
GRPC_TO_HTTP: dict[grpc.StatusCode, tuple[int, str]] = {
    grpc.StatusCode.OK: (200, "problem.internal"),
    grpc.StatusCode.CANCELLED: (499, "problem.internal"),
    grpc.StatusCode.UNKNOWN: (500, "problem.internal"),
    grpc.StatusCode.INVALID_ARGUMENT: (400, "problem.validation"),
    grpc.StatusCode.DEADLINE_EXCEEDED: (504, "problem.timeout"),
    grpc.StatusCode.NOT_FOUND: (404, "problem.not_found"),
    grpc.StatusCode.ALREADY_EXISTS: (409, "problem.conflict"),
    grpc.StatusCode.PERMISSION_DENIED: (403, "problem.forbidden"),
    grpc.StatusCode.UNAUTHENTICATED: (401, "problem.unauthenticated"),
    grpc.StatusCode.RESOURCE_EXHAUSTED: (429, "problem.too_many"),
    grpc.StatusCode.FAILED_PRECONDITION: (400, "problem.failed_precondition"),
    grpc.StatusCode.ABORTED: (409, "problem.conflict"),
    grpc.StatusCode.OUT_OF_RANGE: (400, "problem.bad_request"),
    grpc.StatusCode.UNIMPLEMENTED: (501, "problem.internal"),
    grpc.StatusCode.INTERNAL: (500, "problem.internal"),
    grpc.StatusCode.UNAVAILABLE: (503, "problem.unavailable"),
    grpc.StatusCode.DATA_LOSS: (500, "problem.internal"),
}

_SLUGS = {
    400: "bad-request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    409: "conflict",
    413: "too-large",
    415: "unsupported-media-type",
    422: "validation",
    429: "too-many-requests",
    499: "cancelled",
    500: "internal",
    501: "not-implemented",
    503: "unavailable",
    504: "timeout",
}


@dataclass
class UpstreamError(Exception):
    """A gRPC call to a service failed: which service, which method, the code and its details."""

    service: str
    method: str
    code: grpc.StatusCode
    message: str
    violations: list[FieldViolation] = field(default_factory=list)

    def __str__(self) -> str:
        return f"{self.service}.{self.method}: {self.code.name}: {self.message}"

    @classmethod
    def from_rpc_error(cls, exc: grpc.aio.AioRpcError, *, service: str, method: str) -> UpstreamError:
        """Build from a failed call, unpacking google.rpc.BadRequest field violations if any."""
        try:
            status = rpc_status.from_call(exc)  # type: ignore[arg-type]
        except ValueError:
            status = None
        violations = _violations(status) if status is not None else []
        return cls(service=service, method=method, code=exc.code(), message=exc.details() or "", violations=violations)

    @classmethod
    def from_status(cls, status: status_pb2.Status, *, service: str, method: str) -> UpstreamError:
        """Build from a google.rpc.Status (one failed item of a batch call), as from the same failed call."""
        code = _GRPC_CODES.get(status.code, grpc.StatusCode.UNKNOWN)
        return cls(service=service, method=method, code=code, message=status.message, violations=_violations(status))


_GRPC_CODES = {code.value[0]: code for code in grpc.StatusCode}


def _violations(status: status_pb2.Status) -> list[FieldViolation]:
    """The google.rpc.BadRequest field violations among `status`'s details."""
    violations: list[FieldViolation] = []
    for detail in status.details:
        if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad = error_details_pb2.BadRequest()
            detail.Unpack(bad)
            violations.extend(FieldViolation(v.field, v.description) for v in bad.field_violations)
    return violations


class ApiProblem(Exception):
    """Raise to answer with a problem: `title` and `detail` are i18n keys or plain text."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str | None = None,
        *,
        errors: Iterable[FieldViolation] = (),
        headers: dict[str, str] | None = None,
        values: dict[str, Any] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(f"{status} {title}")
        self.status = status
        self.title = title
        self.detail = detail
        self.errors = list(errors)
        self.headers = headers or {}
        self.values = values or {}
        self.extra = extra


def request_language(request: Request) -> Lang:
    """The language to answer `request` in."""
    return negotiate(
        query=request.query_params.get("lang"),
        cookies=request.cookies,
        accept_language=request.headers.get("accept-language"),
    )


def problem_response(request: Request, problem: ApiProblem) -> Response:
    """Render `problem` as application/problem+json in the caller's language."""
    lang = request_language(request)
    body: dict[str, Any] = {
        "type": f"urn:grms:problem:{_SLUGS.get(problem.status, str(problem.status))}",
        "title": translate(problem.title, lang),
        "status": problem.status,
    }
    if problem.detail:
        body["detail"] = translate(problem.detail, lang, **problem.values)
    body["instance"] = request.url.path
    if problem.errors:
        body["errors"] = [{"field": v.field, "description": v.description} for v in problem.errors]
    body.update(problem.extra)
    headers = {"Content-Language": lang, **problem.headers}
    return JSONResponse(body, status_code=problem.status, media_type=PROBLEM_JSON, headers=headers)


def problem_from_upstream(err: UpstreamError) -> ApiProblem:
    """The HTTP problem for a failed gRPC call (grpc-gateway table; names the service when it is down)."""
    status, title = GRPC_TO_HTTP.get(err.code, (500, "problem.internal"))
    extra: dict[str, Any] = {"code": err.code.name}
    headers: dict[str, str] = {}
    detail: str | None = err.message or None
    values: dict[str, Any] = {}
    if err.code == grpc.StatusCode.RESOURCE_EXHAUSTED:
        # So far only the complaints service's wrong-PIN limit (per ticket, 15 minutes).
        detail = "problem.too_many_detail"
    elif err.code == grpc.StatusCode.UNAVAILABLE:
        headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        detail, values = "problem.unavailable_detail", {"service": err.service}
        extra["service"] = err.service
    elif err.code == grpc.StatusCode.DEADLINE_EXCEEDED:
        detail, values = "problem.timeout_detail", {"service": err.service}
        extra["service"] = err.service
    elif err.code == grpc.StatusCode.ABORTED:
        detail = "problem.stale"
    elif err.code == grpc.StatusCode.ALREADY_EXISTS:
        detail = "problem.already_exists"
    elif err.code in (grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN, grpc.StatusCode.DATA_LOSS):
        # Never echo a service's internal message to the caller; it is in the logs.
        log.error("upstream failure: %s", err)
        detail = "problem.internal_detail"
    elif err.code == grpc.StatusCode.INVALID_ARGUMENT and not err.message:
        detail = "problem.validation_detail"
    return ApiProblem(status, title, detail, errors=err.violations, headers=headers, values=values, **extra)


def problem_from_domain(exc: DomainError) -> ApiProblem:
    """The HTTP problem for a DomainError raised inside the gateway (accounts, tokens)."""
    if isinstance(exc, InvalidArgument):
        return ApiProblem(400, "problem.validation", exc.message, errors=exc.violations)
    table: list[tuple[type[DomainError], int, str]] = [
        (Unauthenticated, 401, "problem.unauthenticated"),
        (PermissionDenied, 403, "problem.forbidden"),
        (NotFound, 404, "problem.not_found"),
        (AlreadyExists, 409, "problem.conflict"),
        (Conflict, 409, "problem.conflict"),
        (FailedPrecondition, 400, "problem.failed_precondition"),
    ]
    for cls, status, title in table:
        if isinstance(exc, cls):
            headers = {"WWW-Authenticate": "Bearer"} if status == 401 else {}
            return ApiProblem(status, title, exc.message, headers=headers)
    return ApiProblem(400, "problem.bad_request", exc.message)


def _validation_violations(exc: RequestValidationError, lang: Lang) -> list[FieldViolation]:
    out: list[FieldViolation] = []
    for err in exc.errors():
        loc = [str(part) for part in err.get("loc", ())]
        if loc and loc[0] in ("body", "query", "path", "header", "cookie"):
            loc = loc[1:] if len(loc) > 1 else loc
        kind = str(err.get("type", ""))
        known = f"validation.{kind}"
        description = translate(known, lang) if known in MESSAGES["id"] else str(err.get("msg", kind))
        out.append(FieldViolation(".".join(loc), description))
    return out


def _title_for(status: int) -> str:
    return {
        400: "problem.bad_request",
        401: "problem.unauthenticated",
        403: "problem.forbidden",
        404: "problem.not_found",
        405: "problem.method_not_allowed",
        409: "problem.conflict",
        413: "problem.too_large",
        415: "problem.unsupported_media_type",
        503: "problem.unavailable",
    }.get(status, "problem.internal" if status >= 500 else "problem.bad_request")


def _allowed_methods(request: Request) -> set[str]:
    """Every method some route serves at this path (Starlette names only the first route's).

    Asks each top-level route whether it fully matches the path with each method, since
    included routers keep their routes out of reach.
    """
    allowed: set[str] = set()
    for method in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"):
        probe = {**request.scope, "method": method}
        if any(route.matches(probe)[0] == Match.FULL for route in request.app.router.routes):
            allowed.add(method)
    return allowed


def install_error_handlers(app: FastAPI) -> None:
    """Make every error of `app` a problem: ours, gRPC's, FastAPI's 404/405/422 and the unexpected."""

    async def on_problem(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiProblem)
        return problem_response(request, exc)

    async def on_upstream(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, UpstreamError)
        return problem_response(request, problem_from_upstream(exc))

    async def on_domain(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, DomainError)
        return problem_response(request, problem_from_domain(exc))

    async def on_validation(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        lang = request_language(request)
        problem = ApiProblem(
            422, "problem.validation", "problem.validation_detail", errors=_validation_violations(exc, lang)
        )
        return problem_response(request, problem)

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        detail = {404: "problem.not_found_detail"}.get(exc.status_code)
        if detail is None and isinstance(exc.detail, str) and exc.detail not in ("Not Found", "Method Not Allowed"):
            detail = exc.detail
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = ", ".join(sorted(_allowed_methods(request)))
        return problem_response(
            request, ApiProblem(exc.status_code, _title_for(exc.status_code), detail, headers=headers)
        )

    async def on_unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        return problem_response(request, ApiProblem(500, "problem.internal", "problem.internal_detail"))

    app.add_exception_handler(ApiProblem, on_problem)
    app.add_exception_handler(UpstreamError, on_upstream)
    app.add_exception_handler(DomainError, on_domain)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(Exception, on_unexpected)
