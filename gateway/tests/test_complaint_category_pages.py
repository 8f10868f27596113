"""The complaint categories admin page (/pengaduan/kategori) against the REAL complaints service, and a browser.

httpx → FastAPI → gRPC → ComplaintsService → SQL (SQLite and PostgreSQL): list, add, edit
(default agency, active flag), per-field errors, CSRF, optimistic concurrency (409 shown
in the page), admins only; the browser test drives headless Chromium through the same.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from grms_kit.identity import Role
from grms_kit.testing import NatsServer

from .complaints_stack import live_complaints
from .conftest import ADMIN_PASSWORD
from .test_complaints import (  # noqa: F401
    AGENCY,
    LoginAs,
    complaints_port,
    settings,
)

PAGE = "/pengaduan/kategori"


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]{64})"', html)
    assert found is not None, "no CSRF token in the page"
    return found.group(1)


def _version(html: str) -> str:
    found = re.search(r'name="version" value="(\d+)"', html)
    assert found is not None, "no version in the form"
    return found.group(1)


def _form(csrf: str, **changes: str) -> dict[str, str]:
    form = {
        "csrf": csrf,
        "code": "jalan_desa",
        "name": "Jalan desa rusak",
        "name_en": "Damaged village road",
        "description": "Jalan desa berlubang atau longsor",
        "group": "infrastruktur",
        "keywords": "jalan, desa, longsor",
        "default_agency_code": AGENCY,
        "active": "on",
    }
    form.update(changes)
    return {k: v for k, v in form.items() if v is not None}


async def test_admins_list_add_and_edit_categories(client: httpx.AsyncClient, login_as: LoginAs) -> None:
    admin = await login_as("admin", [Role.ADMIN])
    anonymous = await client.get(PAGE, follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"] == f"/masuk?next={PAGE}"
    client.cookies.set("grms_session", admin["Authorization"].removeprefix("Bearer "))

    listed = await client.get(PAGE)
    assert listed.status_code == 200 and "Kategori Pengaduan" in listed.text
    assert "untuk Provinsi Jawa Tengah" in listed.text
    assert 'data-code="jalan_rusak"' in listed.text and "bawaan sistem" in listed.text
    assert f'href="{PAGE}"' in listed.text  # the admin's menu links here
    token = _csrf(listed.text)

    forged = await client.post(PAGE, data=_form("0" * 64))
    assert forged.status_code == 403 and "Formulir kedaluwarsa" in forged.text
    invalid = await client.post(PAGE, data=_form(token, code="Jalan Desa!", name="x"))
    assert invalid.status_code == 400 and 'id="err-code"' in invalid.text and 'id="err-name"' in invalid.text
    assert 'value="Damaged village road"' in invalid.text  # what was typed comes back
    created = await client.post(PAGE, data=_form(token))
    assert created.status_code == 303 and created.headers["location"] == f"{PAGE}?dibuat=jalan_desa"
    shown = await client.get(created.headers["location"])
    assert "Kategori jalan_desa ditambahkan." in shown.text and 'data-code="jalan_desa"' in shown.text
    assert "<small>(Admin)</small>" in shown.text  # who changed it last, by name
    taken = await client.post(PAGE, data=_form(token))
    assert taken.status_code == 409 and 'id="err-code"' in taken.text and "sudah dipakai" in taken.text

    api = (await client.get("/api/v1/complaint-categories/33")).json()
    saved = next(c for c in api if c["code"] == "jalan_desa")
    assert (saved["default_agency_code"], saved["retired"], saved["version"], saved["keywords"]) == (
        AGENCY,
        False,
        1,
        ["jalan", "desa", "longsor"],
    )

    # Edit: retire it and drop the default agency; the form carries the version it was read at.
    edit = await client.get(f"{PAGE}/jalan_desa")
    assert edit.status_code == 200 and _version(edit.text) == "1"
    changed = await client.post(
        f"{PAGE}/jalan_desa",
        data=_form(token, version="1", code=None, default_agency_code="", active=None, name="Jalan desa"),
    )
    assert changed.status_code == 303 and changed.headers["location"] == f"{PAGE}/jalan_desa?tersimpan=2"
    again = await client.get(changed.headers["location"])
    assert "tersimpan (versi 2)" in again.text and _version(again.text) == "2"
    assert 'id="cat-active" name="active">' in again.text  # unchecked now
    api = (await client.get("/api/v1/complaint-categories/33", params={"include_retired": True})).json()
    saved = next(c for c in api if c["code"] == "jalan_desa")
    assert (saved["name"], saved["default_agency_code"], saved["retired"]) == ("Jalan desa", "", True)
    assert "jalan_desa" not in {c["code"] for c in (await client.get("/api/v1/complaint-categories/33")).json()}

    # Someone saved in between: 409, who and what is saved now, the admin's input kept.
    stale = await client.post(f"{PAGE}/jalan_desa", data=_form(token, version="1", code=None, name="Jalan kampung"))
    assert stale.status_code == 409 and 'id="conflict"' in stale.text
    assert "sudah diubah sejak Anda membukanya (oleh Anda sendiri di halaman lain" in stale.text
    assert "versi 2)" in stale.text
    assert "Yang tersimpan sekarang: Jalan desa" in stale.text and 'value="Jalan kampung"' in stale.text
    assert _version(stale.text) == "2"  # saving this form again overwrites, knowingly
    # Another admin saves in between: named in the message.
    second = await login_as("admin_kedua", [Role.ADMIN])
    client.cookies.set("grms_session", second["Authorization"].removeprefix("Bearer "))
    their_token = _csrf((await client.get(f"{PAGE}/jalan_desa")).text)
    theirs = await client.post(f"{PAGE}/jalan_desa", data=_form(their_token, version="2", code=None, name="Jalan"))
    assert theirs.status_code == 303
    client.cookies.set("grms_session", admin["Authorization"].removeprefix("Bearer "))
    overtaken = await client.post(f"{PAGE}/jalan_desa", data=_form(token, version="2", code=None, name="Jalan X"))
    assert overtaken.status_code == 409 and "(oleh Admin_Kedua," in overtaken.text and "versi 3)" in overtaken.text
    # A configured category never edited (version 0) is checked too.
    first = await client.post(f"{PAGE}/jalan_rusak", data=_form(token, version="0", code=None, name="Jalan rusak"))
    assert first.status_code == 303
    late = await client.post(f"{PAGE}/jalan_rusak", data=_form(token, version="0", code=None, name="Jalan"))
    assert late.status_code == 409 and 'id="conflict"' in late.text

    bad = await client.post(f"{PAGE}/jalan_desa", data=_form(token, version="3", code=None, name_en=""))
    assert bad.status_code == 400 and 'id="err-name_en"' in bad.text
    assert (await client.get(f"{PAGE}/tidak_ada")).status_code == 404


async def test_only_admins_see_the_page(client: httpx.AsyncClient, login_as: LoginAs) -> None:
    officer = await login_as("officer", [Role.COMPLAINTS_OFFICER])
    client.cookies.set("grms_session", officer["Authorization"].removeprefix("Bearer "))
    assert (await client.get(PAGE)).status_code == 403
    assert (await client.post(f"{PAGE}/jalan_rusak", data={"csrf": "x"})).status_code == 403
    assert f'href="{PAGE}"' not in (await client.get("/pengaduan/kotak-masuk")).text


# A real browser: an admin adds a category, edits it, and meets a conflict.


@pytest.fixture
def live_categories(tmp_path: Path, nats_server: NatsServer) -> Iterator[dict[str, Any]]:
    """uvicorn on a free port with the real complaints service (SQLite) and an admin account."""
    admin = ("admin", Role.ADMIN, "Admin Pengaduan")
    yield from live_complaints("categories", tmp_path, nats_server.url, users=[admin])


def _unexpected(msg: Any) -> bool:
    # The page answers a refused form with 400 or 409 on purpose; Chromium logs that as an error.
    expected = ("status of 400 (Bad Request)", "status of 409 (Conflict)")
    return bool(msg.type == "error" and not msg.text.endswith(expected))


@pytest.mark.browser
def test_browser_admin_adds_edits_and_meets_a_conflict(live_categories: dict[str, Any]) -> None:
    chromium = os.environ.get("GRMS_CHROMIUM") or "/usr/bin/chromium"
    if not Path(chromium).exists():
        pytest.skip(f"no Chromium at {chromium} (install it with `apt-get install -y chromium` or set GRMS_CHROMIUM)")
    from playwright.sync_api import sync_playwright

    url = live_categories["url"]
    artifacts = Path(__file__).resolve().parents[2] / "test-artifacts" / "gateway"
    artifacts.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 900})  # one session, two tabs
            page = context.new_page()
            page.on("console", lambda msg: problems.append(msg.text) if _unexpected(msg) else None)
            page.on("pageerror", lambda err: problems.append(str(err)))
            page.on("requestfailed", lambda req: problems.append(f"failed: {req.url}"))
            page.goto(url + PAGE, wait_until="networkidle")
            assert "/masuk" in page.url
            page.fill("#username", "admin")
            page.fill("#password", ADMIN_PASSWORD)
            page.click("main button[type=submit]")
            page.wait_for_load_state("networkidle")
            assert page.locator("h1").inner_text() == "Kategori Pengaduan"

            # A name too short: the error shows next to the field, the input stays.
            page.fill("#cat-code", "jalan_desa")
            page.fill("#cat-name", "Jalan desa rusak")
            page.fill("#cat-name_en", "X")
            page.fill("#cat-keywords", "jalan, desa")
            page.select_option("#cat-default_agency_code", AGENCY)
            page.click("#form-create button[type=submit]")
            page.wait_for_load_state("networkidle")
            assert page.locator("#err-name_en").is_visible()
            assert page.locator("#cat-name").input_value() == "Jalan desa rusak"
            page.fill("#cat-name_en", "Damaged village road")
            page.click("#form-create button[type=submit]")
            page.wait_for_load_state("networkidle")
            assert page.locator("#notice").inner_text() == "Kategori jalan_desa ditambahkan."
            row = page.locator("tr[data-code='jalan_desa']")
            assert row.locator(".agency").inner_text() == "Dinas Kesehatan"
            assert row.locator(".state").inner_text() == "Aktif"
            page.screenshot(path=str(artifacts / "complaint-categories.png"), full_page=True)

            # Two tabs edit the same version; the second save is refused with a clear message.
            row.locator("a").click()
            page.wait_for_load_state("networkidle")
            other = context.new_page()
            other.on("pageerror", lambda err: problems.append(str(err)))
            other.on("console", lambda msg: problems.append(msg.text) if _unexpected(msg) else None)
            other.goto(page.url, wait_until="networkidle")
            page.uncheck("#cat-active")
            page.select_option("#cat-default_agency_code", "")
            page.click("#form-edit button[type=submit]")
            page.wait_for_load_state("networkidle")
            assert "tersimpan (versi 2)" in page.locator("#notice").inner_text()
            assert not page.locator("#cat-active").is_checked()
            other.fill("#cat-name", "Jalan kampung rusak")
            other.click("#form-edit button[type=submit]")
            other.wait_for_load_state("networkidle")
            conflict = other.locator("#conflict").inner_text()
            assert "sudah diubah sejak Anda membukanya" in conflict and "Nonaktif" in conflict
            assert other.locator("#cat-name").input_value() == "Jalan kampung rusak"
            other.screenshot(path=str(artifacts / "complaint-category-conflict.png"), full_page=True)
            other.click("#form-edit button[type=submit]")  # knowingly overwrite
            other.wait_for_load_state("networkidle")
            assert "tersimpan (versi 3)" in other.locator("#notice").inner_text()
            page.goto(url + PAGE, wait_until="networkidle")
            assert page.locator("tr[data-code='jalan_desa'] td").nth(1).inner_text() == "Jalan kampung rusak"
        finally:
            browser.close()
    assert problems == [], problems
