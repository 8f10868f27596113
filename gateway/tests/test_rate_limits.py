"""The public rate limits through the gateway, against the REAL complaints service (SQLite and PostgreSQL).

Each public door — filing (JSON and the /pengaduan form), tracking (JSON and page), a
complainant's photo, Open311 POST per IP and per api_key — answers 429 with Retry-After once a
client has used its burst; staff routes and the signed channel webhooks never do. The test
client's peer is 127.0.0.1; X-Forwarded-For counts only when that peer is a trusted proxy.
"""

from __future__ import annotations

import asyncio
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from grms_gateway import accounts
from grms_gateway.app import create_app
from grms_gateway.config import GatewaySettings
from grms_kit.identity import Role
from grms_kit.testing import NatsServer

from .conftest import ADMIN_PASSWORD, FakeSuite, login, with_lifespan_state
from .test_channels import APP_SECRET, COMPLAINT_TEXT, SMS_SECRET, signed, text_message, whatsapp_payload
from .test_complaints import JPEG, PNG, WEBP, _api_key, _post_form, b64, complaint_body, settings_for, start_complaints

PROBLEM = "application/problem+json"
#: Every public limit at a burst of 2 and one token a minute: the third request waits ~60 s.
TIGHT: dict[str, Any] = {
    f"ratelimit_{name}_{what}": value
    for name in ("intake", "tracking", "photos", "open311_ip", "open311_key")
    for what, value in (("per_minute", 1.0), ("burst", 2))
}
WEB_FORM = {
    "category_code": "banjir_drainase",
    "title": "Saluran tersumbat di Kaligawe",
    "description": "Air menggenang setiap hujan karena saluran tersumbat sampah.",
    "name": "Sri Wahyuni",
    "phone": "081311112222",
    "address": "Jl. Kaligawe Raya",
}


@pytest.fixture
async def complaints_port(database_url: str, nats_server: NatsServer, tmp_path: Path) -> AsyncIterator[int]:
    port, stop, task = await start_complaints(database_url, nats_server.url, tmp_path / "complaints")
    yield port
    stop.set()
    await asyncio.wait_for(task, 30)


@pytest.fixture
def make_client(suite: FakeSuite, complaints_port: int, tmp_path: Path) -> Callable[..., Any]:
    """An HTTP client for a gateway with `overrides` (each call its own app, so its own buckets)."""

    def make(**overrides: Any) -> Any:
        settings = settings_for(suite, complaints_port, tmp_path / "var", **{**TIGHT, **overrides})
        return Running(settings)

    return make


class Running:
    """`async with` it: a started app and an httpx client on it; `.settings` for API keys and users."""

    def __init__(self, settings: GatewaySettings) -> None:
        self.settings = settings
        self.app = create_app(settings)

    async def __aenter__(self) -> httpx.AsyncClient:
        self._lifespan = self.app.router.lifespan_context(self.app)
        state = await self._lifespan.__aenter__()
        transport = httpx.ASGITransport(app=with_lifespan_state(self.app, dict(state or {})))
        self._http = httpx.AsyncClient(transport=transport, base_url="http://gateway.test")
        return self._http

    async def __aexit__(self, *exc: Any) -> None:
        await self._http.aclose()
        await self._lifespan.__aexit__(*exc)


def assert_limited(response: httpx.Response) -> None:
    """429, a problem in Bahasa Indonesia, Retry-After in whole seconds (about a minute here)."""
    assert response.status_code == 429, response.text
    assert response.headers["content-type"] == PROBLEM
    assert 55 <= int(response.headers["retry-after"]) <= 60
    body = response.json()
    assert body["title"] == "Terlalu banyak permintaan" and body["code"] == "RATE_LIMITED"
    assert body["retry_after"] == int(response.headers["retry-after"]) and body["type"].endswith("too-many-requests")


def refusals(metrics: str) -> dict[tuple[str, str], float]:
    pattern = re.compile(r'^grms_gateway_rate_limited_total\{limit="([^"]+)",route="([^"]+)"\} (\S+)$', re.M)
    return {(route, limit): float(value) for limit, route, value in pattern.findall(metrics)}


async def test_filing_tracking_and_photos_answer_429_with_retry_after(make_client: Callable[..., Any]) -> None:
    async with make_client() as client:
        # Filing: the JSON API and the web form share one bucket per client.
        first = await client.post("/api/v1/complaints", json=complaint_body())
        assert first.status_code == 201, first.text
        ticket, pin = first.json()["ticket_id"], first.json()["pin"]
        web = await client.post("/pengaduan", data=WEB_FORM)
        assert web.status_code == 200 and "PIN hanya ditampilkan sekali" in web.text
        assert_limited(await client.post("/api/v1/complaints", json=complaint_body()))
        english = await client.post("/api/v1/complaints", json=complaint_body(), headers={"Accept-Language": "en"})
        assert english.status_code == 429 and english.json()["title"] == "Too many requests"
        page = await client.post("/pengaduan", data=WEB_FORM)
        assert page.status_code == 429 and page.headers["content-type"].startswith("text/html")
        assert "Terlalu banyak permintaan" in page.text and "belum dikirim" in page.text
        assert 55 <= int(page.headers["retry-after"]) <= 60 and page.headers["cache-control"] == "no-store"
        multipart = await client.post(
            "/api/v1/complaints",
            data={"complaint": json.dumps(complaint_body())},
            files={"photos": ("a.jpg", JPEG, "image/jpeg")},
        )
        assert_limited(multipart)

        # Tracking: JSON and page share one bucket per client; reopen and rate too.
        tracked = await client.post("/api/v1/complaints/track", json={"ticket_id": ticket, "pin": pin})
        assert tracked.status_code == 200
        assert (await client.post("/pengaduan/lacak", data={"ticket_id": ticket, "pin": pin})).status_code == 200
        assert_limited(await client.post("/api/v1/complaints/track", json={"ticket_id": ticket, "pin": pin}))
        lookup_page = await client.post("/pengaduan/lacak", data={"ticket_id": ticket, "pin": pin})
        assert lookup_page.status_code == 429 and 'href="/pengaduan/lacak"' in lookup_page.text
        assert "retry-after" in lookup_page.headers
        assert_limited(await client.post("/api/v1/complaints/reopen", json={"ticket_id": ticket, "pin": pin}))
        rate = {"ticket_id": ticket, "pin": pin, "score": 5}
        assert_limited(await client.post("/api/v1/complaints/rate", json=rate))
        assert (await client.post("/pengaduan/nilai", data=rate)).status_code == 429

        # A complainant's photos.
        for content in (JPEG, PNG):
            photo = {"ticket_id": ticket, "pin": pin, "content": b64(content)}
            assert (await client.post("/api/v1/complaints/photos", json=photo)).status_code == 201
        assert_limited(await client.post("/api/v1/complaints/photos", json={**photo, "content": b64(WEBP)}))

        # Reads stay open: the public list, the categories, the photo itself.
        assert (await client.get("/api/v1/public/complaints")).status_code == 200
        assert (await client.get("/api/v1/public/complaint-categories")).status_code == 200

        counted = refusals((await client.get("/metrics")).text)
        assert counted[("/api/v1/complaints", "intake")] == 3
        assert counted[("/pengaduan", "intake")] == 1
        assert counted[("/api/v1/complaints/track", "tracking")] == 1
        assert counted[("/pengaduan/lacak", "tracking")] == 1
        assert counted[("/api/v1/complaints/photos", "photos")] == 1


async def test_nothing_is_filed_when_refused(make_client: Callable[..., Any]) -> None:
    async with make_client(ratelimit_intake_burst=1) as client:
        assert (await client.post("/api/v1/complaints", json=complaint_body())).status_code == 201
        for _ in range(3):
            assert (await client.post("/api/v1/complaints", json=complaint_body(title="Kedua"))).status_code == 429
        listed = (await client.get("/api/v1/public/complaints")).json()["complaints"]
        assert [c["title"] for c in listed] == [complaint_body()["title"]]


async def test_open311_post_is_limited_per_ip_and_per_api_key_in_the_spec_format(
    make_client: Callable[..., Any],
) -> None:
    # Per IP: the third POST from one address, before its body is even read.
    gateway = make_client(ratelimit_open311_key_burst=100)
    async with gateway as client:
        key = _api_key(gateway.settings)
        for fmt in ("json", "xml"):
            posted = await client.post(f"/open311/v2/requests.{fmt}", data=_post_form(key))
            assert posted.status_code == 201, posted.text
        refused = await client.post("/open311/v2/requests.json", data=_post_form(key))
        assert refused.status_code == 429 and refused.headers["content-type"] == "application/json"
        assert 55 <= int(refused.headers["retry-after"]) <= 60
        [error] = refused.json()
        assert error["code"] == 429 and "too many requests" in error["description"]
        xml = await client.post("/open311/v2/requests.xml", data=_post_form(key))
        assert xml.status_code == 429 and "retry-after" in xml.headers
        assert ET.fromstring(xml.content).findtext("error/code") == "429"
        # A bad key from the same address is refused by the limit too: no key guessing at speed.
        assert (await client.post("/open311/v2/requests.json", data=_post_form("bad-key-bad-key"))).status_code == 429
        # GETs stay open.
        assert len((await client.get("/open311/v2/requests.json")).json()) == 2

    # Per api_key: one app, many addresses behind our proxy; a second key has its own bucket.
    proxy = {"trusted_proxies": ["127.0.0.1/32"], "ratelimit_open311_ip_burst": 100}
    gateway = make_client(**proxy)
    async with gateway as client:
        key, other = _api_key(gateway.settings), _api_key(gateway.settings)
        for i in range(2):
            phone = {"X-Forwarded-For": f"198.51.100.{i + 1}"}
            assert (
                await client.post("/open311/v2/requests.json", data=_post_form(key), headers=phone)
            ).status_code == 201
        third = await client.post(
            "/open311/v2/requests.json", data=_post_form(key), headers={"X-Forwarded-For": "198.51.100.3"}
        )
        assert third.status_code == 429 and third.json()[0]["code"] == 429
        ok = await client.post(
            "/open311/v2/requests.json", data=_post_form(other), headers={"X-Forwarded-For": "198.51.100.3"}
        )
        assert ok.status_code == 201, ok.text
        counted = refusals((await client.get("/metrics")).text)
        assert counted == {("/open311/v2/requests.{fmt}", "open311_key"): 1}


async def test_forwarded_for_counts_only_behind_a_trusted_proxy(make_client: Callable[..., Any]) -> None:
    headers = [{"X-Forwarded-For": f"203.0.113.{i}"} for i in range(1, 4)]
    async with make_client(ratelimit_intake_burst=1) as client:
        # Not trusted: X-Forwarded-For is the client's own word, so all three are 127.0.0.1.
        answers = [(await client.post("/api/v1/complaints", json=complaint_body(), headers=h)).status_code
                   for h in headers]  # fmt: skip
        assert answers == [201, 429, 429]
    async with make_client(ratelimit_intake_burst=1, trusted_proxies=["127.0.0.0/8"]) as client:
        answers = [(await client.post("/api/v1/complaints", json=complaint_body(), headers=h)).status_code
                   for h in headers]  # fmt: skip
        assert answers == [201, 201, 201]
        # A client prepending an address of its choice still lands in its own bucket.
        spoofed = {"X-Forwarded-For": "192.0.2.99, 203.0.113.1"}
        assert (await client.post("/api/v1/complaints", json=complaint_body(), headers=spoofed)).status_code == 429


async def test_a_rate_of_zero_switches_a_limit_off(make_client: Callable[..., Any]) -> None:
    async with make_client(ratelimit_intake_per_minute=0, ratelimit_intake_burst=1) as client:
        for _ in range(4):
            assert (await client.post("/api/v1/complaints", json=complaint_body())).status_code == 201


async def test_staff_routes_and_signed_webhooks_are_never_limited(make_client: Callable[..., Any]) -> None:
    channels = {"whatsapp_app_secret": APP_SECRET, "whatsapp_verify_token": "verify-me", "sms_secret": SMS_SECRET}
    gateway = make_client(**channels)
    async with gateway as client:
        url = gateway.settings.accounts_database_url()
        accounts.create_user(url, "officer", ADMIN_PASSWORD, [Role.COMPLAINTS_OFFICER], "33", (), "Officer")
        officer = await login(client, "officer")
        entered = []
        for i in range(4):
            body = complaint_body(channel="hotline", title=f"Lewat telepon {i}")
            response = await client.post("/api/v1/complaints/operator", json=body, headers=officer)
            assert response.status_code == 201, response.text
            entered.append(response.json()["ticket_id"])
        for ticket in entered:
            assert (await client.get(f"/api/v1/complaints/{ticket}", headers=officer)).status_code == 200
            assert (await client.post(f"/api/v1/complaints/{ticket}/verify", headers=officer)).status_code == 200
            photo = await client.post(
                f"/api/v1/complaints/{ticket}/photos", headers=officer, json={"content": b64(JPEG)}
            )
            assert photo.status_code == 201
        for i in range(4):
            sms = {"from": "081225550101", "text": COMPLAINT_TEXT, "id": f"sms-limit-{i}"}
            answer = await client.post("/webhooks/sms", json=sms, headers={"X-GRMS-SMS-Secret": SMS_SECRET})
            assert answer.status_code == 200, answer.text
            body = json.dumps(whatsapp_payload(text_message(f"{COMPLAINT_TEXT} ({i})", f"wamid.limit-{i}"))).encode()
            delivered = await client.post("/webhooks/whatsapp", content=body, headers=signed(body))
            assert delivered.status_code == 200 and delivered.json()["received"] == 1
        assert refusals((await client.get("/metrics")).text) == {}


async def test_public_reads_and_open_data_are_limited_per_ip(make_client: Callable[..., Any]) -> None:
    """ASVS 2.4.1: the public list, categories, Open311 GETs, the live stream and open data have limits too."""
    reads = {"ratelimit_public_read_per_minute": 1.0, "ratelimit_public_read_burst": 2}
    async with make_client(**reads, ratelimit_open_data_per_minute=1.0, ratelimit_open_data_burst=1) as client:
        # The JSON reads share one bucket per client: two pass, the third is a problem with Retry-After.
        assert (await client.get("/api/v1/public/complaints")).status_code == 200
        assert (await client.get("/api/v1/public/complaint-categories")).status_code == 200
        assert_limited(await client.get("/api/v1/public/complaints"))
        assert_limited(await client.get("/api/v1/proposals/USL-2025-000001"))
        # Open311 GETs: the same bucket, refused in the spec's error list, JSON or XML as asked.
        listed = await client.get("/open311/v2/requests.json")
        assert listed.status_code == 429 and 55 <= int(listed.headers["retry-after"]) <= 60
        assert listed.json()[0]["code"] == 429 and "too many requests" in listed.json()[0]["description"]
        xml = await client.get("/open311/v2/services.xml")
        assert xml.status_code == 429 and ET.fromstring(xml.content).findtext("error/code") == "429"
        # The live stream: refused before it opens, as a problem (an EventSource reads no page).
        stream = await client.get("/pengaduan/lacak/LG-2025-000001/events", params={"token": "x" * 32})
        assert stream.status_code == 429 and stream.headers["content-type"] == PROBLEM
        # Open data has its own bucket: the first download passes the limit, the second does not.
        first = await client.get("/open-data/audit/heads.json")
        assert first.status_code != 429, first.text
        assert_limited(await client.get("/open-data/budget/2025/datapackage.json"))
        # Discovery is a constant document and staff reads need a login: neither counts.
        assert (await client.get("/open311/v2/discovery.json")).status_code == 200

        counted = refusals((await client.get("/metrics")).text)
        assert counted[("/api/v1/public/complaints", "public_read")] == 1
        assert counted[("/open311/v2/requests.{fmt}", "public_read")] == 1
        assert counted[("/open-data/budget/{year}/datapackage.json", "open_data")] == 1


async def test_proposals_share_the_filing_limit(make_client: Callable[..., Any]) -> None:
    async with make_client(ratelimit_intake_burst=1) as client:
        assert (await client.post("/api/v1/complaints", json=complaint_body())).status_code == 201
        proposal = {"government_code": "33", "title": "Jalan desa", "description": "Perbaikan jalan desa rusak."}
        assert_limited(await client.post("/api/v1/proposals", json=proposal))
        page = await client.post("/usulan", data=proposal)
        assert page.status_code == 429 and 'href="/usulan"' in page.text
