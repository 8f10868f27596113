"""The real app against real gRPC servers: login, authorisation, reference data, problems, probes and metrics."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from grms_gateway import accounts
from grms_kit.identity import Role

NEW_AGENCY = {
    "code": "2.16.0.00.0.00.01.0000",
    "name": "Dinas Komunikasi dan Informatika",
    "short_name": "Diskominfo",
    "head": {"name": "Riena Retnaningrum", "title": "Kepala Dinas Kominfo", "nip": "197001011990032001"},
    "contacts": [
        {"kind": "email", "value": "diskominfo@jatengprov.go.id", "verified": True},
        {"kind": "whatsapp", "value": "+628112345678", "verified": False},
    ],
}
DINKES = "/api/v1/governments/33/agencies/1.02.0.00.0.00.01.0000"
PROBLEM = "application/problem+json"

LoginAs = Callable[..., Any]


async def test_login_issues_a_bearer_token(client: httpx.AsyncClient, make_user: Callable[..., Any]) -> None:
    make_user("admin", [Role.ADMIN])
    response = await client.post(
        "/api/v1/auth/token", data={"username": "admin", "password": "correct horse battery staple"}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 3600 and body["access_token"].count(".") == 2


async def test_wrong_password_is_a_401_problem(client: httpx.AsyncClient, make_user: Callable[..., Any]) -> None:
    make_user("admin", [Role.ADMIN])
    response = await client.post("/api/v1/auth/token", data={"username": "admin", "password": "wrong password!!"})
    assert response.status_code == 401
    assert response.headers["content-type"] == PROBLEM
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["detail"] == "Nama pengguna atau kata sandi salah."


async def test_reads_are_public_and_list_central_java(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/governments", params={"within": "33"})
    assert response.status_code == 200
    governments = response.json()["governments"]
    assert len(governments) == 36
    assert governments[0] == {
        "code": "33",
        "name": "Provinsi Jawa Tengah",
        "level": "province",
        "parent_code": "",
        "create_time": None,
    }
    assert {g["level"] for g in governments[1:]} == {"regency", "city"}
    one = await client.get("/api/v1/governments/33.74")
    assert one.json()["name"] == "Kota Semarang"


async def test_agency_pages_and_etag(client: httpx.AsyncClient) -> None:
    first = await client.get("/api/v1/governments/33/agencies", params={"page_size": 1})
    assert first.status_code == 200
    assert [a["short_name"] for a in first.json()["agencies"]] == ["Dinkes"]
    token = first.json()["next_page_token"]
    second = await client.get("/api/v1/governments/33/agencies", params={"page_size": 1, "page_token": token})
    assert [a["short_name"] for a in second.json()["agencies"]] == ["Bappeda"]
    assert second.json()["next_page_token"] == ""
    agency = await client.get(DINKES)
    assert agency.headers["etag"] == '"1"'
    assert agency.json()["contacts"][0] == {
        "kind": "email",
        "value": "dinkes@jatengprov.go.id",
        "verified": True,
        "verify_time": None,
    }


async def test_register_agency_requires_login_then_admin(client: httpx.AsyncClient, login_as: LoginAs) -> None:
    anonymous = await client.post("/api/v1/governments/33/agencies", json=NEW_AGENCY)
    assert anonymous.status_code == 401 and anonymous.headers["content-type"] == PROBLEM
    planner = await login_as("planner", [Role.PLANNER])
    forbidden = await client.post("/api/v1/governments/33/agencies", json=NEW_AGENCY, headers=planner)
    assert forbidden.status_code == 403
    assert forbidden.json()["title"] == "Akses ditolak"
    bad_token = await client.get("/api/v1/governments", headers={"Authorization": "Bearer not.a.token"})
    assert bad_token.status_code == 401


async def test_admin_of_another_government_is_forbidden(client: httpx.AsyncClient, login_as: LoginAs) -> None:
    admin = await login_as("admin-kudus", [Role.ADMIN], government="33.19")
    response = await client.post("/api/v1/governments/33/agencies", json=NEW_AGENCY, headers=admin)
    assert response.status_code == 403


async def test_register_agency_201_with_location(client: httpx.AsyncClient, login_as: LoginAs, suite: Any) -> None:
    admin = await login_as("admin", [Role.ADMIN])
    response = await client.post("/api/v1/governments/33/agencies", json=NEW_AGENCY, headers=admin)
    assert response.status_code == 201, response.text
    assert response.headers["location"] == f"/api/v1/governments/33/agencies/{NEW_AGENCY['code']}"
    assert response.headers["etag"] == '"1"'
    body = response.json()
    assert body["head"]["nip"] == "197001011990032001" and body["version"] == 1
    assert [c["kind"] for c in body["contacts"]] == ["email", "whatsapp"]
    assert suite.budgeting.seen_identities, "the service saw the forwarded identity"
    again = await client.post("/api/v1/governments/33/agencies", json=NEW_AGENCY, headers=admin)
    assert again.status_code == 409 and again.json()["code"] == "ALREADY_EXISTS"


async def test_service_validation_is_a_400_problem_with_field_errors(
    client: httpx.AsyncClient, login_as: LoginAs
) -> None:
    admin = await login_as("admin", [Role.ADMIN])
    body = {**NEW_AGENCY, "contacts": [{"kind": "email", "value": "not-an-email", "verified": True}]}
    response = await client.post("/api/v1/governments/33/agencies", json=body, headers=admin)
    assert response.status_code == 400
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert problem["code"] == "INVALID_ARGUMENT"
    assert problem["errors"] == [{"field": "contacts[0].value", "description": "must be an e-mail address"}]


async def test_schema_validation_is_a_422_problem_and_forbids_extra_fields(
    client: httpx.AsyncClient, login_as: LoginAs
) -> None:
    admin = await login_as("admin", [Role.ADMIN])
    body = {**NEW_AGENCY, "version": 99, "contacts": [{"kind": "fax", "value": "1"}]}
    response = await client.post(
        "/api/v1/governments/33/agencies", json=body, headers={**admin, "Accept-Language": "en"}
    )
    assert response.status_code == 422 and response.headers["content-type"] == PROBLEM
    fields = {e["field"]: e["description"] for e in response.json()["errors"]}
    assert fields["version"] == "is not a known field"
    assert fields["contacts.0.kind"] == "is not a known value"


async def test_patch_with_if_match_and_stale_409(client: httpx.AsyncClient, login_as: LoginAs) -> None:
    admin = await login_as("admin", [Role.ADMIN])
    current = await client.get(DINKES)
    etag = current.headers["etag"]
    changed = await client.patch(
        DINKES,
        json={"head": {"name": "Dr. Baru", "title": "Kepala Dinas"}},
        headers={**admin, "If-Match": etag, "Content-Type": "application/merge-patch+json"},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["head"]["name"] == "Dr. Baru"
    assert changed.json()["name"] == "Dinas Kesehatan", "fields not in the patch are untouched"
    assert changed.headers["etag"] == '"2"'
    stale = await client.patch(DINKES, json={"short_name": "DKK"}, headers={**admin, "If-Match": etag})
    assert stale.status_code == 409
    assert stale.json()["code"] == "ABORTED"
    assert "diubah" in stale.json()["detail"]
    malformed = await client.patch(DINKES, json={"short_name": "DKK"}, headers={**admin, "If-Match": "abc"})
    assert malformed.status_code == 400


async def test_unknown_paths_and_methods_are_problems(client: httpx.AsyncClient) -> None:
    missing = await client.get("/api/v1/nothing-here", headers={"Accept-Language": "en"})
    assert missing.status_code == 404 and missing.headers["content-type"] == PROBLEM
    assert missing.json()["title"] == "Not found"
    not_allowed = await client.delete("/api/v1/governments")
    assert not_allowed.status_code == 405 and not_allowed.headers["content-type"] == PROBLEM
    no_agency = await client.get("/api/v1/governments/33/agencies/9.99")
    assert no_agency.status_code == 404 and no_agency.json()["code"] == "NOT_FOUND"


async def test_api_key_authenticates(client: httpx.AsyncClient, settings: Any) -> None:
    url = settings.accounts_database_url()
    _, key = accounts.create_api_key(url, "sipd-sync", [Role.ADMIN], "33")
    response = await client.post("/api/v1/governments/33/agencies", json=NEW_AGENCY, headers={"X-API-Key": key})
    assert response.status_code == 201
    wrong = await client.get("/api/v1/governments", headers={"X-API-Key": key[:-2] + "zz"})
    assert wrong.status_code == 401


async def test_replicas_show_versions_missing_copies_and_down_services(client: httpx.AsyncClient, suite: Any) -> None:
    suite.stores["planning"].agencies[("33", "1.02.0.00.0.00.01.0000")] = suite.stores["budgeting"].agencies[
        ("33", "1.02.0.00.0.00.01.0000")
    ]
    await suite.stop("complaints")
    response = await client.get(f"{DINKES}/replicas")
    assert response.status_code == 200
    assert response.json() == {
        "budgeting": {"version": 1},
        "planning": {"version": 1},
        "delivery": {"version": None},
        "controlling": {"version": None},
        "monev": {"version": None},
        "complaints": {"error": "unavailable"},
    }


async def test_budgeting_down_is_a_503_naming_it(client: httpx.AsyncClient, suite: Any) -> None:
    await suite.stop("budgeting")
    response = await client.get("/api/v1/governments", headers={"Accept-Language": "en"})
    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    assert response.json()["service"] == "budgeting"
    assert "budgeting" in response.json()["detail"]


async def test_probes(client: httpx.AsyncClient, suite: Any) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["status"] == "ready"
    await suite.servers["delivery"].set_serving(False)
    await suite.stop("monev")
    not_ready = await client.get("/readyz")
    assert not_ready.status_code == 503
    services = not_ready.json()["services"]
    assert services["delivery"] == {"status": "NOT_SERVING"}
    assert services["monev"] == {"status": "UNAVAILABLE"}
    assert services["budgeting"] == {"status": "SERVING"}


async def test_metrics_count_requests_and_grpc_calls(client: httpx.AsyncClient) -> None:
    await client.get("/api/v1/governments/33")
    await client.get("/api/v1/governments/33.99")
    text = (await client.get("/metrics")).text
    assert 'grms_gateway_http_requests_total{method="GET",route="/api/v1/governments/{code}",status="200"} 1.0' in text
    assert 'grms_gateway_http_requests_total{method="GET",route="/api/v1/governments/{code}",status="404"} 1.0' in text
    assert 'grms_gateway_grpc_calls_total{code="OK",method="GetGovernment",service="budgeting"} 1.0' in text
    assert 'grms_gateway_grpc_calls_total{code="NOT_FOUND",method="GetGovernment",service="budgeting"} 1.0' in text
    assert "grms_gateway_http_request_duration_seconds_bucket" in text


async def test_openapi_and_offline_docs(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    assert "/api/v1/governments/{code}/agencies/{agency_code}" in spec["paths"]
    docs = await client.get("/docs")
    assert docs.status_code == 200
    assert "/docs/assets/swagger-ui-bundle.js" in docs.text
    assert "cdn" not in docs.text.lower() and "https://" not in docs.text
    asset = await client.get("/docs/assets/swagger-ui-bundle.js")
    assert asset.status_code == 200 and len(asset.content) > 100_000


@pytest.mark.parametrize("path", ["/favicon.ico", "/favicon.svg", "/static/grms.css"])
async def test_static_assets(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path)
    assert response.status_code == 200 and response.content


async def test_405_lists_every_method_of_the_path(client: httpx.AsyncClient) -> None:
    response = await client.delete(DINKES)
    assert response.status_code == 405
    assert set(response.headers["allow"].split(", ")) >= {"GET", "PATCH"}


async def test_openapi_documents_problems(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    responses = spec["paths"]["/api/v1/governments/{code}/agencies"]["post"]["responses"]
    assert responses["409"]["content"]["application/problem+json"]["schema"] == {"$ref": "#/components/schemas/Problem"}
    assert "Problem" in spec["components"]["schemas"] and "FieldError" in spec["components"]["schemas"]
