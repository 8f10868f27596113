"""The RFC 9457 problem document, for the OpenAPI description of every error response."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

__all__ = ["FieldError", "Problem", "problem_responses"]


class FieldError(BaseModel):
    """One invalid field: a dotted path and why it is wrong."""

    field: str
    description: str


class Problem(BaseModel):
    """application/problem+json (RFC 9457), with GRMS extensions."""

    type: str
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    errors: list[FieldError] | None = None
    code: str | None = None
    service: str | None = None


_DESCRIPTIONS = {
    400: "Invalid request; `errors` lists the fields",
    401: "Login required (missing, wrong or expired credentials)",
    403: "Not allowed for this caller",
    404: "Not found",
    405: "Method not allowed",
    409: "Exists already, or changed since read (stale If-Match)",
    413: "Too large (a photo over the size limit)",
    415: "Unsupported media type (a photo that is not JPEG, PNG or WebP)",
    422: "The request does not match the schema; `errors` lists the fields",
    429: "Too many requests (a public rate limit, or wrong PINs for one ticket); Retry-After says when to retry",
    500: "Internal error",
    503: "A service is unavailable; `service` names it, Retry-After says when to retry",
    504: "A service did not answer in time",
}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` entries documenting `statuses` as application/problem+json."""
    schema = {"$ref": "#/components/schemas/Problem"}
    return {
        status: {"description": _DESCRIPTIONS[status], "content": {"application/problem+json": {"schema": schema}}}
        for status in statuses
    }
