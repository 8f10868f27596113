"""The handlers' inbox (/pengaduan/kotak-masuk) against the REAL complaints service: forms, CSRF, errors, a browser.

httpx → FastAPI → gRPC → ComplaintsService → SQL (SQLite and PostgreSQL); the browser test
drives headless Chromium through login, the inbox and one handler's whole flow.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from grms_gateway.web.complaint_inbox_pages import countdown
from grms_kit.identity import Role
from grms_kit.testing import NatsServer

from .complaints_stack import live_complaints
from .conftest import ADMIN_PASSWORD
from .test_complaints import (  # noqa: F401
    AGENCY,
    LoginAs,
    complaint_body,
    complaints_port,
    file,
    settings,
)

NAME, NIK, PHONE = "Dewi Lestari", "3374015512900088", "081399990000"


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]{64})"', html)
    assert found is not None, "no CSRF token in the page"
    return found.group(1)


async def test_inbox_forms_with_csrf_and_errors_in_the_page(client: httpx.AsyncClient, login_as: LoginAs) -> None:
    officer = await login_as("officer", [Role.COMPLAINTS_OFFICER])
    filed = await file(client, complainant={"name": NAME, "nik": NIK, "phone": PHONE}, confidential=True)
    ticket = filed["ticket_id"]

    anonymous = await client.get("/pengaduan/kotak-masuk", follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/masuk?next=/pengaduan/kotak")
    client.cookies.set("grms_session", officer["Authorization"].removeprefix("Bearer "))
    inbox = await client.get("/pengaduan/kotak-masuk")
    assert inbox.status_code == 200 and f'data-ticket="{ticket}"' in inbox.text
    assert "sisa 23 jam" in inbox.text  # the first response is due in 24 hours
    for leak in (NAME, NIK, PHONE):
        assert leak not in inbox.text

    page = await client.get(f"/pengaduan/kotak-masuk/{ticket}")
    assert page.status_code == 200 and 'id="form-verify"' in page.text and 'id="form-respond"' not in page.text
    token = _csrf(page.text)
    forged = await client.post(f"/pengaduan/kotak-masuk/{ticket}/verify", data={"csrf": "0" * 64})
    assert forged.status_code == 403 and "Formulir kedaluwarsa" in forged.text
    assert (await client.get(f"/api/v1/complaints/{ticket}", headers=officer)).json()["status"] == "received"

    async def post(action: str, **form: str) -> httpx.Response:
        return await client.post(f"/pengaduan/kotak-masuk/{ticket}/{action}", data={"csrf": token, **form})

    done = await post("verify")
    assert done.status_code == 303 and done.headers["location"] == f"/pengaduan/kotak-masuk/{ticket}?selesai=verify"
    assert (await post("assign", agency_code=AGENCY)).status_code == 303
    again = await post("assign", agency_code=AGENCY, reason="")
    assert again.status_code == 400 and "a re-route needs a reason" in again.text  # a re-route without a reason
    assert (await post("start")).status_code == 303
    too_short = await post("respond", text="x")
    assert too_short.status_code == 400 and 'role="alert"' in too_short.text and "text" in too_short.text
    assert ">x</textarea>" in too_short.text  # what was typed comes back
    assert (await post("note", text="Sudah dicek ke lokasi oleh UPT")).status_code == 303
    assert (await post("respond", text=f"Sudah diperbaiki; hubungi {PHONE}")).status_code == 303
    shown = await client.get(f"/pengaduan/kotak-masuk/{ticket}?selesai=respond")
    assert 'id="done"' in shown.text and "Sudah ditindaklanjuti" in shown.text
    assert "Sudah dicek ke lokasi oleh UPT" in shown.text and 'id="form-resolve"' in shown.text
    assert (await post("resolve")).status_code == 303
    assert f'data-ticket="{ticket}"' not in (await client.get("/pengaduan/kotak-masuk")).text

    other = (await file(client))["ticket_id"]
    rejected = await client.post(
        f"/pengaduan/kotak-masuk/{other}/reject", data={"csrf": token, "reason": "spam", "note": "Iklan"}
    )
    assert rejected.status_code == 303
    assert (await client.get(f"/api/v1/complaints/{other}", headers=officer)).json()["status"] == "rejected"
    assert (await client.get("/pengaduan/kotak-masuk/BUKANTIKET")).status_code == 404
    assert (await client.post(f"/pengaduan/kotak-masuk/{other}/hapus", data={"csrf": token})).status_code == 404


async def test_readers_who_do_not_handle_are_refused(client: httpx.AsyncClient, login_as: LoginAs) -> None:
    executive = await login_as("sekda", [Role.EXECUTIVE])
    client.cookies.set("grms_session", executive["Authorization"].removeprefix("Bearer "))
    assert (await client.get("/pengaduan/kotak-masuk")).status_code == 403


def test_countdown_words() -> None:
    now = dt.datetime(2025, 6, 2, 1, 0, tzinfo=dt.UTC)
    assert countdown(now + dt.timedelta(hours=3, minutes=20), now) == ("sisa 3 jam 20 menit", False)
    assert countdown(now - dt.timedelta(days=1, hours=2, minutes=5), now) == ("terlambat 1 hari 2 jam", True)
    assert countdown(now + dt.timedelta(minutes=5), now, "en") == ("5 min left", False)
    assert countdown(None, now) == ("", False)


# A real browser: one handler's whole flow.


@pytest.fixture
def live_inbox(tmp_path: Path, nats_server: NatsServer) -> Iterator[dict[str, Any]]:
    """uvicorn on a free port with the real complaints service (SQLite), an officer account and one complaint."""

    async def file_one(live: dict[str, Any]) -> None:
        async with httpx.AsyncClient(base_url=live["url"]) as http:
            body = complaint_body(title="Lampu jalan mati di Jl. Pahlawan")
            live["ticket"] = (await http.post("/api/v1/complaints", json=body)).json()["ticket_id"]

    officer = ("petugas", Role.COMPLAINTS_OFFICER, "Petugas Pengaduan")
    yield from live_complaints("inbox", tmp_path, nats_server.url, users=[officer], after_start=file_one)


@pytest.mark.browser
def test_browser_handler_verifies_routes_answers_and_resolves(live_inbox: dict[str, Any]) -> None:
    chromium = os.environ.get("GRMS_CHROMIUM") or "/usr/bin/chromium"
    if not Path(chromium).exists():
        pytest.skip(f"no Chromium at {chromium} (install it with `apt-get install -y chromium` or set GRMS_CHROMIUM)")
    from playwright.sync_api import sync_playwright

    url, ticket = live_inbox["url"], live_inbox["ticket"]
    artifacts = Path(__file__).resolve().parents[2] / "test-artifacts" / "gateway"
    artifacts.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("pageerror", lambda err: problems.append(str(err)))
            page.on("requestfailed", lambda req: problems.append(f"failed: {req.url}"))
            page.goto(url + "/pengaduan/kotak-masuk", wait_until="networkidle")
            assert "/masuk" in page.url
            page.fill("#username", "petugas")
            page.fill("#password", ADMIN_PASSWORD)
            page.click("main button[type=submit]")
            page.wait_for_load_state("networkidle")
            assert page.locator("h1").inner_text() == "Kotak Masuk Pengaduan"
            assert "sisa" in page.locator(f"tr[data-ticket='{ticket}'] .countdown").inner_text()
            page.screenshot(path=str(artifacts / "complaint-inbox.png"), full_page=True)
            page.click(f"a[href='/pengaduan/kotak-masuk/{ticket}']")
            page.wait_for_load_state("networkidle")
            page.click("#form-verify button")
            page.wait_for_load_state("networkidle")
            assert page.locator("#complaint-status").inner_text() == "Diverifikasi"
            page.select_option("#agency_code", AGENCY)
            page.click("#form-assign button")
            page.wait_for_load_state("networkidle")
            assert page.locator("#complaint-agency").inner_text() == "Dinas Kesehatan"
            page.click("#form-start button")
            page.wait_for_load_state("networkidle")
            page.fill("#respond_text", "x")
            page.click("#form-respond button")
            page.wait_for_load_state("networkidle")
            assert "text" in page.locator("#errors").inner_text()  # the service's field violation, in the page
            page.fill("#respond_text", "Lampu sudah diganti oleh Dishub pada pagi ini.")
            page.click("#form-respond button")
            page.wait_for_load_state("networkidle")
            assert page.locator("#complaint-status").inner_text() == "Sudah ditindaklanjuti"
            assert "Lampu sudah diganti" in page.locator("#replies").inner_text()
            page.click("#form-resolve button")
            page.wait_for_load_state("networkidle")
            assert page.locator("#complaint-status").inner_text() == "Selesai"
            page.screenshot(path=str(artifacts / "complaint-inbox-resolved.png"), full_page=True)
        finally:
            browser.close()
    assert problems == [], problems
