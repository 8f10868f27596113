"""Complaint channels through the gateway, against the REAL complaints service in-process.

httpx → FastAPI → gRPC → ComplaintsService → SQL (SQLite and PostgreSQL). What was stored is
checked by asking the complaints service itself over gRPC, with an officer's token.
"""

from __future__ import annotations

import asyncio
import copy
import datetime as dt
import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest
from grms.complaints.v1 import complaint_pb2
from grms.complaints.v1 import complaints_service_pb2 as pb
from grms.complaints.v1 import complaints_service_pb2_grpc as pb_grpc
from grms_gateway.app import create_app
from grms_gateway.config import GatewaySettings
from grms_kit.identity import Identity, Role, TokenCodec
from grms_kit.testing import NatsServer

from .conftest import TEST_SECRET, FakeSuite, gateway_settings, with_lifespan_state
from .test_complaints import complaint_body, settings_for, start_complaints

PROBLEM = "application/problem+json"
VERIFY_TOKEN = "grms-verify-6c1f0e"
APP_SECRET = "meta-app-secret-0a9b8c7d6e5f"
SMS_SECRET = "sms-gateway-secret-4d3c2b1a"
WAMID = "wamid.HBgNNjI4MTIyNTU1MDEwMRUCABIYFjNFQjBCNkE3OEI5RjFEQzVFQTQ4AA=="
OFFICER_TOKEN = TokenCodec(TEST_SECRET).issue(
    Identity(sub="auditor-officer", roles=frozenset({Role.COMPLAINTS_OFFICER}), government="33"),
    ttl=dt.timedelta(hours=1),
)
OFFICER_METADATA = [("authorization", f"Bearer {OFFICER_TOKEN}")]


@pytest.fixture
async def complaints_port(database_url: str, nats_server: NatsServer, tmp_path: Path) -> AsyncIterator[int]:
    port, stop, task = await start_complaints(database_url, nats_server.url, tmp_path / "complaints")
    yield port
    stop.set()
    await asyncio.wait_for(task, 30)


@pytest.fixture
def settings(suite: FakeSuite, complaints_port: int, tmp_path: Path) -> GatewaySettings:
    """The gateway in front of the real complaints service, with every channel configured."""
    return settings_for(
        suite,
        complaints_port,
        tmp_path / "var",
        whatsapp_verify_token=VERIFY_TOKEN,
        whatsapp_app_secret=APP_SECRET,
        sms_secret=SMS_SECRET,
    )


@pytest.fixture
async def service(complaints_port: int) -> AsyncIterator[pb_grpc.ComplaintsServiceStub]:
    """The complaints service itself, to check what the channels stored."""
    async with grpc.aio.insecure_channel(f"127.0.0.1:{complaints_port}") as channel:
        yield pb_grpc.ComplaintsServiceStub(channel)


async def tickets(service: pb_grpc.ComplaintsServiceStub) -> list[str]:
    response = await service.ListPublicComplaints(pb.ListPublicComplaintsRequest(government_code="33"), timeout=5)
    return [c.ticket_id for c in response.complaints]


async def staff_view(service: pb_grpc.ComplaintsServiceStub, ticket: str) -> complaint_pb2.Complaint:
    request = pb.GetComplaintRequest(ticket_id=ticket)
    return (await service.GetComplaint(request, metadata=OFFICER_METADATA, timeout=5)).complaint


async def identity(service: pb_grpc.ComplaintsServiceStub, ticket: str) -> complaint_pb2.Complainant:
    request = pb.GetComplainantIdentityRequest(ticket_id=ticket, reason="Memeriksa hasil uji kanal aduan")
    return (await service.GetComplainantIdentity(request, metadata=OFFICER_METADATA, timeout=5)).complainant


def whatsapp_payload(*messages: dict[str, Any]) -> dict[str, Any]:
    """A Cloud API webhook delivery as Meta sends it."""
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "102290129340398",
                "changes": [
                    {
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {"display_phone_number": "6281129202000", "phone_number_id": "106540352242922"},
                            "contacts": [{"profile": {"name": "Budi Santoso"}, "wa_id": "6281225550101"}],
                            "messages": list(messages),
                        },
                        "field": "messages",
                    }
                ],
            }
        ],
    }


def text_message(body: str, message_id: str = WAMID) -> dict[str, Any]:
    return {
        "from": "6281225550101",
        "id": message_id,
        "timestamp": "1732480000",
        "text": {"body": body},
        "type": "text",
    }


def signed(body: bytes, secret: str = APP_SECRET) -> dict[str, str]:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {"X-Hub-Signature-256": f"sha256={digest}", "Content-Type": "application/json"}


COMPLAINT_TEXT = "Lampu jalan di Jl. Pemuda depan Gedung Keuangan mati sejak seminggu, gelap sekali malam hari."


# WhatsApp.


async def test_whatsapp_verification_handshake(client: httpx.AsyncClient) -> None:
    params = {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1158201444"}
    ok = await client.get("/webhooks/whatsapp", params=params)
    assert ok.status_code == 200 and ok.text == "1158201444"

    wrong = await client.get("/webhooks/whatsapp", params={**params, "hub.verify_token": "guess"})
    assert wrong.status_code == 403 and wrong.headers["content-type"] == PROBLEM
    not_subscribe = await client.get("/webhooks/whatsapp", params={**params, "hub.mode": "unsubscribe"})
    assert not_subscribe.status_code == 403
    assert "1158201444" not in wrong.text + not_subscribe.text


async def test_a_signed_delivery_makes_one_complaint_even_when_delivered_twice(
    client: httpx.AsyncClient, service: pb_grpc.ComplaintsServiceStub
) -> None:
    body = json.dumps(whatsapp_payload(text_message(COMPLAINT_TEXT))).encode()
    first = await client.post("/webhooks/whatsapp", content=body, headers=signed(body))
    assert first.status_code == 200, first.text
    assert first.json() == {"received": 1, "duplicates": 0, "attached": 0, "ignored": 0, "rejected": 0}

    again = await client.post("/webhooks/whatsapp", content=body, headers=signed(body))
    assert again.status_code == 200
    assert again.json() == {"received": 0, "duplicates": 1, "attached": 0, "ignored": 0, "rejected": 0}

    stored = await tickets(service)
    assert len(stored) == 1
    complaint = await staff_view(service, stored[0])
    assert complaint.channel == complaint_pb2.COMPLAINT_CHANNEL_WHATSAPP
    assert complaint.channel_message_id == WAMID and complaint.category_code == "lainnya"
    assert complaint.description == COMPLAINT_TEXT and complaint.title.startswith("Lampu jalan di Jl. Pemuda")
    assert complaint.recorded_by == ""
    person = await identity(service, stored[0])
    assert (person.name, person.phone) == ("Budi Santoso", "+6281225550101")


async def test_a_tampered_or_unsigned_delivery_is_refused_and_stores_nothing(
    client: httpx.AsyncClient, service: pb_grpc.ComplaintsServiceStub
) -> None:
    body = json.dumps(whatsapp_payload(text_message(COMPLAINT_TEXT))).encode()
    headers = signed(body)
    tampered = body.replace(b"Budi Santoso", b"Orang Lain!!")
    refused = await client.post("/webhooks/whatsapp", content=tampered, headers=headers)
    assert refused.status_code == 401 and refused.headers["content-type"] == PROBLEM

    other_secret = await client.post("/webhooks/whatsapp", content=body, headers=signed(body, "not-the-secret"))
    unsigned = await client.post("/webhooks/whatsapp", content=body, headers={"Content-Type": "application/json"})
    no_prefix = await client.post(
        "/webhooks/whatsapp", content=body, headers={"X-Hub-Signature-256": headers["X-Hub-Signature-256"][7:]}
    )
    assert [r.status_code for r in (other_secret, unsigned, no_prefix)] == [401, 401, 401]
    # A signed body that is not JSON is a 400, not a crash.
    garbage = b"{not json"
    assert (await client.post("/webhooks/whatsapp", content=garbage, headers=signed(garbage))).status_code == 400
    assert await tickets(service) == []


async def test_non_text_messages_are_acknowledged_and_ignored(
    client: httpx.AsyncClient, service: pb_grpc.ComplaintsServiceStub
) -> None:
    image = {
        "from": "6281225550101",
        "id": "wamid.image1",
        "timestamp": "1732480001",
        "type": "image",
        "image": {"mime_type": "image/jpeg", "sha256": "abc", "id": "1290391039"},
    }
    reaction = {
        "from": "6281225550101",
        "id": "wamid.reaction1",
        "timestamp": "1732480002",
        "type": "reaction",
        "reaction": {"message_id": WAMID, "emoji": "\U0001f44d"},
    }
    too_short = text_message("Halo", "wamid.short1")
    body = json.dumps(whatsapp_payload(image, reaction, too_short)).encode()
    response = await client.post("/webhooks/whatsapp", content=body, headers=signed(body))
    assert response.status_code == 200
    assert response.json() == {"received": 0, "duplicates": 0, "attached": 0, "ignored": 2, "rejected": 1}
    # Status updates (sent, delivered, read) come without messages.
    statuses = whatsapp_payload()
    statuses["entry"][0]["changes"][0]["value"]["statuses"] = [{"id": WAMID, "status": "read"}]
    body = json.dumps(statuses).encode()
    assert (await client.post("/webhooks/whatsapp", content=body, headers=signed(body))).json()["received"] == 0
    assert await tickets(service) == []


# SMS.


async def test_sms_webhook_needs_the_shared_secret_and_is_idempotent(
    client: httpx.AsyncClient, service: pb_grpc.ComplaintsServiceStub
) -> None:
    sms = {"from": "081225550101", "text": COMPLAINT_TEXT, "id": "sms-20241124-0001"}
    missing = await client.post("/webhooks/sms", json=sms)
    wrong = await client.post("/webhooks/sms", json=sms, headers={"X-GRMS-SMS-Secret": "guess"})
    assert (missing.status_code, wrong.status_code) == (401, 401)
    assert missing.headers["content-type"] == PROBLEM
    assert await tickets(service) == []

    secret = {"X-GRMS-SMS-Secret": SMS_SECRET}
    first = await client.post("/webhooks/sms", json=sms, headers=secret)
    assert first.status_code == 200, first.text
    filed = first.json()
    assert not filed["duplicate_delivery"] and len(filed["pin"]) == 8 and filed["pin"] in filed["reply"]
    again = (await client.post("/webhooks/sms", json=sms, headers=secret)).json()
    assert again["ticket_id"] == filed["ticket_id"] and again["duplicate_delivery"] and again["pin"] == ""
    assert filed["ticket_id"] in again["reply"]

    # The same gateway may post a form instead of JSON.
    form = await client.post(
        "/webhooks/sms", data={**sms, "id": "sms-20241124-0002", "message": "ignored"}, headers=secret
    )
    assert form.status_code == 200 and form.json()["ticket_id"] != filed["ticket_id"]
    bad = await client.post("/webhooks/sms", json={"from": "0812", "text": ""}, headers=secret)
    assert bad.status_code == 422 and {e["field"] for e in bad.json()["errors"]} == {"from", "text", "id"}

    assert sorted(await tickets(service)) == sorted([filed["ticket_id"], form.json()["ticket_id"]])
    complaint = await staff_view(service, filed["ticket_id"])
    assert complaint.channel == complaint_pb2.COMPLAINT_CHANNEL_SMS
    assert complaint.channel_message_id == "sms-20241124-0001"
    person = await identity(service, filed["ticket_id"])
    assert (person.name, person.phone) == ("", "+6281225550101")
    # The PIN the SMS reply carries is the complaint's PIN.
    tracked = await client.post("/api/v1/complaints/track", json={"ticket_id": filed["ticket_id"], "pin": filed["pin"]})
    assert tracked.status_code == 200


async def test_unconfigured_channels_answer_503(suite: FakeSuite, tmp_path: Path) -> None:
    settings = gateway_settings(suite, tmp_path / "bare")
    app = create_app(settings)
    async with app.router.lifespan_context(app) as state:
        transport = httpx.ASGITransport(app=with_lifespan_state(app, dict(state or {})))
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as http:
            handshake = await http.get(
                "/webhooks/whatsapp",
                params={"hub.mode": "subscribe", "hub.verify_token": "", "hub.challenge": "8802417"},
            )
            body = json.dumps(whatsapp_payload(text_message(COMPLAINT_TEXT))).encode()
            delivery = await http.post("/webhooks/whatsapp", content=body, headers=signed(body))
            sms = await http.post("/webhooks/sms", json={"from": "0812", "text": "x", "id": "1"})
    for response in (handshake, delivery, sms):
        assert response.status_code == 503 and response.headers["content-type"] == PROBLEM
        assert response.json()["detail"] == "channel not configured"
    assert "8802417" not in handshake.text  # no challenge echoed


# Social-media mentions.


def mention(post_id: str, **changes: str) -> dict[str, str]:
    values = {
        "platform": "twitter",
        "post_id": post_id,
        "author_handle": "@warga_smg",
        "author_name": "Warga Semarang",
        "text": "@LaporGubJateng jalan di Jl. Kaligawe berlubang besar, sudah dua motor jatuh minggu ini",
        "url": f"https://twitter.com/warga_smg/status/{post_id}",
    }
    values.update(changes)
    return values


async def test_social_import_needs_an_officer_and_is_idempotent_by_post(
    client: httpx.AsyncClient, login_as: Any, service: pb_grpc.ComplaintsServiceStub
) -> None:
    body = {"mentions": [mention("1860012345678901234"), mention("1860012345678909999", author_name="")]}
    assert (await client.post("/api/v1/complaints/import/social", json=body)).status_code == 401
    head = await login_as("kadinkes", [Role.AGENCY_HEAD])
    assert (await client.post("/api/v1/complaints/import/social", json=body, headers=head)).status_code == 403
    assert await tickets(service) == []

    officer = await login_as("officer", [Role.COMPLAINTS_OFFICER])
    first = await client.post("/api/v1/complaints/import/social", json=body, headers=officer)
    assert first.status_code == 200, first.text
    assert (first.json()["created"], first.json()["duplicates"]) == (2, 0)
    again = (await client.post("/api/v1/complaints/import/social", json=body, headers=officer)).json()
    assert (again["created"], again["duplicates"]) == (0, 2)
    assert [r["ticket_id"] for r in again["results"]] == [r["ticket_id"] for r in first.json()["results"]]
    assert sorted(await tickets(service)) == sorted(r["ticket_id"] for r in first.json()["results"])

    ticket = first.json()["results"][1]["ticket_id"]
    complaint = await staff_view(service, ticket)
    assert complaint.channel == complaint_pb2.COMPLAINT_CHANNEL_SOCIAL_MEDIA
    assert complaint.channel_message_id == "twitter:1860012345678909999" and complaint.recorded_by
    assert "https://twitter.com/warga_smg/status/1860012345678909999" in complaint.description
    person = await identity(service, ticket)
    assert (person.name, person.handle, person.phone) == ("warga_smg", "twitter:@warga_smg", "")

    unknown_field = {"mentions": [{**mention("1"), "likes": "9"}]}
    refused = await client.post("/api/v1/complaints/import/social", json=unknown_field, headers=officer)
    assert refused.status_code == 422


# Operator entry.


async def test_operator_entry_needs_the_role_and_records_the_operator_and_the_village_head(
    client: httpx.AsyncClient, login_as: Any, service: pb_grpc.ComplaintsServiceStub
) -> None:
    villager = {"name": "Mbok Sarinah", "phone": "0813 2555 0202"}
    head_of_village = {"name": "Slamet Riyadi", "village_code": "33.74.01.1001", "role": "kepala_desa"}
    body = complaint_body(channel="walk_in", complainant=villager, submitted_by=head_of_village)
    assert (await client.post("/api/v1/complaints/operator", json=body)).status_code == 401
    agency = await login_as("kadinkes", [Role.AGENCY_HEAD])
    forbidden = await client.post("/api/v1/complaints/operator", json=body, headers=agency)
    assert forbidden.status_code == 403 and forbidden.headers["content-type"] == PROBLEM
    # Nor can the public form claim to be an operator.
    public = await client.post("/api/v1/complaints", json=complaint_body(channel="hotline"))
    assert public.status_code == 401
    assert await tickets(service) == []

    officer = await login_as("officer", [Role.COMPLAINTS_OFFICER])
    web = await client.post("/api/v1/complaints/operator", json={**body, "channel": "web"}, headers=officer)
    assert web.status_code == 422 and await tickets(service) == []
    entered = await client.post("/api/v1/complaints/operator", json=body, headers=officer)
    assert entered.status_code == 201, entered.text
    ticket, pin = entered.json()["ticket_id"], entered.json()["pin"]
    assert len(pin) == 8

    staff = (await client.get(f"/api/v1/complaints/{ticket}", headers=officer)).json()
    sub = TokenCodec(TEST_SECRET).verify(officer["Authorization"].removeprefix("Bearer ")).sub
    assert staff["channel"] == "walk_in" and staff["recorded_by"] == sub
    assert staff["submitted_by"] == head_of_village
    assert staff["location"]["village_code"] == "33.74.01.1001"  # where the village head's village is
    # The villager, not the village head, is the complainant.
    person = await identity(service, ticket)
    assert (person.name, person.phone) == ("Mbok Sarinah", "+6281325550202")

    hotline = copy.deepcopy(body)
    hotline.update(channel="hotline", submitted_by=None)
    by_phone = await client.post("/api/v1/complaints/operator", json=hotline, headers=officer)
    assert by_phone.status_code == 201
    staff = (await client.get(f"/api/v1/complaints/{by_phone.json()['ticket_id']}", headers=officer)).json()
    assert staff["channel"] == "hotline" and staff["recorded_by"] == sub and staff["submitted_by"] is None
