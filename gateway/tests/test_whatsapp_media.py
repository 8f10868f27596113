"""WhatsApp image and location messages: the Graph API is a real HTTP server of the test, the complaints service real.

An image's media is fetched as Meta serves it (GET /{media-id} → url, then the url, both
with the bearer token); a text, then an image without caption, then a location from the
same number make one complaint with a photo and a point.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest
from grms.complaints.v1 import complaint_pb2
from grms.complaints.v1 import complaints_service_pb2 as pb
from grms.complaints.v1 import complaints_service_pb2_grpc as pb_grpc
from grms_gateway.config import GatewaySettings

from .conftest import FakeSuite
from .media_server import Answer, MediaServer, media_server
from .test_channels import APP_SECRET, COMPLAINT_TEXT, signed, staff_view, text_message, tickets, whatsapp_payload
from .test_complaints import JPEG, PNG, complaints_port, settings_for

__all__ = ["complaints_port"]  # the fixture, used by `settings` below

ACCESS_TOKEN = "EAAG-uji-token-akses-whatsapp"
SENDER = "6281225550101"
MEDIA_ID = "1290391039"
COMPLAINANT = complaint_pb2.ATTACHMENT_SOURCE_COMPLAINANT


@pytest.fixture
def graph() -> Iterator[MediaServer]:
    """The Graph API (and Meta's media host) as a local HTTP server."""
    with media_server() as server:
        yield server


@pytest.fixture
def settings(suite: FakeSuite, complaints_port: int, tmp_path: Path, graph: MediaServer) -> GatewaySettings:
    return settings_for(
        suite,
        complaints_port,
        tmp_path / "var",
        whatsapp_app_secret=APP_SECRET,
        whatsapp_access_token=ACCESS_TOKEN,
        whatsapp_graph_url=f"{graph.url}/v21.0",
        media_fetch_allow_networks=["127.0.0.1/32"],
    )


@pytest.fixture
async def service(complaints_port: int) -> AsyncIterator[pb_grpc.ComplaintsServiceStub]:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{complaints_port}") as channel:
        yield pb_grpc.ComplaintsServiceStub(channel)


def serve_media(graph: MediaServer, media_id: str, content: bytes) -> None:
    graph.answers[f"/v21.0/{media_id}"] = Answer(
        json.dumps(
            {
                "messaging_product": "whatsapp",
                "url": f"{graph.url}/whatsapp_business/attachments/?mid={media_id}&ext=1732480000",
                "mime_type": "image/jpeg",
                "sha256": hashlib.sha256(content).hexdigest(),
                "file_size": len(content),
                "id": media_id,
            }
        ).encode(),
        headers={"Content-Type": "application/json"},
    )
    graph.answers[f"/whatsapp_business/attachments/?mid={media_id}&ext=1732480000"] = Answer(
        content, headers={"Content-Type": "image/jpeg"}
    )


def image_message(message_id: str, media_id: str, content: bytes, caption: str = "") -> dict[str, Any]:
    image: dict[str, Any] = {
        "mime_type": "image/jpeg",
        "sha256": base64.b64encode(hashlib.sha256(content).digest()).decode(),
        "id": media_id,
    }
    if caption:
        image["caption"] = caption
    return {"from": SENDER, "id": message_id, "timestamp": "1732480100", "type": "image", "image": image}


def location_message(message_id: str, latitude: float = -6.982634, longitude: float = 110.409812) -> dict[str, Any]:
    return {
        "from": SENDER,
        "id": message_id,
        "timestamp": "1732480200",
        "type": "location",
        "location": {"latitude": latitude, "longitude": longitude, "name": "Kantor Pos", "address": "Jl. Pemuda"},
    }


async def deliver(client: httpx.AsyncClient, *messages: dict[str, Any]) -> httpx.Response:
    body = json.dumps(whatsapp_payload(*messages)).encode()
    return await client.post("/webhooks/whatsapp", content=body, headers=signed(body))


def counts(**changes: int) -> dict[str, int]:
    return {"received": 0, "duplicates": 0, "attached": 0, "ignored": 0, "rejected": 0, **changes}


async def test_text_then_photo_then_location_make_one_complaint(
    client: httpx.AsyncClient, service: pb_grpc.ComplaintsServiceStub, graph: MediaServer
) -> None:
    serve_media(graph, MEDIA_ID, JPEG)
    assert (await deliver(client, text_message(COMPLAINT_TEXT, "wamid.teks1"))).json() == counts(received=1)
    photo = await deliver(client, image_message("wamid.foto1", MEDIA_ID, JPEG))
    assert photo.status_code == 200 and photo.json() == counts(attached=1)
    assert (await deliver(client, location_message("wamid.lokasi1"))).json() == counts(attached=1)
    # Meta delivers again: nothing is joined twice.
    again = await deliver(client, image_message("wamid.foto1", MEDIA_ID, JPEG), location_message("wamid.lokasi1"))
    assert again.json() == counts(duplicates=2)

    [ticket] = await tickets(service)
    complaint = await staff_view(service, ticket)
    assert [(a.sha256, a.source) for a in complaint.attachments] == [(hashlib.sha256(JPEG).hexdigest(), COMPLAINANT)]
    assert (complaint.location.point.latitude, complaint.location.point.longitude) == (-6.982634, 110.409812)
    assert complaint.location.address == "Kantor Pos, Jl. Pemuda"
    assert {h.get("authorization") for _, h in graph.requests} == {f"Bearer {ACCESS_TOKEN}"}
    assert graph.paths()[:2] == [f"/v21.0/{MEDIA_ID}", f"/whatsapp_business/attachments/?mid={MEDIA_ID}&ext=1732480000"]


async def test_a_captioned_image_is_a_complaint_of_its_own(
    client: httpx.AsyncClient, service: pb_grpc.ComplaintsServiceStub, graph: MediaServer
) -> None:
    serve_media(graph, "555", PNG)
    response = await deliver(client, image_message("wamid.foto2", "555", PNG, caption=COMPLAINT_TEXT))
    assert response.json() == counts(received=1)
    [ticket] = await tickets(service)
    complaint = await staff_view(service, ticket)
    assert complaint.description == COMPLAINT_TEXT and complaint.channel_message_id == "wamid.foto2"
    assert [a.media_type for a in complaint.attachments] == ["image/png"]


async def test_what_cannot_join_is_ignored_or_refused_and_stores_nothing(
    client: httpx.AsyncClient, service: pb_grpc.ComplaintsServiceStub, graph: MediaServer
) -> None:
    serve_media(graph, MEDIA_ID, JPEG)
    # No complaint from this number yet: an image or a location alone is not a complaint.
    alone = await deliver(client, image_message("wamid.foto3", MEDIA_ID, JPEG), location_message("wamid.lokasi3"))
    assert alone.json() == counts(ignored=2)
    assert await tickets(service) == []

    assert (await deliver(client, text_message(COMPLAINT_TEXT, "wamid.teks4"))).json() == counts(received=1)
    wrong_hash = image_message("wamid.foto4", MEDIA_ID, JPEG)
    wrong_hash["image"]["sha256"] = hashlib.sha256(b"lain").hexdigest()
    abroad = location_message("wamid.lokasi4", latitude=48.85, longitude=2.35)
    graph.answers["/v21.0/777"] = Answer(b'{"url": "http://169.254.169.254/latest/meta-data/"}')
    metadata_host = image_message("wamid.foto5", "777", JPEG)
    serve_media(graph, "888", b"%PDF-1.7\n" + JPEG)
    not_image = image_message("wamid.foto6", "888", JPEG)
    refused = await deliver(client, wrong_hash, abroad, metadata_host, not_image)
    assert refused.status_code == 200 and refused.json() == counts(rejected=4)
    [ticket] = await tickets(service)
    complaint = await staff_view(service, ticket)
    assert list(complaint.attachments) == [] and not complaint.location.HasField("point")

    # The Graph API failing for a moment: 503, so that Meta delivers again.
    graph.answers[f"/v21.0/{MEDIA_ID}"] = Answer(b'{"error": "busy"}', status=503)
    busy = await deliver(client, image_message("wamid.foto7", MEDIA_ID, JPEG))
    assert busy.status_code == 503 and busy.headers["content-type"] == "application/problem+json"
    serve_media(graph, MEDIA_ID, JPEG)
    assert (await deliver(client, image_message("wamid.foto7", MEDIA_ID, JPEG))).json() == counts(attached=1)


async def test_joining_needs_the_channel_role(service: pb_grpc.ComplaintsServiceStub) -> None:
    request = pb.AttachChannelMessageRequest(
        government_code="33",
        channel=complaint_pb2.COMPLAINT_CHANNEL_WHATSAPP,
        sender_phone="+" + SENDER,
        window_seconds=600,
        photo=JPEG,
    )
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await service.AttachChannelMessage(request, timeout=5)
    assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED
