"""Headless Chromium against a live gateway: the home page in both languages, no console errors, screenshots."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "gateway"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _chromium() -> str:
    path = os.environ.get("GRMS_CHROMIUM") or "/usr/bin/chromium"
    if not Path(path).exists():
        pytest.skip(f"no Chromium at {path} (install it with `apt-get install -y chromium` or set GRMS_CHROMIUM)")
    return path


def test_home_page_in_both_languages(live_gateway: Any) -> None:
    executable = _chromium()
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
            page.on("pageerror", lambda err: problems.append(str(err)))
            page.on("requestfailed", lambda req: problems.append(f"failed: {req.url}"))

            page.goto(live_gateway.url + "/", wait_until="networkidle")
            assert page.locator("h1").inner_text() == "Ringkasan Pemerintah Daerah"
            assert page.get_attribute("html", "lang") == "id"
            body = page.locator("body").inner_text()
            assert "Jawa Tengah" in body and "Dinas Kesehatan" in body and "Kota Semarang" in body
            assert page.locator("[data-service]").count() == 6
            page.screenshot(path=str(ARTIFACTS / "home-id.png"), full_page=True)

            page.goto(live_gateway.url + "/?lang=en", wait_until="networkidle")
            assert page.locator("h1").inner_text() == "Regional Government Overview"
            page.click("text=Kota Semarang")
            page.wait_for_load_state("networkidle")
            assert page.locator("h1").inner_text() == "Regional Government Overview", "the lang cookie persists"
            assert "Agencies of Kota Semarang" in page.locator("body").inner_text()
            page.screenshot(path=str(ARTIFACTS / "home-en.png"), full_page=True)

            mobile = browser.new_page(viewport={"width": 390, "height": 844})
            mobile.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
            mobile.goto(live_gateway.url + "/", wait_until="networkidle")
            mobile.screenshot(path=str(ARTIFACTS / "home-mobile.png"), full_page=True)

            live_gateway.stop_service("monev")
            page.goto(live_gateway.url + "/?lang=id", wait_until="networkidle")
            assert "Layanan monev sedang tidak tersedia" in page.locator("[role=alert]").inner_text()
            page.screenshot(path=str(ARTIFACTS / "home-monev-down.png"), full_page=True)

            page.goto(live_gateway.url + "/docs", wait_until="networkidle")
            page.wait_for_selector(".swagger-ui .info", timeout=15_000)
            page.screenshot(path=str(ARTIFACTS / "docs.png"))
        finally:
            browser.close()
    assert problems == [], problems
