"""The planner's editors in front of the REAL planning service: indicators, the F1 editor, the RUP and packages."""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from grms_kit.testing import NatsServer

from .conftest import ADMIN_PASSWORD
from .test_planning_pages import ARTIFACTS, BUDGET, _this_year, live_planning, make_planner, seed_sub_activities  # noqa: F401
from .test_planning_routes import AGENCY, PlanningStack, planning_stack


@pytest.fixture
async def stack(nats_server: NatsServer, tmp_path: Path) -> AsyncIterator[PlanningStack]:
    async with planning_stack(nats_server.url, tmp_path) as started:
        make_planner(started.gateway_settings)
        login = await started.http.post(
            "/masuk", data={"username": "perencana", "password": ADMIN_PASSWORD}, follow_redirects=False
        )
        assert login.status_code == 303
        yield started


def _f1_form(page: str) -> dict[str, str]:
    """The F1 form's inputs as the page filled them."""
    return dict(re.findall(r'name="((?:fisik|uang)_\d+|versi)"[^>]*?value="([^"]*)"', page))


async def test_indicator_errors_are_shown_by_field_then_the_indicator_is_added(stack: PlanningStack) -> None:
    http = stack.http
    _, unplanned_id = await seed_sub_activities(stack.planning_address)
    bad = await http.post(
        f"/perencanaan/{unplanned_id}/indikator",
        data={
            "level": "sub_activity",
            "kind": "output",
            "name": "",
            "unit": "bayi",
            "target": "-5",
            "formula": "increasing",
        },
    )
    assert bad.status_code == 400
    assert 'id="error-name"' in bad.text and 'id="error-target"' in bad.text and 'id="error-unit"' not in bad.text
    assert 'value="bayi"' in bad.text, "what the planner typed comes back"

    good = await http.post(
        f"/perencanaan/{unplanned_id}/indikator",
        data={
            "level": "sub_activity",
            "kind": "output",
            "name": "Bayi baru lahir terlayani",
            "unit": "bayi",
            "target": "800",
            "formula": "increasing",
        },
        follow_redirects=False,
    )
    assert good.status_code == 303
    page = await http.get(good.headers["location"])
    assert 'id="page-notice"' in page.text and "Bayi baru lahir terlayani" in page.text

    not_ready = await http.post(f"/perencanaan/{unplanned_id}/tetapkan")
    assert not_ready.status_code == 409 and "monthly plan (F1)" in not_ready.text


async def test_f1_editor_suggests_a_curve_shows_errors_per_month_and_saves(stack: PlanningStack) -> None:
    http = stack.http
    _, unplanned_id = await seed_sub_activities(stack.planning_address)
    empty = await http.get(f"/perencanaan/{unplanned_id}/f1")
    assert empty.status_code == 200 and len(re.findall(r'id="f1-row-\d+"', empty.text)) == 12

    suggested = await http.get(f"/perencanaan/{unplanned_id}/f1?usul=construction")
    assert suggested.status_code == 200 and 'id="f1-suggested"' in suggested.text
    form = _f1_form(suggested.text)
    assert sum(int(form[f"uang_{m}"]) for m in range(1, 13)) == BUDGET
    assert form["fisik_12"] == "100.00"

    broken = {**form, "fisik_5": "1.00", "fisik_12": "99", "uang_3": "tiga juta"}
    local = await http.post(f"/perencanaan/{unplanned_id}/f1", data=broken)
    assert local.status_code == 400 and 'id="err-uang-3"' in local.text

    broken["uang_3"] = form["uang_3"]
    refused = await http.post(f"/perencanaan/{unplanned_id}/f1", data=broken)
    assert refused.status_code == 400
    assert 'id="err-fisik-5"' in refused.text and "goes back" in refused.text
    assert 'id="err-fisik-12"' in refused.text and 'id="err-fisik-4"' not in refused.text
    assert 'value="tiga juta"' not in refused.text and 'value="99"' in refused.text

    short = {**form, "uang_1": str(int(form["uang_1"]) + 1)}
    money = await http.post(f"/perencanaan/{unplanned_id}/f1", data=short)
    assert money.status_code == 400 and "not the budget of Rp 1,200,000,000" in money.text

    dotted = {**form, "uang_12": f"Rp {int(form['uang_12']):,}".replace(",", ".")}
    saved = await http.post(f"/perencanaan/{unplanned_id}/f1", data=dotted, follow_redirects=False)
    assert saved.status_code == 303, saved.text
    page = await http.get(saved.headers["location"])
    assert 'id="s-curve"' in page.text and 'id="page-notice"' in page.text


async def test_package_form_errors_budget_and_split_warnings_on_the_rup(stack: PlanningStack) -> None:
    http, year = stack.http, _this_year()
    planned_id, _ = await seed_sub_activities(stack.planning_address)
    assert (await http.post(f"/perencanaan/{planned_id}/tetapkan", follow_redirects=False)).status_code == 303

    form = await http.get(f"/perencanaan/{planned_id}/paket")
    assert form.status_code == 200 and "Rp 1.200.000.000" in form.text
    base = {
        "account_code": "5.1.02.01.01.0024",
        "name": "Belanja ATK posyandu tahap 1",
        "procurement_type": "barang",
        "mode": "penyedia",
        "method": "pengadaan_langsung",
        "value": "190.000.000",
        "selection_start": "2",
        "selection_end": "2",
        "contract_start": "3",
        "contract_end": "4",
        "use_start": "4",
        "use_end": "12",
    }
    bad = await http.post(f"/perencanaan/{planned_id}/paket", data={**base, "account_code": "4.1", "name": "x"})
    assert bad.status_code == 400
    assert (
        'id="error-account_code"' in bad.text and 'id="error-name"' in bad.text and 'id="error-value"' not in bad.text
    )
    backwards = await http.post(f"/perencanaan/{planned_id}/paket", data={**base, "contract_start": "1"})
    assert backwards.status_code == 400 and 'id="error-contract"' in backwards.text

    for n in (1, 2, 3):
        created = await http.post(
            f"/perencanaan/{planned_id}/paket",
            data={**base, "name": f"Belanja ATK posyandu tahap {n}"},
            follow_redirects=False,
        )
        assert created.status_code == 303, created.text
    over = await http.post(
        f"/perencanaan/{planned_id}/paket", data={**base, "method": "tender", "value": "700.000.000"}
    )
    assert over.status_code == 409 and "above its budget" in over.text

    rup = await http.get(created.headers["location"])
    assert rup.status_code == 200 and 'id="page-notice"' in rup.text
    assert rup.text.count('class="flagged"') == 3 and 'id="split-warnings"' in rup.text
    assert "Rp 570.000.000" in rup.text and "1.02.02.2.01.0031.5.1.02.01.01.0024" in rup.text
    warned = await http.get(f"/perencanaan/{planned_id}/paket")
    assert 'id="split-warnings"' in warned.text
    listing = await http.get(f"/perencanaan/rup?tahun={year}&opd={AGENCY}&lang=en")
    assert "suspected split packages" in listing.text


@pytest.mark.browser
def test_browser_plans_the_f1_from_a_default_curve(live_planning: dict[str, str]) -> None:  # noqa: F811
    chromium = os.environ.get("GRMS_CHROMIUM") or "/usr/bin/chromium"
    if not Path(chromium).exists():
        pytest.skip(f"no Chromium at {chromium} (install it with `apt-get install -y chromium` or set GRMS_CHROMIUM)")
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    url, sub_activity_id = live_planning["url"], live_planning["unplanned_id"]
    problems: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=chromium,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
            page.on("pageerror", lambda err: problems.append(str(err)))
            page.goto(f"{url}/perencanaan/{sub_activity_id}/f1", wait_until="networkidle")
            page.fill("#username", "perencana")
            page.fill("#password", ADMIN_PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_load_state("networkidle")
            assert page.locator("h1").inner_text() == "Rencana bulanan (F1)"

            page.select_option("#usul", "goods")
            page.click("#suggest-form button")
            page.wait_for_load_state("networkidle")
            assert page.locator("#fisik_12").input_value() == "100.00"
            page.fill("#fisik_6", "10")  # below May's 75 %: the plan would go back
            page.screenshot(path=str(ARTIFACTS / "planning-f1-editor.png"), full_page=True)
            page.click("#f1-form button[type=submit]")
            page.wait_for_load_state("networkidle")
            assert page.locator("#err-fisik-6").is_visible()
            assert page.locator("#fisik_6").get_attribute("aria-invalid") == "true"
            page.screenshot(path=str(ARTIFACTS / "planning-f1-errors.png"), full_page=True)

            page.fill("#fisik_6", "90")
            page.click("#f1-form button[type=submit]")
            page.wait_for_load_state("networkidle")
            assert page.url.endswith("?pesan=f1"), page.url
            assert page.locator("#page-notice").is_visible() and page.locator("#s-curve").is_visible()
            page.screenshot(path=str(ARTIFACTS / "planning-f1-saved.png"), full_page=True)
        finally:
            browser.close()
    # The one refused save answers 400 on purpose (the form comes back with its errors); Chromium
    # logs any 4xx document as a console error, so exactly that one is expected and nothing else.
    assert problems == ["Failed to load resource: the server responded with a status of 400 (Bad Request)"]


async def test_a_planned_sub_activity_is_reopened_with_a_reason_from_its_page(stack: PlanningStack) -> None:
    http = stack.http
    planned_id, _ = await seed_sub_activities(stack.planning_address)
    assert (await http.post(f"/perencanaan/{planned_id}/tetapkan", follow_redirects=False)).status_code == 303
    page = await http.get(f"/perencanaan/{planned_id}")
    assert 'id="reopen"' in page.text and 'id="mark-planned"' not in page.text

    terse = await http.post(f"/perencanaan/{planned_id}/buka-kembali", data={"alasan": "x"})
    assert terse.status_code == 400 and "reason" in terse.text
    reopened = await http.post(
        f"/perencanaan/{planned_id}/buka-kembali", data={"alasan": "Target dinaikkan"}, follow_redirects=False
    )
    assert reopened.status_code == 303 and reopened.headers["location"].endswith("?pesan=dibuka")
    page = await http.get(reopened.headers["location"])
    assert 'id="page-notice"' in page.text and 'id="mark-planned"' in page.text and 'id="reopen"' not in page.text
