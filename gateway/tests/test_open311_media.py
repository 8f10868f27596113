"""Open311 photos: `media_url` fetched from a real local image server, `media` uploads, GET's `media_url`.

The gateway here may reach 127.0.0.1 (GRMS_GATEWAY_MEDIA_FETCH_ALLOW_NETWORKS, the setting for
tests); test_complaints.py proves that it may not by default. The complaints service is the
real one, as in test_complaints.py.
"""

from __future__ import annotations

import hashlib
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from grms_gateway.config import GatewaySettings

from .conftest import FakeSuite
from .media_server import Answer, MediaServer, media_server
from .test_complaints import JPEG, PNG, _api_key, _post_form, complaints_port, settings_for

__all__ = ["complaints_port"]  # the fixture, used by `settings` below


@pytest.fixture
def settings(suite: FakeSuite, complaints_port: int, tmp_path: Path) -> GatewaySettings:
    """The real complaints service, and fetches allowed to reach the loopback image server."""
    return settings_for(suite, complaints_port, tmp_path / "var", media_fetch_allow_networks=["127.0.0.1/32"])


@pytest.fixture
def images() -> Iterator[MediaServer]:
    with media_server() as server:
        yield server


async def test_media_url_is_fetched_stored_and_linked_in_get(
    client: httpx.AsyncClient, settings: GatewaySettings, images: MediaServer
) -> None:
    key = _api_key(settings)
    images.answers["/pju.jpg"] = Answer(JPEG, headers={"Content-Type": "application/octet-stream"})
    images.answers["/pindah.jpg"] = Answer(status=302, headers={"Location": "/pju.jpg"})
    posted = await client.post("/open311/v2/requests.json", data=_post_form(key, media_url=f"{images.url}/pindah.jpg"))
    assert posted.status_code == 201, posted.text
    ticket = posted.json()[0]["service_request_id"]
    assert images.paths() == ["/pindah.jpg", "/pju.jpg"]

    [one] = (await client.get(f"/open311/v2/requests/{ticket}.json")).json()
    sha = hashlib.sha256(JPEG).hexdigest()
    assert one["media_url"] == f"http://gateway.test/api/v1/complaints/{ticket}/photos/{sha}"
    assert "Lampiran" not in one["description"]
    served = await client.get(one["media_url"])
    assert served.status_code == 200 and served.content == JPEG and served.headers["content-type"] == "image/jpeg"
    root = ET.fromstring((await client.get("/open311/v2/requests.xml")).content)
    assert root.findtext("request/media_url") == one["media_url"]

    # A multipart `media` upload takes the same path; its type comes from the bytes.
    uploaded = await client.post(
        "/open311/v2/requests.json", data=_post_form(key), files={"media": ("foto.jpg", PNG, "image/jpeg")}
    )
    assert uploaded.status_code == 201, uploaded.text
    [two] = (await client.get(f"/open311/v2/requests/{uploaded.json()[0]['service_request_id']}.json")).json()
    assert two["media_url"].endswith(hashlib.sha256(PNG).hexdigest())
    assert (await client.get(two["media_url"])).headers["content-type"] == "image/png"


async def test_bad_media_refuses_the_request_and_stores_nothing(
    client: httpx.AsyncClient, settings: GatewaySettings, images: MediaServer
) -> None:
    key = _api_key(settings)
    limit = settings.complaint_photo_max_bytes
    images.answers["/besar.jpg"] = Answer(JPEG + b"\x00" * limit, chunked=True)
    images.answers["/dokumen.pdf"] = Answer(b"%PDF-1.7\n" + JPEG, headers={"Content-Type": "image/jpeg"})
    images.answers["/ke-metadata"] = Answer(status=302, headers={"Location": "http://169.254.169.254/latest/"})
    cases = {
        f"{images.url}/besar.jpg": "larger than the limit",
        f"{images.url}/dokumen.pdf": "not a JPEG, PNG or WebP image",
        f"{images.url}/tidak-ada.jpg": "HTTP 404",
        f"{images.url}/ke-metadata": "link-local",
        "http://10.20.30.40/foto.jpg": "private",
    }
    for url, reason in cases.items():
        refused = await client.post("/open311/v2/requests.json", data=_post_form(key, media_url=url))
        assert refused.status_code == 400, url
        [error] = refused.json()
        assert error["code"] == 400 and error["description"].startswith("media_url: ")
        assert reason in error["description"]

    not_image = await client.post(
        "/open311/v2/requests.xml", data=_post_form(key), files={"media": ("foto.jpg", b"%PDF-1.7\n" + JPEG)}
    )
    root = ET.fromstring(not_image.content)
    assert not_image.status_code == 400 and root.findtext("error/description").startswith("media: ")
    too_big = await client.post(
        "/open311/v2/requests.json", data=_post_form(key), files={"media": ("foto.jpg", JPEG + b"\x00" * limit)}
    )
    assert too_big.status_code == 400 and too_big.json()[0]["description"].startswith("media: ")
    assert (await client.get("/open311/v2/requests.json")).json() == []
