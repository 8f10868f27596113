"""gRPC status → RFC 9457 problem mapping (grpc-gateway table) and the problem renderer."""

from __future__ import annotations

import json

import grpc
import pytest
from fastapi import FastAPI
from grms_gateway.errors import (
    PROBLEM_JSON,
    ApiProblem,
    UpstreamError,
    problem_from_domain,
    problem_from_upstream,
    problem_response,
)
from grms_kit.errors import AlreadyExists, FieldViolation, InvalidArgument, Unauthenticated
from starlette.requests import Request


def _request(headers: dict[str, str] | None = None, path: str = "/api/v1/x") -> Request:
    raw = [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    return Request(
        {"type": "http", "method": "GET", "path": path, "headers": raw, "query_string": b"", "app": FastAPI()}
    )


@pytest.mark.parametrize(
    ("code", "status"),
    [
        (grpc.StatusCode.INVALID_ARGUMENT, 400),
        (grpc.StatusCode.NOT_FOUND, 404),
        (grpc.StatusCode.ALREADY_EXISTS, 409),
        (grpc.StatusCode.ABORTED, 409),
        (grpc.StatusCode.FAILED_PRECONDITION, 400),
        (grpc.StatusCode.PERMISSION_DENIED, 403),
        (grpc.StatusCode.UNAUTHENTICATED, 401),
        (grpc.StatusCode.UNAVAILABLE, 503),
        (grpc.StatusCode.DEADLINE_EXCEEDED, 504),
        (grpc.StatusCode.INTERNAL, 500),
        (grpc.StatusCode.UNIMPLEMENTED, 501),
        (grpc.StatusCode.RESOURCE_EXHAUSTED, 429),
    ],
)
def test_grpc_gateway_table(code: grpc.StatusCode, status: int) -> None:
    problem = problem_from_upstream(UpstreamError("budgeting", "GetAgency", code, "boom"))
    assert problem.status == status
    assert problem.extra["code"] == code.name


def test_invalid_argument_carries_field_errors() -> None:
    err = UpstreamError(
        "budgeting",
        "RegisterAgency",
        grpc.StatusCode.INVALID_ARGUMENT,
        "bad",
        [FieldViolation("name", "must not be empty")],
    )
    response = problem_response(_request(), problem_from_upstream(err))
    body = json.loads(response.body)
    assert response.status_code == 400
    assert response.media_type == PROBLEM_JSON
    assert body["errors"] == [{"field": "name", "description": "must not be empty"}]
    assert body["type"] == "urn:grms:problem:bad-request"
    assert body["instance"] == "/api/v1/x"


def test_unavailable_names_the_service_with_retry_after_in_both_languages() -> None:
    problem = problem_from_upstream(UpstreamError("monev", "GetAgency", grpc.StatusCode.UNAVAILABLE, "connect failed"))
    indonesian = problem_response(_request(), problem)
    english = problem_response(_request({"Accept-Language": "en"}), problem)
    assert indonesian.headers["Retry-After"] == "5"
    assert json.loads(indonesian.body)["detail"] == "Layanan monev sedang tidak tersedia. Coba lagi sebentar lagi."
    assert json.loads(indonesian.body)["title"] == "Layanan tidak tersedia"
    assert json.loads(english.body)["detail"] == "The monev service is unavailable. Try again shortly."
    assert json.loads(english.body)["service"] == "monev"
    assert english.headers["Content-Language"] == "en"


def test_lang_cookie_selects_english() -> None:
    problem = ApiProblem(404, "problem.not_found", "problem.not_found_detail")
    body = json.loads(problem_response(_request({"Cookie": "lang=en"}), problem).body)
    assert body["title"] == "Not found"


def test_internal_errors_do_not_leak_the_service_message() -> None:
    problem = problem_from_upstream(UpstreamError("budgeting", "GetAgency", grpc.StatusCode.INTERNAL, "secret stack"))
    body = json.loads(problem_response(_request(), problem).body)
    assert "secret" not in json.dumps(body)


def test_domain_errors_map_to_problems() -> None:
    assert problem_from_domain(AlreadyExists("dup")).status == 409
    assert problem_from_domain(Unauthenticated("no")).headers["WWW-Authenticate"] == "Bearer"
    invalid = problem_from_domain(InvalidArgument.field("password", "too short"))
    assert invalid.status == 400 and invalid.errors == [FieldViolation("password", "too short")]
