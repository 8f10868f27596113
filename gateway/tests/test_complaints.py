"""Complaints through the gateway, against the REAL complaints service in-process (SQLite and PostgreSQL).

The whole path is real: httpx → FastAPI app → gRPC → ComplaintsService → SQL, with the
reference copy fed by budgeting's facts over a real NATS. Budgeting and the other services
are conftest's fakes. Covers the JSON API (public and staff), Open311 GeoReport v2 in JSON
and XML with its errors, the public web pages, the leak test of issue #3 and a browser test.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import hashlib
import json
import os
import struct
import xml.etree.ElementTree as ET
import zlib
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import nats
import pytest
from grms_gateway import accounts
from grms_gateway.config import GatewaySettings
from grms_kit.identity import Role
from grms_kit.testing import NatsServer

from .complaints_stack import AGENCY, live_complaints, settings_for, start_complaints
from .conftest import FakeSuite
from .media_server import Answer, media_server

PROBLEM = "application/problem+json"
LoginAs = Callable[..., Any]


@pytest.fixture
async def complaints_port(database_url: str, nats_server: NatsServer, tmp_path: Path) -> AsyncIterator[int]:
    port, stop, task = await start_complaints(database_url, nats_server.url, tmp_path / "complaints")
    yield port
    stop.set()
    await asyncio.wait_for(task, 30)


@pytest.fixture
def settings(suite: FakeSuite, complaints_port: int, tmp_path: Path) -> GatewaySettings:
    """Overrides conftest's: the gateway talks to the real complaints service.

    These tests poll tracking until the notifier has delivered (up to 200 lookups from one
    client), so the tracking limit is raised here; filing keeps its production default.
    """
    return settings_for(suite, complaints_port, tmp_path / "var", ratelimit_tracking_burst=500)


def complaint_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "category_code": "jalan_rusak",
        "title": "Jalan berlubang di Jl. Pemuda",
        "description": "Lubang besar di depan kantor pos Semarang, sudah tiga minggu tidak diperbaiki.",
        "location": {"latitude": -6.982634, "longitude": 110.409812, "address": "Jl. Pemuda, Semarang"},
        "complainant": {"name": "Budi Santoso", "phone": "0812 2555 0101", "email": "budi@example.id"},
    }
    body.update(changes)
    return body


async def file(client: httpx.AsyncClient, **changes: Any) -> dict[str, Any]:
    response = await client.post("/api/v1/complaints", json=complaint_body(**changes))
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


# The JSON API.


async def test_file_track_and_handle_through_the_json_api(client: httpx.AsyncClient, login_as: LoginAs) -> None:
    filed = await file(client)
    ticket, pin = filed["ticket_id"], filed["pin"]
    assert filed["status"] == "received" and len(ticket) == 16 and len(pin) == 8

    tracked = await client.post("/api/v1/complaints/track", json={"ticket_id": ticket, "pin": pin})
    assert tracked.status_code == 200
    assert tracked.json()["status"] == "received" and tracked.json()["replies"] == []
    wrong = await client.post("/api/v1/complaints/track", json={"ticket_id": ticket, "pin": "00000000"})
    assert wrong.status_code == 404 and wrong.headers["content-type"] == PROBLEM

    assert (await client.get(f"/api/v1/complaints/{ticket}")).status_code == 401
    officer = await login_as("officer", [Role.COMPLAINTS_OFFICER])
    head = await login_as("kadinkes", [Role.AGENCY_HEAD])
    forbidden = await client.post(f"/api/v1/complaints/{ticket}/verify", headers=head)
    assert forbidden.status_code == 403 and forbidden.headers["content-type"] == PROBLEM

    base = f"/api/v1/complaints/{ticket}"
    assert (await client.post(f"{base}/verify", headers=officer)).json()["status"] == "verified"
    assigned = await client.post(f"{base}/assign", headers=officer, json={"agency_code": AGENCY})
    assert assigned.json()["status"] == "assigned" and assigned.json()["agency_code"] == AGENCY
    unknown_agency = await client.post(f"{base}/assign", headers=officer, json={"agency_code": "NOPE", "reason": "x"})
    assert unknown_agency.status_code == 400 and unknown_agency.json()["code"] == "FAILED_PRECONDITION"
    assert (await client.post(f"{base}/start", headers=head)).json()["status"] == "in_progress"
    noted = await client.post(f"{base}/notes", headers=head, json={"text": "Tim UPT sudah ke lokasi"})
    assert [n["text"] for n in noted.json()["notes"]] == ["Tim UPT sudah ke lokasi"]
    responded = await client.post(
        f"{base}/respond", headers=head, json={"text": "Sudah ditambal; hubungi 0812 2555 0101 bila belum."}
    )
    assert responded.json()["status"] == "responded"
    resolved = await client.post(f"{base}/resolve", headers=officer)
    assert resolved.json()["status"] == "resolved" and resolved.json()["first_response_minutes"] >= 0

    for _ in range(200):  # the dispatcher delivers into the local notification log
        tracked = (await client.post("/api/v1/complaints/track", json={"ticket_id": ticket, "pin": pin})).json()
        if [m["status"] for m in tracked["messages"]] == ["sent", "sent"]:
            break
        await asyncio.sleep(0.05)
    assert [(m["kind"], m["delivered_via"]) for m in tracked["messages"]] == [("reply", "log"), ("resolved", "log")]
    assert tracked["messages"][0]["text"].endswith("hubungi [nomor telepon disembunyikan] bila belum.")
    page = await client.post("/pengaduan/lacak", data={"ticket_id": ticket, "pin": pin})
    assert "Pesan yang dikirim kepada Anda" in page.text and "catatan pemberitahuan" in page.text
    assert tracked["status"] == "resolved" and tracked["agency_code"] == AGENCY
    assert tracked["replies"][0]["text"] == "Sudah ditambal; hubungi [nomor telepon disembunyikan] bila belum."
    assert "Tim UPT" not in str(tracked)

    staff_view = (await client.get(base, headers=officer)).json()
    assert staff_view["location"]["latitude"] == pytest.approx(-6.982634) and "complainant" not in staff_view

    listed = (await client.get("/api/v1/public/complaints", params={"status": "resolved"})).json()
    assert [c["ticket_id"] for c in listed["complaints"]] == [ticket]
    public = listed["complaints"][0]
    assert public["location"] == {
        "latitude": -6.983,
        "longitude": 110.41,
        "address": "Jl. Pemuda, Semarang",
        "village_code": "",
    }
    assert public["replies"][0]["text"].endswith("bila belum.") and "notes" not in public
    assert (await client.get("/api/v1/public/complaints", params={"status": "received"})).json()["complaints"] == []

    closed = await client.post(f"{base}/close", headers=officer)
    assert closed.json()["status"] == "closed"
    reopen = await client.post("/api/v1/complaints/reopen", json={"ticket_id": ticket, "pin": pin, "reason": "Belum"})
    assert reopen.status_code == 400 and reopen.json()["code"] == "FAILED_PRECONDITION"

    out_of_range = await client.post("/api/v1/complaints/rate", json={"ticket_id": ticket, "pin": pin, "score": 6})
    assert out_of_range.status_code == 422 and out_of_range.headers["content-type"] == PROBLEM
    rating = {"ticket_id": ticket, "pin": pin, "score": 4, "comment": "Cepat, terima kasih"}
    rated = await client.post("/api/v1/complaints/rate", json=rating)
    assert rated.status_code == 200, rated.text
    assert rated.json()["rating"]["score"] == 4 and rated.json()["status"] == "closed"
    again = await client.post("/api/v1/complaints/rate", json=rating)
    assert again.status_code == 400 and again.json()["code"] == "FAILED_PRECONDITION"
    assert (await client.get(base, headers=officer)).json()["rating"]["comment"] == "Cepat, terima kasih"


async def test_reject_tighten_and_identity(client: httpx.AsyncClient, login_as: LoginAs) -> None:
    officer = await login_as("officer", [Role.COMPLAINTS_OFFICER])
    spam = await file(client, title="Promo pinjaman online murah")
    rejected = await client.post(
        f"/api/v1/complaints/{spam['ticket_id']}/reject", headers=officer, json={"reason": "spam", "note": "Iklan"}
    )
    assert rejected.json()["status"] == "rejected" and rejected.json()["rejection_reason"] == "spam"

    filed = await file(client)
    ticket = filed["ticket_id"]
    assert ticket in {c["ticket_id"] for c in (await client.get("/api/v1/public/complaints")).json()["complaints"]}
    tightened = await client.post(
        f"/api/v1/complaints/{ticket}/confidentiality", headers=officer, json={"confidential": True}
    )
    assert tightened.json()["confidential"] is True
    relax = await client.post(
        f"/api/v1/complaints/{ticket}/confidentiality", headers=officer, json={"confidential": False}
    )
    assert relax.status_code == 403
    assert ticket not in {c["ticket_id"] for c in (await client.get("/api/v1/public/complaints")).json()["complaints"]}

    no_reason = await client.post(f"/api/v1/complaints/{ticket}/identity", headers=officer, json={})
    assert no_reason.status_code == 422
    identity = await client.post(
        f"/api/v1/complaints/{ticket}/identity", headers=officer, json={"reason": "Klarifikasi lokasi lubang jalan"}
    )
    assert identity.json() == {"name": "Budi Santoso", "nik": "", "phone": "+6281225550101", "email": "budi@example.id"}
    head = await login_as("kadinkes", [Role.AGENCY_HEAD])
    denied = await client.post(
        f"/api/v1/complaints/{ticket}/identity", headers=head, json={"reason": "Klarifikasi lokasi lubang jalan"}
    )
    assert denied.status_code == 403


async def test_tracking_is_rate_limited_per_ticket_with_a_429_problem(client: httpx.AsyncClient) -> None:
    filed = await file(client)
    ticket, pin = filed["ticket_id"], filed["pin"]
    wrong = "00000000" if pin != "00000000" else "11111111"
    for _ in range(10):
        miss = await client.post("/api/v1/complaints/track", json={"ticket_id": ticket, "pin": wrong})
        assert miss.status_code == 404
    # Now even the right PIN waits: the ticket rests (RELIABILITY.md B.3 rule 5).
    limited = await client.post("/api/v1/complaints/track", json={"ticket_id": ticket, "pin": pin})
    assert limited.status_code == 429 and limited.headers["content-type"] == PROBLEM
    assert limited.json()["title"] == "Terlalu banyak percobaan" and limited.json()["code"] == "RESOURCE_EXHAUSTED"
    page = await client.post("/pengaduan/lacak", data={"ticket_id": ticket, "pin": pin})
    assert page.status_code == 429 and page.headers["content-type"].startswith("text/html")
    assert 'id="too-many"' in page.text and "Terlalu banyak PIN salah" in page.text
    other = await file(client)
    tracked = await client.post("/api/v1/complaints/track", json={"ticket_id": other["ticket_id"], "pin": other["pin"]})
    assert tracked.status_code == 200


async def test_filing_errors_are_problems(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/v1/complaints", json=complaint_body(category_code="bukan_kategori", complainant={"name": "Budi"})
    )
    assert response.status_code == 400 and response.headers["content-type"] == PROBLEM
    fields = {e["field"] for e in response.json()["errors"]}
    assert {"category_code", "complainant.phone"} <= fields
    extra = await client.post("/api/v1/complaints", json={**complaint_body(), "status": "resolved"})
    assert extra.status_code == 422
    categories = (await client.get("/api/v1/public/complaint-categories")).json()
    assert "jalan_rusak" in {c["code"] for c in categories} and all(c["name"] and c["name_en"] for c in categories)


async def test_concurrent_filings_share_grpc_calls_and_each_gets_its_own_answer(client: httpx.AsyncClient) -> None:
    # Eight at once (the per-IP burst is ten): the gateway coalesces those that arrive while a
    # call is out into one FileComplaints call; the bad ones still get their own 400 problem.
    bodies = [complaint_body(title=f"Jalan berlubang nomor {i}") for i in range(6)]
    bodies.insert(2, complaint_body(category_code="bukan_kategori"))
    bodies.insert(5, complaint_body(complainant={"name": "Budi"}))
    answers = await asyncio.gather(*(client.post("/api/v1/complaints", json=b) for b in bodies))
    assert [a.status_code for a in answers] == [201, 201, 400, 201, 201, 400, 201, 201]
    assert {e["field"] for e in answers[2].json()["errors"]} == {"category_code"}
    assert "complainant.phone" in {e["field"] for e in answers[5].json()["errors"]}
    tickets = {a.json()["ticket_id"] for a in answers if a.status_code == 201}
    assert len(tickets) == 6 and all(a.json()["pin"] for a in answers if a.status_code == 201)
    metrics = (await client.get("/metrics")).text
    calls = sum(
        float(line.rsplit(" ", 1)[1])
        for line in metrics.splitlines()
        if line.startswith("grms_gateway_grpc_calls_total{") and 'method="FileComplaints"' in line
    )
    assert 1 <= calls < 8  # fewer calls than filings
    for ticket in tickets:  # each stored, trackable with its own PIN
        pin = next(a.json()["pin"] for a in answers if a.status_code == 201 and a.json()["ticket_id"] == ticket)
        tracked = await client.post("/api/v1/complaints/track", json={"ticket_id": ticket, "pin": pin})
        assert tracked.status_code == 200


async def test_a_batched_filing_stays_in_its_requests_trace(client: httpx.AsyncClient, nats_server: NatsServer) -> None:
    # Three at once, so some share a FileComplaints call: each ComplaintReceived event carries the
    # trace of the HTTP request it was filed by (W3C traceparent in, CloudEvents header out).
    traces = [os.urandom(16).hex() for _ in range(3)]
    answers = await asyncio.gather(
        *(
            client.post("/api/v1/complaints", json=complaint_body(), headers={"traceparent": f"00-{t}-{'1' * 16}-01"})
            for t in traces
        )
    )
    assert [a.status_code for a in answers] == [201, 201, 201]
    nc = await nats.connect(nats_server.url)
    try:
        sub = await nc.jetstream().subscribe("grms.complaints.complaint_received.v1", ordered_consumer=True)
        seen: set[str] = set()
        while not set(traces) <= seen:  # the stream also holds other tests' events, some filed outside any trace
            msg = await sub.next_msg(timeout=10)
            parent = (msg.headers or {}).get("traceparent", "")
            if parent:
                seen.add(parent.split("-")[1])
    finally:
        await nc.close()


async def test_the_village_code_through_the_json_api_and_the_web_form(
    client: httpx.AsyncClient, login_as: LoginAs
) -> None:
    officer = await login_as("officer", [Role.COMPLAINTS_OFFICER])
    place = {"address": "Desa Kedungwuluh", "village_code": "33.02.01.2001"}
    filed = await file(client, location=place)
    staff_view = (await client.get(f"/api/v1/complaints/{filed['ticket_id']}", headers=officer)).json()
    assert staff_view["location"]["village_code"] == "33.02.01.2001"
    listed = (await client.get("/api/v1/public/complaints")).json()["complaints"]
    assert [c["location"]["village_code"] for c in listed] == ["33.02.01.2001"]

    bad = await client.post("/api/v1/complaints", json=complaint_body(location={**place, "village_code": "33.2.1"}))
    assert bad.status_code == 400 and bad.headers["content-type"] == PROBLEM
    assert {e["field"] for e in bad.json()["errors"]} == {"location.village_code"}

    form_page = await client.get("/pengaduan")
    assert 'name="village_code"' in form_page.text and "Kode desa/kelurahan (opsional)" in form_page.text
    form = {
        "category_code": "banjir_drainase",
        "title": "Saluran tersumbat di Kaligawe",
        "description": "Air menggenang setiap hujan karena saluran tersumbat sampah.",
        "name": "Sri Wahyuni",
        "phone": "081311112222",
        "village_code": "33.74.01.1001",
    }
    web = await client.post("/pengaduan", data=form)
    assert web.status_code == 200, web.text
    ticket = web.text.split('id="ticket-id" class="code">')[1].split("<")[0]
    by_web = (await client.get(f"/api/v1/complaints/{ticket}", headers=officer)).json()
    assert by_web["location"] == {"latitude": None, "longitude": None, "address": "", "village_code": "33.74.01.1001"}
    wrong = await client.post("/pengaduan", data={**form, "village_code": "3374011001"})
    assert wrong.status_code == 400 and "location.village_code" in wrong.text


async def test_admins_edit_categories_and_assigning_follows_the_default_agency(
    client: httpx.AsyncClient, login_as: LoginAs
) -> None:
    admin = await login_as("admin", [Role.ADMIN])
    officer = await login_as("officer", [Role.COMPLAINTS_OFFICER])
    body = {"code": "stunting", "name": "Stunting dan gizi", "name_en": "Stunting", "default_agency_code": AGENCY}
    assert (await client.post("/api/v1/complaint-categories/33", json=body, headers=officer)).status_code == 403
    created = await client.post("/api/v1/complaint-categories/33", json=body, headers=admin)
    assert created.status_code == 201 and created.headers["etag"] == '"1"'
    assert created.json()["default_agency_code"] == AGENCY
    taken = await client.post("/api/v1/complaint-categories/33", json=body, headers=admin)
    assert taken.status_code == 409 and taken.headers["content-type"] == PROBLEM
    change = {k: v for k, v in body.items() if k != "code"} | {"name": "Stunting dan gizi buruk"}
    url = "/api/v1/complaint-categories/33/stunting"
    stale = await client.put(url, json=change, headers={**admin, "If-Match": '"7"'})
    assert stale.status_code == 409 and stale.json()["code"] == "ABORTED"
    updated = await client.put(url, json=change, headers={**admin, "If-Match": '"1"'})
    assert updated.status_code == 200 and updated.headers["etag"] == '"2"'
    listed = {c["code"]: c for c in (await client.get("/api/v1/complaint-categories/33")).json()}
    assert listed["stunting"]["name"] == "Stunting dan gizi buruk" and listed["jalan_rusak"]["version"] == 0

    ticket = (await file(client, category_code="stunting"))["ticket_id"]
    await client.post(f"/api/v1/complaints/{ticket}/verify", headers=officer)
    assigned = await client.post(f"/api/v1/complaints/{ticket}/assign", headers=officer, json={})
    assert assigned.status_code == 200, assigned.text
    assert assigned.json()["agency_code"] == AGENCY and assigned.json()["assignments"][0]["actor"]

    retire = change | {"retired": True}
    assert (await client.put(url, json=retire, headers=admin)).json()["retired"] is True
    refused = await client.post("/api/v1/complaints", json=complaint_body(category_code="stunting"))
    assert refused.status_code == 400 and "category_code" in {e["field"] for e in refused.json()["errors"]}


async def test_the_complainant_rates_on_the_tracking_page(client: httpx.AsyncClient, login_as: LoginAs) -> None:
    officer = await login_as("officer", [Role.COMPLAINTS_OFFICER])
    filed = await file(client)
    ticket, pin = filed["ticket_id"], filed["pin"]
    base = f"/api/v1/complaints/{ticket}"
    await client.post(f"{base}/verify", headers=officer)
    await client.post(f"{base}/assign", headers=officer, json={"agency_code": AGENCY})
    await client.post(f"{base}/start", headers=officer)
    await client.post(f"{base}/respond", headers=officer, json={"text": "Sudah ditambal."})
    before = await client.post("/pengaduan/lacak", data={"ticket_id": ticket, "pin": pin})
    assert 'id="rate-form"' not in before.text  # not resolved yet
    await client.post(f"{base}/resolve", headers=officer)
    page = await client.post("/pengaduan/lacak", data={"ticket_id": ticket, "pin": pin})
    assert 'id="rate-form"' in page.text and pin not in page.text  # the PIN is typed again, never echoed
    no_score = await client.post("/pengaduan/nilai", data={"ticket_id": ticket, "pin": pin})
    assert no_score.status_code == 400 and "Pilih nilai 1 sampai 5." in no_score.text
    rated = await client.post(
        "/pengaduan/nilai", data={"ticket_id": ticket, "pin": pin, "score": "5", "comment": "Cepat"}
    )
    assert rated.status_code == 200 and "Penilaian Anda: 5 dari 5" in rated.text and 'id="rate-form"' not in rated.text
    again = await client.post("/pengaduan/nilai", data={"ticket_id": ticket, "pin": pin, "score": "1"})
    assert again.status_code == 409 and "sudah dinilai" in again.text and "Penilaian Anda: 5 dari 5" in again.text
    assert (await client.get(base, headers=officer)).json()["status"] == "closed"


async def test_duplicates_listed_and_merged_and_the_public_page_points_to_the_primary(
    client: httpx.AsyncClient, login_as: LoginAs
) -> None:
    officer = await login_as("officer", [Role.COMPLAINTS_OFFICER])
    primary = await file(client)
    duplicate = await file(client, location={"latitude": -6.98265, "longitude": 110.40985, "address": "Jl. Pemuda"})
    found = (await client.get(f"/api/v1/complaints/{duplicate['ticket_id']}/duplicates", headers=officer)).json()
    assert [d["ticket_id"] for d in found] == [primary["ticket_id"]] and found[0]["distance_meters"] < 100
    assert (await client.get(f"/api/v1/complaints/{duplicate['ticket_id']}/duplicates")).status_code == 401

    merge = {"primary_ticket_id": duplicate["ticket_id"], "reason": "Sama"}
    itself = await client.post(f"/api/v1/complaints/{duplicate['ticket_id']}/merge", headers=officer, json=merge)
    assert itself.status_code == 400 and itself.json()["code"] == "FAILED_PRECONDITION"
    merge = {"primary_ticket_id": primary["ticket_id"], "reason": "Lubang yang sama"}
    merged = await client.post(f"/api/v1/complaints/{duplicate['ticket_id']}/merge", headers=officer, json=merge)
    assert merged.status_code == 200 and merged.json()["merged_into"] == primary["ticket_id"]

    public = (await client.get("/api/v1/public/complaints")).json()["complaints"]
    assert {c["ticket_id"]: c["merged_into"] for c in public}[duplicate["ticket_id"]] == primary["ticket_id"]
    page = await client.post("/pengaduan/lacak", data={"ticket_id": duplicate["ticket_id"], "pin": duplicate["pin"]})
    assert f"digabungkan dengan pengaduan {primary['ticket_id']}" in page.text


# Structurally valid images (the service strips their metadata, so it reads their structure).
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xda\x00\x08\x01\x01\x00\x00?\x00"
JPEG += b"\x11" * 3000 + b"\xff\xd9"
PNG = b"\x89PNG\r\n\x1a\n" + b"".join(
    struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    for kind, data in (
        (b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)),
        (b"IDAT", b"\x22" * 3000),
        (b"IEND", b""),
    )
)
WEBP = b"RIFF" + struct.pack("<I", 4 + 8 + 3000) + b"WEBPVP8 " + struct.pack("<I", 3000) + b"\x33" * 3000


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


async def test_photos_at_filing_later_and_served_unless_rahasia(client: httpx.AsyncClient, login_as: LoginAs) -> None:
    officer = await login_as("officer", [Role.COMPLAINTS_OFFICER])
    filed = await file(client, photos=[b64(JPEG)])
    ticket, pin = filed["ticket_id"], filed["pin"]
    staff_view = (await client.get(f"/api/v1/complaints/{ticket}", headers=officer)).json()
    [photo] = staff_view["photos"]
    assert (photo["sha256"], photo["media_type"], photo["size_bytes"], photo["source"]) == (
        hashlib.sha256(JPEG).hexdigest(),
        "image/jpeg",
        len(JPEG),
        "complainant",
    )
    served = await client.get(photo["url"])
    assert served.status_code == 200 and served.content == JPEG
    assert served.headers["content-type"] == "image/jpeg" and served.headers["x-content-type-options"] == "nosniff"

    # Later: the complainant with ticket and PIN (multipart), staff with their token (JSON base64).
    added = await client.post(
        "/api/v1/complaints/photos",
        data={"ticket_id": ticket, "pin": pin},
        files={"photo": ("foto.jpg", PNG, "image/jpeg")},  # the claimed type is ignored
    )
    assert added.status_code == 201, added.text
    assert added.json()["media_type"] == "image/png" and added.json()["added_by"] == ""
    wrong_pin = await client.post(
        "/api/v1/complaints/photos", json={"ticket_id": ticket, "pin": "00000000", "content": b64(WEBP)}
    )
    assert wrong_pin.status_code == 404 and wrong_pin.headers["content-type"] == PROBLEM
    by_staff = await client.post(f"/api/v1/complaints/{ticket}/photos", headers=officer, json={"content": b64(WEBP)})
    assert by_staff.status_code == 201 and by_staff.json()["source"] == "staff"
    anonymous_staff = await client.post(f"/api/v1/complaints/{ticket}/photos", json={"content": b64(WEBP)})
    assert anonymous_staff.status_code == 401
    tracked = (await client.post("/api/v1/complaints/track", json={"ticket_id": ticket, "pin": pin})).json()
    assert [p["media_type"] for p in tracked["photos"]] == ["image/jpeg", "image/png", "image/webp"]
    assert {p["added_by"] for p in tracked["photos"]} == {""}

    # Multipart filing; a confidential complaint's photo is served to its staff only.
    body = complaint_body(confidential=True)
    secret = await client.post(
        "/api/v1/complaints",
        data={"complaint": json.dumps(body)},
        files=[("photos", ("a.webp", WEBP, "image/webp")), ("photos", ("b.png", PNG, "image/png"))],
    )
    assert secret.status_code == 201, secret.text
    secret_ticket = secret.json()["ticket_id"]
    url = f"/api/v1/complaints/{secret_ticket}/photos/{hashlib.sha256(WEBP).hexdigest()}"
    hidden = await client.get(url)
    assert hidden.status_code == 404 and hidden.headers["content-type"] == PROBLEM
    assert (await client.get(url, headers=officer)).content == WEBP


async def test_oversize_or_wrong_type_photos_are_413_or_415_and_store_nothing(
    client: httpx.AsyncClient, settings: GatewaySettings
) -> None:
    big = JPEG + b"\x00" * settings.complaint_photo_max_bytes
    too_big = await client.post("/api/v1/complaints", json=complaint_body(photos=[b64(big)]))
    assert too_big.status_code == 413 and too_big.headers["content-type"] == PROBLEM
    pdf = b"%PDF-1.7\n" + JPEG
    wrong = await client.post(
        "/api/v1/complaints",
        data={"complaint": json.dumps(complaint_body())},
        files={"photos": ("foto.jpg", pdf, "image/jpeg")},
    )
    assert wrong.status_code == 415 and wrong.headers["content-type"] == PROBLEM
    assert wrong.json()["type"] == "urn:grms:problem:unsupported-media-type"
    not_base64 = await client.post("/api/v1/complaints", json=complaint_body(photos=["***"]))
    assert not_base64.status_code == 400
    huge = b"x" * (2 * settings.complaint_photo_max_bytes)  # refused by its Content-Length, before it is parsed
    declared = await client.post(
        "/api/v1/complaints/photos", content=huge, headers={"content-type": "application/json"}
    )
    assert declared.status_code == 413 and declared.headers["content-type"] == PROBLEM
    assert (await client.get("/api/v1/public/complaints")).json()["complaints"] == []

    form = {
        "category_code": "banjir_drainase",
        "title": "Saluran tersumbat di Kaligawe",
        "description": "Air menggenang setiap hujan karena saluran tersumbat sampah.",
        "name": "Sri Wahyuni",
        "phone": "081311112222",
        "address": "Jl. Kaligawe Raya",
    }
    page = await client.post("/pengaduan", data=form, files={"photos": ("x.png", pdf, "image/png")})
    assert page.status_code == 415 and "JPEG, PNG, atau WebP" in page.text
    assert (await client.get("/api/v1/public/complaints")).json()["complaints"] == []
    ok = await client.post("/pengaduan", data=form, files={"photos": ("x.png", PNG, "image/png")})
    assert ok.status_code == 200 and "PIN hanya ditampilkan sekali" in ok.text
    [listed] = (await client.get("/api/v1/public/complaints")).json()["complaints"]
    assert listed["title"] == "Saluran tersumbat di Kaligawe"


# Open311 GeoReport v2.


def _api_key(settings: GatewaySettings) -> str:
    accounts.migrate(settings.accounts_database_url())
    _, key = accounts.create_api_key(settings.accounts_database_url(), "aplikasi-warga", [Role.SERVICE], "33")
    return key


def _post_form(api_key: str, **changes: str) -> dict[str, str]:
    form = {
        "api_key": api_key,
        "service_code": "penerangan_jalan",
        "lat": "-7.005145",
        "long": "110.438125",
        "address_string": "Jl. Candi Raya, Semarang",
        "description": "Lampu PJU mati di tikungan Jl. Candi Raya sejak seminggu.",
        "first_name": "Dewi",
        "last_name": "Lestari",
        "email": "dewi@example.id",
        "phone": "081233334444",
    }
    form.update(changes)
    return {k: v for k, v in form.items() if v is not None}


async def test_open311_discovery_and_services(client: httpx.AsyncClient) -> None:
    discovery = (await client.get("/open311/v2/discovery.json")).json()
    assert discovery["endpoints"][0]["url"] == "http://gateway.test/open311/v2"
    root = ET.fromstring((await client.get("/open311/v2/discovery.xml")).content)
    assert root.tag == "discovery" and root.find("endpoints/endpoint/formats/format") is not None

    services = (await client.get("/open311/v2/services.json")).json()
    road = next(s for s in services if s["service_code"] == "jalan_rusak")
    assert set(road) == {"service_code", "service_name", "description", "metadata", "type", "keywords", "group"}
    assert road["type"] == "realtime" and road["metadata"] is True
    xml = await client.get("/open311/v2/services.xml")
    assert xml.headers["content-type"].startswith("application/xml")
    root = ET.fromstring(xml.content)
    assert root.tag == "services" and {e.tag for e in root} == {"service"}
    assert {e.findtext("service_code") for e in root} == {s["service_code"] for s in services}

    definition = (await client.get("/open311/v2/services/jalan_rusak.json")).json()
    [village] = definition["attributes"]
    assert definition["service_code"] == "jalan_rusak"
    assert (village["code"], village["datatype"], village["required"], village["variable"]) == (
        "village_code",
        "string",
        False,
        True,
    )
    assert "33.74.01.1001" in village["datatype_description"] and village["values"] == []
    root = ET.fromstring((await client.get("/open311/v2/services/jalan_rusak.xml")).content)
    assert root.tag == "service_definition" and root.findtext("attributes/attribute/code") == "village_code"
    assert root.findtext("attributes/attribute/required") == "false"
    missing = await client.get("/open311/v2/services/nope.json")
    assert missing.status_code == 404 and missing.json()[0]["code"] == 404
    wrong = await client.get("/open311/v2/services.json", params={"jurisdiction_id": "jakarta.go.id"})
    assert wrong.status_code == 404


async def test_open311_post_then_get_in_json_and_xml(client: httpx.AsyncClient, settings: GatewaySettings) -> None:
    key = _api_key(settings)
    posted = await client.post("/open311/v2/requests.json", data=_post_form(key))
    assert posted.status_code == 201, posted.text
    [created] = posted.json()
    ticket = created["service_request_id"]
    assert (
        set(created) == {"service_request_id", "service_notice", "account_id"} and ticket in created["service_notice"]
    )

    [one] = (await client.get(f"/open311/v2/requests/{ticket}.json")).json()
    assert one["service_request_id"] == ticket and one["status"] == "open" and one["service_code"] == "penerangan_jalan"
    assert one["status_notes"] == "Diterima, menunggu verifikasi" and one["service_name"] == "Penerangan jalan umum"
    assert one["lat"] == -7.005 and one["long"] == 110.438 and one["address"] == "Jl. Candi Raya, Semarang"
    assert one["requested_datetime"].endswith("+07:00") and one["expected_datetime"].endswith("+07:00")
    assert one["expected_datetime"] > one["requested_datetime"]  # the SLA's resolution deadline
    assert one["description"] == _post_form(key)["description"] and one["media_url"] == "" and one["address_id"] == ""
    for personal in ("Dewi", "Lestari", "dewi@example.id", "081233334444", "+6281233334444"):
        assert personal not in str(one)

    xml = await client.get("/open311/v2/requests.xml")
    root = ET.fromstring(xml.content)
    assert root.tag == "service_requests" and [e.tag for e in root] == ["request"]
    assert root.findtext("request/service_request_id") == ticket and root.findtext("request/status") == "open"
    assert (
        ET.fromstring((await client.get(f"/open311/v2/requests/{ticket}.xml")).content).findtext("request/service_code")
        == "penerangan_jalan"
    )

    assert (await client.get("/open311/v2/requests.json", params={"status": "closed"})).json() == []
    assert len((await client.get("/open311/v2/requests.json", params={"status": "open"})).json()) == 1
    assert (await client.get("/open311/v2/requests.json", params={"service_code": "jalan_rusak"})).json() == []
    future = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).isoformat()
    assert (await client.get("/open311/v2/requests.json", params={"start_date": future})).json() == []

    token = (await client.get(f"/open311/v2/tokens/{ticket}.json")).json()
    assert token == [{"service_request_id": ticket, "token": ticket}]
    root = ET.fromstring((await client.get(f"/open311/v2/tokens/{ticket}.xml")).content)
    assert root.tag == "service_requests" and root.findtext("request/token") == ticket


async def test_open311_errors_in_the_spec_format(client: httpx.AsyncClient, settings: GatewaySettings) -> None:
    key = _api_key(settings)
    no_description = await client.post("/open311/v2/requests.json", data=_post_form(key, description=""))
    assert no_description.status_code == 400
    errors = no_description.json()
    assert isinstance(errors, list) and set(errors[0]) == {"code", "description"}
    assert errors[0]["code"] == 400 and "description" in errors[0]["description"]

    xml = await client.post("/open311/v2/requests.xml", data=_post_form(key, description=""))
    root = ET.fromstring(xml.content)
    assert xml.status_code == 400 and root.tag == "errors" and root.findtext("error/code") == "400"

    bad_key = await client.post("/open311/v2/requests.json", data=_post_form("not-a-real-key-at-all"))
    assert bad_key.status_code == 403 and bad_key.json()[0]["code"] == 403
    no_key = await client.post("/open311/v2/requests.json", data=_post_form(""))
    assert no_key.status_code == 403

    unknown = await client.post("/open311/v2/requests.json", data=_post_form(key, service_code="bukan_layanan"))
    assert unknown.status_code == 400 and "service_code" in unknown.json()[0]["description"]
    no_place = await client.post("/open311/v2/requests.json", data=_post_form(key, lat="", long="", address_string=""))
    assert no_place.status_code == 400 and "location" in no_place.json()[0]["description"]
    attribute = await client.post("/open311/v2/requests.json", data={**_post_form(key), "attribute[WIDTH]": "2"})
    assert attribute.status_code == 400 and "attribute[WIDTH]" in attribute.json()[0]["description"]
    anonymous = await client.post("/open311/v2/requests.json", data=_post_form(key, first_name="", last_name=""))
    assert anonymous.status_code == 400 and "complainant.name" in anonymous.json()[0]["description"]

    missing = await client.get("/open311/v2/requests/AAAAAAAAAAAAAAAA.json")
    assert missing.status_code == 404 and missing.json()[0]["code"] == 404
    missing_xml = await client.get("/open311/v2/requests/AAAAAAAAAAAAAAAA.xml")
    assert missing_xml.status_code == 404 and ET.fromstring(missing_xml.content).tag == "errors"
    assert (await client.get("/open311/v2/tokens/AAAAAAAAAAAAAAAA.json")).status_code == 404
    assert (await client.get("/open311/v2/requests.csv")).status_code == 404
    assert (await client.get("/open311/v2/requests.json", params={"status": "pending"})).status_code == 400


async def test_open311_village_codes_in_and_out(client: httpx.AsyncClient, settings: GatewaySettings) -> None:
    key = _api_key(settings)
    village = "33.74.01.1001"
    by_attribute = await client.post(
        "/open311/v2/requests.json",
        data=_post_form(key, lat="", long="", address_string="", **{"attribute[village_code]": village}),
    )
    assert by_attribute.status_code == 201, by_attribute.text
    by_address_id = await client.post(
        "/open311/v2/requests.xml", data=_post_form(key, address_string="", address_id="33.74.02.1002")
    )
    assert by_address_id.status_code == 201, by_address_id.text
    first = by_attribute.json()[0]["service_request_id"]
    second = ET.fromstring(by_address_id.content).findtext("request/service_request_id")

    [one] = (await client.get(f"/open311/v2/requests/{first}.json")).json()
    assert (one["address_id"], one["lat"], one["long"], one["address"]) == (village, None, None, "")
    root = ET.fromstring((await client.get(f"/open311/v2/requests/{second}.xml")).content)
    assert root.findtext("request/address_id") == "33.74.02.1002" and root.findtext("request/lat") == "-7.005"
    listed = {r["service_request_id"]: r["address_id"] for r in (await client.get("/open311/v2/requests.json")).json()}
    assert listed == {first: village, second: "33.74.02.1002"}

    # An anonymous complaint shows no location at all, so no village either.
    anonymous = await file(client, anonymous=True, location={"village_code": "33.74.03.1003"})
    [hidden] = (await client.get(f"/open311/v2/requests/{anonymous['ticket_id']}.json")).json()
    assert (hidden["address_id"], hidden["lat"], hidden["address"]) == ("", None, "")

    bad = await client.post("/open311/v2/requests.json", data=_post_form(key, **{"attribute[village_code]": "33-74"}))
    assert bad.status_code == 400 and bad.json()[0]["description"].startswith("attribute[village_code]: ")
    bad_id = await client.post("/open311/v2/requests.json", data=_post_form(key, address_id="Semarang"))
    assert bad_id.status_code == 400 and bad_id.json()[0]["description"].startswith("address_id: ")
    both = await client.post(
        "/open311/v2/requests.json",
        data=_post_form(key, address_id=village, **{"attribute[village_code]": "33.74.02.1002"}),
    )
    assert both.status_code == 400 and "different villages" in both.json()[0]["description"]
    assert len((await client.get("/open311/v2/requests.json")).json()) == 3


async def test_open311_media_url_on_loopback_is_refused_by_default(
    client: httpx.AsyncClient, settings: GatewaySettings
) -> None:
    assert settings.media_fetch_allow_networks == []
    key = _api_key(settings)
    with media_server() as server:
        server.answers["/foto.jpg"] = Answer(JPEG)
        for fmt in ("json", "xml"):
            refused = await client.post(
                f"/open311/v2/requests.{fmt}", data=_post_form(key, media_url=f"{server.url}/foto.jpg")
            )
            assert refused.status_code == 400
            description = (
                refused.json()[0]["description"]
                if fmt == "json"
                else ET.fromstring(refused.content).findtext("error/description")
            )
            assert description.startswith("media_url: ") and "loopback" in description
        assert server.requests == []
    assert (await client.get("/open311/v2/requests.json")).json() == []


# The public web pages.


async def test_web_pages_file_and_track(client: httpx.AsyncClient) -> None:
    form_page = await client.get("/pengaduan")
    assert form_page.status_code == 200 and 'href="/pengaduan"' in form_page.text
    assert "Sampaikan pengaduan" in form_page.text and 'value="jalan_rusak"' in form_page.text
    assert "https://" not in form_page.text.replace("https://example", "")

    invalid = await client.post("/pengaduan", data={"category_code": "jalan_rusak", "title": "Rusak"})
    assert invalid.status_code == 400 and "Pengaduan belum terkirim" in invalid.text

    filed = await client.post(
        "/pengaduan",
        data={
            "complaint_class": "pengaduan",
            "category_code": "banjir_drainase",
            "title": "Saluran tersumbat di Kaligawe",
            "description": "Air menggenang setiap hujan karena saluran tersumbat sampah.",
            "address": "Jl. Kaligawe Raya",
            "name": "Sri Wahyuni",
            "phone": "081311112222",
        },
    )
    assert filed.status_code == 200 and filed.headers["cache-control"] == "no-store"
    assert "PIN hanya ditampilkan sekali" in filed.text
    ticket = filed.text.split('id="ticket-id" class="code">')[1].split("<")[0]
    pin = filed.text.split('id="ticket-pin" class="code">')[1].split("<")[0]
    assert len(ticket) == 16 and len(pin) == 8

    tracked = await client.post("/pengaduan/lacak", data={"ticket_id": ticket, "pin": pin})
    assert tracked.status_code == 200 and "Diterima, menunggu verifikasi" in tracked.text and " WIB" in tracked.text
    assert ticket not in str(tracked.url) and pin not in str(tracked.url)
    english = await client.post("/pengaduan/lacak?lang=en", data={"ticket_id": ticket, "pin": pin})
    assert "Received, awaiting verification" in english.text
    wrong = await client.post("/pengaduan/lacak?lang=id", data={"ticket_id": ticket, "pin": "99999999"})
    assert wrong.status_code == 404 and "Tidak ada pengaduan" in wrong.text


# The leak test of issue #3.

ANON = {"name": "Wiryawan Pratamasetya Kusumo", "nik": "3374012345678901", "phone": "081299887766",
        "email": "wiryawan.bocor@example.id"}  # fmt: skip
SECRET = {"name": "Sekarwangi Larasati Purbonegoro", "nik": "3374019876543210", "phone": "085711223344",
          "email": "sekar.bocor@example.id"}  # fmt: skip
PUBLIC = {"name": "Bambang Supriyadi Uji Bocor", "nik": "3374015555666677", "phone": "087788990011",
          "email": "bambang.bocor@example.id"}  # fmt: skip
CONFIDENTIAL_TEXT = ["RAHASIA-ZX81", "Setoran tunai QUOKKA-7731", "Gang Rahasia Nomor 7"]
ANON_PLACE = "Gang Anonim Kenari 19"
INTERNAL_NOTE = "CATATAN-INTERNAL-PX42"
SECRET_PHOTO = JPEG.replace(b"\x11" * 3000, b"\x5a" * 3000)  # its hash must never show in public
#: The photo of a complaint filed in public and made rahasia by staff afterwards: hidden from then on.
TIGHTENED_PHOTO = JPEG.replace(b"\x11" * 3000, b"\x6b" * 3000)
TIGHTENED_TEXT = "DIRAHASIAKAN-KEMUDIAN-QT19"


def _forbidden() -> list[str]:
    values = [ANON_PLACE, INTERNAL_NOTE, *CONFIDENTIAL_TEXT, TIGHTENED_TEXT]
    values += [hashlib.sha256(SECRET_PHOTO).hexdigest(), hashlib.sha256(TIGHTENED_PHOTO).hexdigest()]
    for person in (ANON, SECRET, PUBLIC):
        values += [person["name"], person["nik"], person["phone"], person["email"], "+62" + person["phone"][1:]]
        values += [person["name"].split()[1]]  # a distinctive part of the name alone
    return values


async def test_no_public_route_leaks_identity_or_confidential_text(
    client: httpx.AsyncClient, login_as: LoginAs, settings: GatewaySettings
) -> None:
    anon = await file(
        client,
        anonymous=True,
        title=f"Pungutan liar PPDB, NIK saya {ANON['nik']}",
        description=f"Diminta uang pendaftaran. Hubungi {ANON['phone']} atau {ANON['email']}.",
        location={"latitude": -7.0123, "longitude": 110.4211, "address": ANON_PLACE, "village_code": "33.74.09.1009"},
        complainant=ANON,
        category_code="pendidikan",
        photos=[b64(WEBP)],
    )
    secret = await file(
        client,
        confidential=True,
        title=f"Dugaan pungli {CONFIDENTIAL_TEXT[0]} di Samsat",
        description=f"{CONFIDENTIAL_TEXT[1]} diminta petugas. Rumah saya di {CONFIDENTIAL_TEXT[2]}.",
        location={"latitude": -7.0222, "longitude": 110.4333, "address": CONFIDENTIAL_TEXT[2]},
        complainant=SECRET,
        category_code="administrasi_perizinan",
        photos=[b64(SECRET_PHOTO)],
    )
    public = await file(client, complainant=PUBLIC, photos=[b64(PNG)])
    tightened = await file(client, title=f"Laporan {TIGHTENED_TEXT}", photos=[b64(TIGHTENED_PHOTO)])
    officer = await login_as("officer", [Role.COMPLAINTS_OFFICER])
    # Public while filed (its photo_url was listed), rahasia from now on.
    before = (await client.get("/api/v1/public/complaints")).json()["complaints"]
    tightened_url = next(c["photo_url"] for c in before if c["ticket_id"] == tightened["ticket_id"])
    assert tightened_url and (await client.get(tightened_url)).content == TIGHTENED_PHOTO
    made_secret = await client.post(
        f"/api/v1/complaints/{tightened['ticket_id']}/confidentiality", headers=officer, json={"confidential": True}
    )
    assert made_secret.status_code == 200
    for ticket in (anon["ticket_id"], secret["ticket_id"], public["ticket_id"]):
        assert (await client.post(f"/api/v1/complaints/{ticket}/verify", headers=officer)).status_code == 200
        await client.post(f"/api/v1/complaints/{ticket}/assign", headers=officer, json={"agency_code": AGENCY})
        await client.post(f"/api/v1/complaints/{ticket}/start", headers=officer)
        await client.post(f"/api/v1/complaints/{ticket}/notes", headers=officer, json={"text": INTERNAL_NOTE})
    await client.post(
        f"/api/v1/complaints/{secret['ticket_id']}/respond",
        headers=officer,
        json={"text": f"Laporan {CONFIDENTIAL_TEXT[0]} diteruskan ke Inspektorat."},
    )
    await client.post(
        f"/api/v1/complaints/{anon['ticket_id']}/respond", headers=officer, json={"text": "Sudah kami tindak lanjuti."}
    )
    key = _api_key(settings)
    await client.post("/open311/v2/requests.json", data=_post_form(key))

    ids = [anon["ticket_id"], secret["ticket_id"], public["ticket_id"], tightened["ticket_id"]]
    responses: list[httpx.Response] = []

    async def get(url: str, **kw: Any) -> httpx.Response:
        response = await client.get(url, **kw)
        responses.append(response)
        return response

    async def post(url: str, **kw: Any) -> httpx.Response:
        response = await client.post(url, **kw)
        responses.append(response)
        return response

    listed = (await get("/api/v1/public/complaints")).json()["complaints"]
    assert {c["ticket_id"] for c in listed} >= {anon["ticket_id"], public["ticket_id"]}
    assert secret["ticket_id"] not in {c["ticket_id"] for c in listed}
    assert tightened["ticket_id"] not in {c["ticket_id"] for c in listed}
    anon_public = next(c for c in listed if c["ticket_id"] == anon["ticket_id"])
    assert anon_public["location"] is None and "[NIK disembunyikan]" in anon_public["title"]
    # The public JSON links the first photo of what is public, as Open311's media_url does.
    public_public = next(c for c in listed if c["ticket_id"] == public["ticket_id"])
    assert public_public["photo_url"].endswith(hashlib.sha256(PNG).hexdigest())
    assert (await get(public_public["photo_url"])).content == PNG
    assert anon_public["photo_url"].endswith(hashlib.sha256(WEBP).hexdigest())
    assert (await get(anon_public["photo_url"])).content == WEBP
    assert {c["photo_url"] for c in listed if c["ticket_id"] not in ids} == {None}  # the Open311 one has none
    for status in ("in_progress", "responded"):
        await get("/api/v1/public/complaints", params={"status": status})
    await get("/api/v1/public/complaints", params={"category": "administrasi_perizinan"})
    for fmt in ("json", "xml"):
        body = (await get(f"/open311/v2/requests.{fmt}")).text
        assert anon["ticket_id"] in body and public["ticket_id"] in body and secret["ticket_id"] not in body
        await get(f"/open311/v2/requests.{fmt}", params={"service_request_id": ",".join(ids)})
        await get(f"/open311/v2/requests.{fmt}", params={"status": "open"})
        for ticket in ids:
            await get(f"/open311/v2/requests/{ticket}.{fmt}")
            await get(f"/open311/v2/tokens/{ticket}.{fmt}")
    assert (await get(f"/open311/v2/requests/{secret['ticket_id']}.json")).status_code == 404
    assert (await get(f"/open311/v2/tokens/{secret['ticket_id']}.json")).status_code == 404
    [anon_311] = (await get(f"/open311/v2/requests/{anon['ticket_id']}.json")).json()
    assert anon_311["lat"] is None and anon_311["address"] == "" and anon_311["address_id"] == ""
    # media_url links the first photo of what is public; a confidential complaint's photo nowhere.
    [public_311] = (await get(f"/open311/v2/requests/{public['ticket_id']}.json")).json()
    assert public_311["media_url"].endswith(hashlib.sha256(PNG).hexdigest())
    assert (await get(public_311["media_url"])).content == PNG
    assert anon_311["media_url"].endswith(hashlib.sha256(WEBP).hexdigest())
    secret_photo = f"/api/v1/complaints/{secret['ticket_id']}/photos/{hashlib.sha256(SECRET_PHOTO).hexdigest()}"
    assert (await client.get(secret_photo)).status_code == 404
    assert (await client.get(tightened_url)).status_code == 404  # the URL once listed serves nothing now
    # Tracking another ticket with one's own PIN, or a guessed one, shows nothing.
    for ticket in (anon["ticket_id"], secret["ticket_id"]):
        denied = await post("/api/v1/complaints/track", json={"ticket_id": ticket, "pin": public["pin"]})
        assert denied.status_code == 404
        assert (await post("/pengaduan/lacak", data={"ticket_id": ticket, "pin": public["pin"]})).status_code == 404
    assert (
        await post("/api/v1/complaints/track", json={"ticket_id": public["ticket_id"], "pin": public["pin"]})
    ).status_code == 200
    for page in ("/", "/pengaduan", "/pengaduan/lacak", "/pengaduan?lang=en", "/api/v1/public/complaint-categories"):
        await get(page)
    assert len(responses) > 30

    forbidden = _forbidden()
    for response in responses:
        haystack = response.text + "\n" + "\n".join(f"{k}: {v}" for k, v in response.headers.items())
        leaked = [value for value in forbidden if value.lower() in haystack.lower()]
        assert leaked == [], f"{response.request.method} {response.request.url} leaked {leaked}"


# A real browser: file through /pengaduan, track through /pengaduan/lacak.


@pytest.fixture
def live_gateway_with_complaints(tmp_path: Path, nats_server: NatsServer) -> Iterator[str]:
    """uvicorn on a free port, the real complaints service (SQLite) and the fake suite, on one background loop."""
    for live in live_complaints("complaints", tmp_path, nats_server.url):
        yield live["url"]


@pytest.mark.browser
def test_browser_files_and_tracks_a_complaint(live_gateway_with_complaints: str) -> None:
    chromium = os.environ.get("GRMS_CHROMIUM") or "/usr/bin/chromium"
    if not Path(chromium).exists():
        pytest.skip(f"no Chromium at {chromium} (install it with `apt-get install -y chromium` or set GRMS_CHROMIUM)")
    from playwright.sync_api import sync_playwright

    url = live_gateway_with_complaints
    artifacts = Path(__file__).resolve().parents[2] / "test-artifacts" / "gateway"
    artifacts.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
            page.on("pageerror", lambda err: problems.append(str(err)))
            page.on("requestfailed", lambda req: problems.append(f"failed: {req.url}"))
            page.goto(url + "/", wait_until="networkidle")
            page.click("nav >> text=Pengaduan")
            page.wait_for_load_state("networkidle")
            assert page.locator("h1").inner_text() == "Sampaikan pengaduan"
            page.select_option("#category_code", "jalan_rusak")
            page.fill("#title", "Jembatan retak di Ungaran")
            page.fill("#description", "Retakan besar di jembatan dekat pasar Ungaran, berbahaya untuk motor.")
            page.fill("#address", "Jl. Diponegoro, Ungaran")
            page.fill("#name", "Agus Salim")
            page.fill("#phone", "081355556666")
            page.click("button[type=submit]")
            page.wait_for_load_state("networkidle")
            ticket = page.locator("#ticket-id").inner_text()
            pin = page.locator("#ticket-pin").inner_text()
            assert len(ticket) == 16 and len(pin) == 8
            assert "PIN hanya ditampilkan sekali" in page.locator("[role=alert]").inner_text()
            page.screenshot(path=str(artifacts / "complaint-filed.png"), full_page=True)

            page.click("main a[href='/pengaduan/lacak']")
            page.wait_for_load_state("networkidle")
            page.fill("#ticket_id", ticket)
            page.fill("#pin", pin)
            page.click("button[type=submit]")
            page.wait_for_load_state("networkidle")
            assert page.locator("#tracked-status").inner_text() == "Diterima, menunggu verifikasi"
            assert "WIB" in page.locator("#tracked").inner_text()
            assert pin not in page.url and ticket not in page.url
            page.screenshot(path=str(artifacts / "complaint-tracked.png"), full_page=True)
        finally:
            browser.close()
    assert problems == [], problems
