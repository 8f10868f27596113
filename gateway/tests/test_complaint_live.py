"""Live public tracking over server-sent events, against the REAL complaints service and a real NATS.

A uvicorn gateway (streams need a real server) in front of the complaints service: the
tracking page hands out the events URL with a watch token, the stream sends the status at
once and again when staff act — nudged by the complaints events on JetStream, or, with the
feed off, by the periodic re-check.
"""

from __future__ import annotations

import asyncio
import html
import json
import os
import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from grms_gateway.live import ComplaintFeed
from grms_gateway.web.complaint_live import sse
from grms_kit.identity import Role
from grms_kit.testing import NatsServer

from .complaints_stack import AGENCY, live_complaints
from .conftest import ADMIN_PASSWORD
from .test_complaints import complaint_body

PHONE = "081311112222"


def serve(tmp_path: Path, nats_url: str, **live: Any) -> Iterator[str]:
    """uvicorn with the real complaints service (SQLite) and an officer account; yields the base URL."""
    officer = ("petugas", Role.COMPLAINTS_OFFICER, "Petugas")
    for started in live_complaints("sse", tmp_path, nats_url, users=[officer], nats_url=nats_url, **live):
        yield started["url"]


@pytest.fixture
def with_feed(tmp_path: Path, nats_server: NatsServer) -> Iterator[str]:
    # A re-check far away: an update inside the test can only come from the JetStream feed.
    yield from serve(tmp_path, nats_server.url, live_recheck=600, live_heartbeat=0.3)


@pytest.fixture
def without_feed(tmp_path: Path, nats_server: NatsServer) -> Iterator[str]:
    yield from serve(tmp_path, nats_server.url, live_events=False, live_recheck=0.3, live_heartbeat=0.1)


async def _events(lines: AsyncIterator[str]) -> AsyncIterator[tuple[str, Any]]:
    """(event, data) pairs from an SSE body, and ("comment", text) for heartbeats."""
    event, data = "message", ""
    async for line in lines:
        if line.startswith(":"):
            yield "comment", line[1:].strip()
        elif line.startswith("event:"):
            event = line[6:].strip()
        elif line.startswith("data:"):
            data += line[5:].strip()
        elif line == "" and data:
            yield event, json.loads(data)
            event, data = "message", ""


async def _track_then_follow(url: str) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=20) as http:
        filed = (await http.post("/api/v1/complaints", json=complaint_body())).json()
        ticket, pin = filed["ticket_id"], filed["pin"]
        page = await http.post("/pengaduan/lacak", data={"ticket_id": ticket, "pin": pin})
        found = re.search(r'data-events="([^"]+)"', page.text)
        assert page.status_code == 200 and found is not None and '<script src="/static/lacak-langsung.js"' in page.text
        events_url = html.unescape(found.group(1))
        assert pin not in events_url and events_url.startswith(f"/pengaduan/lacak/{ticket}/events?token=")
        script = await http.get("/static/lacak-langsung.js")
        assert script.status_code == 200 and "EventSource" in script.text

        assert (await http.get(events_url[:-1] + ("1" if events_url.endswith("0") else "0"))).status_code == 404
        assert (await http.get(f"/pengaduan/lacak/{ticket}/events?token=bukan")).status_code == 404

        token = (await http.post("/api/v1/auth/token", data={"username": "petugas", "password": ADMIN_PASSWORD})).json()
        officer = {"Authorization": f"Bearer {token['access_token']}"}
        async with http.stream("GET", events_url) as stream:
            assert stream.headers["content-type"].startswith("text/event-stream")
            events = _events(stream.aiter_lines())
            kind, first = await anext(events)
            assert kind == "status" and first["status"] == "received"
            assert first["status_label"] == "Diterima, menunggu verifikasi" and "WIB" in first["update_time"]

            base = f"/api/v1/complaints/{ticket}"
            assert (await http.post(f"{base}/verify", headers=officer)).status_code == 200
            assigned = await http.post(f"{base}/assign", headers=officer, json={"agency_code": AGENCY})
            assert assigned.status_code == 200
            await http.post(f"{base}/start", headers=officer)
            await http.post(f"{base}/respond", headers=officer, json={"text": f"Sudah kami tangani, hubungi {PHONE}."})

            async def until_responded() -> tuple[list[str], int]:
                statuses, pings = [], 0
                async for kind, data in events:
                    if kind == "comment":
                        pings += 1
                        continue
                    statuses.append(data["status"])
                    if data["status"] == "responded":
                        assert (
                            data["replies"][0]["text"] == "Sudah kami tangani, hubungi [nomor telepon disembunyikan]."
                        )
                        return statuses, pings
                raise AssertionError("the stream ended")

            statuses, _ = await asyncio.wait_for(until_responded(), timeout=15)
            assert statuses[-1] == "responded" and PHONE not in json.dumps(statuses)


async def test_a_status_change_arrives_over_sse_from_the_jetstream_feed(with_feed: str) -> None:
    await _track_then_follow(with_feed)


async def test_without_the_feed_the_periodic_recheck_delivers_it(without_feed: str) -> None:
    await _track_then_follow(without_feed)


async def test_the_feed_fans_out_by_ticket_and_forgets_listeners() -> None:
    feed = ComplaintFeed("nats://127.0.0.1:1")
    a, b = feed.listen("AAAAAAAAAAAAAAAA"), feed.listen("BBBBBBBBBBBBBBBB")
    feed.notify("AAAAAAAAAAAAAAAA")
    assert a.get_nowait() == "AAAAAAAAAAAAAAAA" and b.empty()
    for _ in range(40):  # a slow listener keeps one nudge per event up to its bound, never blocks
        feed.notify("BBBBBBBBBBBBBBBB")
    assert b.qsize() == 16
    feed.forget("AAAAAAAAAAAAAAAA", a)
    assert feed.listeners("AAAAAAAAAAAAAAAA") == 0 and feed.listeners("BBBBBBBBBBBBBBBB") == 1
    assert sse("status", {"status": "received"}, "12") == b'event: status\nid: 12\ndata: {"status":"received"}\n\n'


@pytest.mark.browser
def test_browser_tracking_page_updates_without_reload(with_feed: str) -> None:
    chromium = os.environ.get("GRMS_CHROMIUM") or "/usr/bin/chromium"
    if not Path(chromium).exists():
        pytest.skip(f"no Chromium at {chromium}")
    from playwright.sync_api import sync_playwright

    url = with_feed
    filed = httpx.post(f"{url}/api/v1/complaints", json=complaint_body(), timeout=20).json()
    token = httpx.post(
        f"{url}/api/v1/auth/token", data={"username": "petugas", "password": ADMIN_PASSWORD}, timeout=20
    ).json()["access_token"]
    problems: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page()
            page.on("pageerror", lambda err: problems.append(str(err)))
            page.goto(f"{url}/pengaduan/lacak", wait_until="networkidle")
            page.fill("#ticket_id", filed["ticket_id"])
            page.fill("#pin", filed["pin"])
            page.click("main button[type=submit]")
            page.wait_for_selector("#tracked[data-live='on']", timeout=10_000)
            headers = {"Authorization": f"Bearer {token}"}
            base = f"{url}/api/v1/complaints/{filed['ticket_id']}"
            assert httpx.post(f"{base}/verify", headers=headers, timeout=20).status_code == 200
            assert httpx.post(f"{base}/assign", headers=headers, json={"agency_code": AGENCY}, timeout=20).is_success
            page.wait_for_selector("#tracked-status[data-status='assigned']", timeout=10_000)
            assert page.locator("#tracked-status").inner_text() == "Didisposisikan ke perangkat daerah"
        finally:
            browser.close()
    assert problems == [], problems
