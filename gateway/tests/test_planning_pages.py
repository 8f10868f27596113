"""Planning's web pages in front of the REAL planning service: proposals (/usulan), login and the S-curve.

The planning runtime (SQLite, NATS) runs in-process; proposals go through the pages' forms,
sub-activities are planned over planning's own gRPC API with a planner's token, and the
planner's pages are opened after logging in through /masuk with a real account.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import re
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest
from grms.common.v1 import money_pb2
from grms.planning.v1 import planning_service_pb2 as pb
from grms.planning.v1 import planning_service_pb2_grpc as pb_grpc
from grms.planning.v1 import sub_activity_pb2
from grms_gateway import accounts
from grms_gateway.config import GatewaySettings
from grms_gateway.i18n import WIB
from grms_kit.identity import Identity, Role, TokenCodec
from grms_kit.testing import NatsServer

from .conftest import ADMIN_PASSWORD, TEST_SECRET
from .live_gateway import serve_gateway
from .test_planning_routes import AGENCY, PlanningStack, planning_stack, start_planning

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "gateway"
SVG = "{http://www.w3.org/2000/svg}"
PHYSICAL = ["5", "10", "20", "30", "40", "50", "60", "70", "80", "90", "95", "100"]
BUDGET = 1_200_000_000
PROPOSER = {"proposer_name": "Siti Aminah", "proposer_contact": "+6281234567890"}
FORM = {
    "government_code": "33",
    "village_code": "33.74.01.1001",
    "category": "health",
    "title": "Posyandu baru di RW 05",
    "description": "Warga membutuhkan posyandu yang lebih dekat untuk balita.",
    **PROPOSER,
}
PUBLIC_ID = re.compile(r'id="public-id">(U-[0-9A-Z]{16})<')


def _planner_metadata() -> list[tuple[str, str]]:
    identity = Identity(sub="planner-seed", roles=frozenset({Role.PLANNER}), government="33")
    return [("authorization", f"Bearer {TokenCodec(TEST_SECRET).issue(identity)}")]


def _this_year() -> int:
    return dt.datetime.now(WIB).year


async def seed_sub_activities(address: str) -> tuple[str, str]:
    """One sub-activity with an indicator and a known F1 plan, one with neither; their ids."""
    metadata = _planner_metadata()
    async with grpc.aio.insecure_channel(address) as channel:
        stub = pb_grpc.PlanningServiceStub(channel)
        for _ in range(200):  # the reference copy (government 33, the agency) arrives through the consumer
            try:
                await stub.GetAgency(pb.GetAgencyRequest(government_code="33", code=AGENCY), timeout=5)
                break
            except grpc.aio.AioRpcError as exc:
                if exc.code() != grpc.StatusCode.NOT_FOUND:
                    raise
            await asyncio.sleep(0.05)
        created = []
        # Not 1.02.02.2.01.0001: budgeting's tests approve that code for this year on the
        # session's shared broker, and planning's budget consumer would apply their amount here.
        for code, name in (
            ("1.02.02.2.01.0031", "Pengelolaan Pelayanan Kesehatan Ibu Hamil"),
            ("1.02.02.2.01.0032", "Pengelolaan Pelayanan Kesehatan Bayi Baru Lahir"),
        ):
            request = pb.CreateSubActivityRequest(
                government_code="33",
                agency_code=AGENCY,
                fiscal_year=_this_year(),
                code=code,
                name=name,
                budget=money_pb2.Money(rupiah=BUDGET),
            )
            created.append((await stub.CreateSubActivity(request, metadata=metadata, timeout=5)).sub_activity)
        planned = created[0]
        with_indicator = await stub.AddIndicator(
            pb.AddIndicatorRequest(
                sub_activity_id=planned.id,
                indicator=sub_activity_pb2.Indicator(
                    level=sub_activity_pb2.INDICATOR_LEVEL_SUB_ACTIVITY,
                    kind=sub_activity_pb2.INDICATOR_KIND_OUTPUT,
                    name="Jumlah ibu hamil yang mendapatkan pelayanan kesehatan",
                    unit="orang",
                    target="1250",
                    formula=sub_activity_pb2.INDICATOR_FORMULA_INCREASING,
                ),
            ),
            metadata=metadata,
            timeout=5,
        )
        months = [
            sub_activity_pb2.MonthPlan(
                month=m, physical_percent=PHYSICAL[m - 1], disbursement=money_pb2.Money(rupiah=BUDGET // 12)
            )
            for m in range(1, 13)
        ]
        await stub.SetMonthlyPlan(
            pb.SetMonthlyPlanRequest(
                sub_activity_id=planned.id, months=months, expected_version=with_indicator.sub_activity.version
            ),
            metadata=metadata,
            timeout=5,
        )
    return planned.id, created[1].id


def make_planner(settings: GatewaySettings, username: str = "perencana") -> None:
    accounts.migrate(settings.accounts_database_url())
    accounts.create_user(
        settings.accounts_database_url(), username, ADMIN_PASSWORD, [Role.PLANNER], "33", (), "Budi Perencana"
    )


@pytest.fixture
async def stack(nats_server: NatsServer, tmp_path: Path) -> AsyncIterator[PlanningStack]:
    async with planning_stack(nats_server.url, tmp_path) as started:
        yield started


async def _submit(http: httpx.AsyncClient, form: dict[str, str]) -> httpx.Response:
    for _ in range(100):  # the reference copy (government 33) arrives through the consumer
        response = await http.post("/usulan", data=form)
        if response.status_code != 400 or "government" not in response.text:
            return response
        await asyncio.sleep(0.05)
    return response


def _svg(html: str) -> ET.Element:
    match = re.search(r"<svg\b.*?</svg>", html, re.S)
    assert match, "no inline SVG on the page"
    return ET.fromstring(match.group(0))


def _flat(pairs: list[tuple[float, float]]) -> list[float]:
    return [v for pair in pairs for v in pair]


def _pairs(points: str) -> list[tuple[float, float]]:
    return [(float(x), float(y)) for x, y in (p.split(",") for p in points.split())]


async def test_proposal_form_submit_and_public_page_in_both_languages(stack: PlanningStack) -> None:
    http = stack.http
    form = await http.get("/usulan")
    assert form.status_code == 200
    assert '<html lang="id">' in form.text and 'href="/usulan"' in form.text and ">Usulan</a>" in form.text
    assert "Sampaikan usulan pembangunan" in form.text and '<option value="health"' in form.text

    created = await _submit(http, FORM)
    assert created.status_code == 201, created.text
    assert created.headers["cache-control"] == "no-store"
    match = PUBLIC_ID.search(created.text)
    assert match, created.text
    public_id = match.group(1)
    assert f'href="/usulan/{public_id}"' in created.text

    page = await http.get(f"/usulan/{public_id}")
    assert page.status_code == 200
    text = page.text
    assert "Posyandu baru di RW 05" in text and public_id in text
    assert re.search(r'id="proposal-status"><span[^>]*>Diajukan<', text)
    assert '<dd id="proposal-category">Kesehatan</dd>' in text
    assert "Provinsi Jawa Tengah" in text and "Desa/kelurahan 33.74.01.1001" in text
    assert len(re.findall(r"\d{2}-\d{2}-\d{4} \d{2}:\d{2} WIB", text)) >= 3  # submitted, updated, history row
    assert 'id="proposal-history"' in text and "Identitas pengusul tidak ditampilkan." in text

    english = await http.get(f"/usulan/{public_id}?lang=en")
    assert english.status_code == 200 and english.headers["content-language"] == "en"
    assert '<html lang="en">' in english.text
    assert re.search(r'id="proposal-status"><span[^>]*>Submitted<', english.text)
    assert '<dd id="proposal-category">Health</dd>' in english.text and "Village 33.74.01.1001" in english.text
    assert ">Proposals</a>" in english.text

    for response in (created, page, english):
        haystack = response.text + "\n".join(f"{k}: {v}" for k, v in response.headers.items())
        for secret in ("Siti", "Aminah", "+6281234567890", "81234567890"):
            assert secret not in haystack, f"{response.request.url} leaked {secret}"


async def test_invalid_proposal_comes_back_with_errors_and_unknown_ids_are_404(stack: PlanningStack) -> None:
    http = stack.http
    invalid = await _submit(http, {**FORM, "title": "x"})
    assert invalid.status_code == 400
    assert 'id="form-errors"' in invalid.text and "<code>title</code>" in invalid.text
    assert 'value="Siti Aminah"' in invalid.text, "the form keeps what the citizen typed"

    for public_id in ("U-0000000000000000", "bukan-nomor"):
        missing = await http.get(f"/usulan/{public_id}")
        assert missing.status_code == 404
        assert missing.headers["content-type"].startswith("text/html")
        assert "<h1>Usulan tidak ditemukan</h1>" in missing.text and 'role="alert"' in missing.text
    english = await http.get("/usulan/U-0000000000000000?lang=en")
    assert english.status_code == 404 and "<h1>Proposal not found</h1>" in english.text


async def test_login_logout_and_the_planner_pages_need_a_session(stack: PlanningStack) -> None:
    http = stack.http
    make_planner(stack.gateway_settings)
    for path in ("/perencanaan", "/perencanaan/abc"):
        anonymous = await http.get(path, follow_redirects=False)
        assert anonymous.status_code == 303
        assert anonymous.headers["location"] == f"/masuk?next={path}"

    form = await http.get("/masuk?next=/perencanaan")
    assert form.status_code == 200 and 'name="next" value="/perencanaan"' in form.text
    assert 'autocomplete="current-password"' in form.text and form.headers["cache-control"] == "no-store"

    wrong = await http.post("/masuk", data={"username": "perencana", "password": "salah"}, follow_redirects=False)
    assert wrong.status_code == 401 and 'id="login-failed"' in wrong.text
    assert "set-cookie" not in wrong.headers

    forged = TokenCodec("another-secret-another-secret-0123456789").issue(
        Identity(sub="x", roles=frozenset({Role.PLANNER}), government="33")
    )
    http.cookies.set("grms_session", forged, domain="gateway.test")
    assert (await http.get("/perencanaan", follow_redirects=False)).status_code == 303
    http.cookies.clear()

    good = await http.post(
        "/masuk",
        data={"username": "perencana", "password": ADMIN_PASSWORD, "next": "/perencanaan"},
        follow_redirects=False,
    )
    assert good.status_code == 303 and good.headers["location"] == "/perencanaan"
    cookie = good.headers["set-cookie"]
    assert cookie.startswith("grms_session=") and "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert "Secure" not in cookie and "Max-Age=3600" in cookie and "Path=/" in cookie
    listing = await http.get("/perencanaan")
    assert listing.status_code == 200 and f"Sub kegiatan {_this_year()}" in listing.text
    assert 'action="/keluar"' in listing.text, "the header offers to log out"

    confirm = await http.get("/keluar")
    assert confirm.status_code == 200 and "Budi Perencana" in confirm.text
    logged_out = await http.post("/keluar", follow_redirects=False)
    assert logged_out.status_code == 303 and logged_out.headers["location"] == "/masuk?keluar=1"
    assert 'grms_session=""' in logged_out.headers["set-cookie"] and "Max-Age=0" in logged_out.headers["set-cookie"]
    assert "grms_session" not in http.cookies
    assert (await http.get("/perencanaan", follow_redirects=False)).status_code == 303
    assert "Anda sudah keluar." in (await http.get("/masuk?keluar=1")).text

    over_https = await http.post(
        "https://gateway.test/masuk",
        data={"username": "perencana", "password": ADMIN_PASSWORD, "next": "//evil.example/x"},
        follow_redirects=False,
    )
    assert over_https.headers["location"] == "/perencanaan", "no open redirect"
    assert "Secure" in over_https.headers["set-cookie"]


async def test_planner_sees_sub_activities_and_the_planned_s_curve(stack: PlanningStack) -> None:
    http = stack.http
    planned_id, unplanned_id = await seed_sub_activities(stack.planning_address)
    make_planner(stack.gateway_settings)
    login = await http.post("/masuk", data={"username": "perencana", "password": ADMIN_PASSWORD}, follow_redirects=True)
    assert login.status_code == 200 and str(login.url).endswith("/perencanaan")

    listing = login.text
    assert f'href="/perencanaan/{planned_id}"' in listing and f'href="/perencanaan/{unplanned_id}"' in listing
    assert "Pengelolaan Pelayanan Kesehatan Ibu Hamil" in listing and "Dinas Kesehatan" in listing
    assert "Rp 1.200.000.000" in listing and "Provinsi Jawa Tengah" in listing
    empty = await http.get(f"/perencanaan?tahun={_this_year() - 1}")
    assert "Belum ada sub kegiatan" in empty.text

    page = await http.get(f"/perencanaan/{planned_id}")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    text = page.text
    assert '<p class="lead code" id="sub-activity-code">1.02.02.2.01.0031</p>' in text
    assert "<h1>Pengelolaan Pelayanan Kesehatan Ibu Hamil</h1>" in text
    assert re.search(r'id="sub-activity-agency">Dinas Kesehatan ', text)
    assert '<dd id="sub-activity-budget">Rp 1.200.000.000</dd>' in text
    assert "Jumlah ibu hamil yang mendapatkan pelayanan kesehatan" in text and ">1250</td><td>orang</td>" in text

    svg = _svg(text)
    assert svg.get("role") == "img" and svg.get("aria-labelledby") == "s-curve-title s-curve-desc"
    assert svg.find(f"{SVG}title").text == "Kurva S rencana Pengelolaan Pelayanan Kesehatan Ibu Hamil"  # type: ignore[union-attr]
    assert "fisik 100.00 % dan keuangan 100.00 %" in (svg.find(f"{SVG}desc").text or "")  # type: ignore[union-attr]
    months = [t.text for t in svg.iter(f"{SVG}text") if "month" in (t.get("class") or "")]
    assert months == ["Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt", "Nov", "Des"]

    xs = [56.0 + 60 * (m - 1) for m in range(1, 13)]
    physical = [(x, 320 - 3 * float(p)) for x, p in zip(xs, PHYSICAL, strict=True)]
    financial_pct = [(Decimal(m * 100) / 12).quantize(Decimal("0.01"), ROUND_HALF_UP) for m in range(1, 13)]
    financial = [(x, 320 - 3 * float(p)) for x, p in zip(xs, financial_pct, strict=True)]
    lines = {line.get("id"): _pairs(line.get("points", "")) for line in svg.iter(f"{SVG}polyline")}
    assert len(lines["line-physical"]) == len(lines["line-financial"]) == 12
    assert _flat(lines["line-physical"]) == pytest.approx(_flat(physical))
    assert _flat(lines["line-financial"]) == pytest.approx(_flat(financial), abs=0.01)
    assert physical[0] == (56.0, 305.0) and physical[-1] == (716.0, 20.0)
    circles = [(float(c.get("cx", "")), float(c.get("cy", ""))) for c in svg.iter(f"{SVG}circle")]
    assert _flat(circles) == pytest.approx(_flat(physical))
    squares = [(float(r.get("x", "")) + 3.5, float(r.get("y", "")) + 3.5) for r in svg.iter(f"{SVG}rect")]
    assert _flat(squares) == pytest.approx(_flat(financial), abs=0.01)

    table = re.search(r'<table id="s-curve-table">.*?</table>', text, re.S)
    assert table is not None and table.group(0).count('<th scope="row">') == 12
    assert '<td class="num">8.33</td>' in table.group(0) and "Rp 1.200.000.000" in table.group(0)

    english = await http.get(f"/perencanaan/{planned_id}?lang=en")
    assert "Planned S-curve" in english.text and english.headers["content-language"] == "en"
    months_en = [t.text for t in _svg(english.text).iter(f"{SVG}text") if "month" in (t.get("class") or "")]
    assert months_en[4] == "May" and months_en[-1] == "Dec"

    unplanned = await http.get(f"/perencanaan/{unplanned_id}?lang=id")
    assert unplanned.status_code == 200 and "<svg" not in unplanned.text
    assert "Rencana bulanan (F1) belum ditetapkan" in unplanned.text and "Belum ada indikator." in unplanned.text

    for missing in ("00000000-0000-0000-0000-000000000000", "bad!id"):
        response = await http.get(f"/perencanaan/{missing}")
        assert response.status_code == 404 and "<h1>Sub kegiatan tidak ditemukan</h1>" in response.text


# A real browser: submit through /usulan, follow the proposal, log in and open the S-curve.


@pytest.fixture
def live_planning(tmp_path: Path, nats_server: NatsServer) -> Iterator[dict[str, Any]]:
    """uvicorn on a free port in front of the real planning service, on one background loop."""
    seeded: dict[str, str] = {}

    @asynccontextmanager
    async def backend(http_port: int) -> AsyncIterator[GatewaySettings]:
        settings, stop, task = await start_planning(nats_server.url, tmp_path)
        try:
            seeded["planned_id"], seeded["unplanned_id"] = await seed_sub_activities(settings.grpc_address)
            gateway_settings = GatewaySettings(
                auth_secret=TEST_SECRET,
                var_dir=tmp_path / "var",
                grpc_deadline=3.0,
                planning_grpc_port=settings.grpc_port,
                port=http_port,
                ratelimit_intake_burst=1000,
            )
            make_planner(gateway_settings)
            yield gateway_settings
        finally:
            stop.set()
            await asyncio.wait_for(task, 30)

    for live in serve_gateway("planning", backend):
        yield {**live, **seeded}


@pytest.mark.browser
def test_browser_submits_a_proposal_and_opens_the_s_curve(live_planning: dict[str, str]) -> None:
    chromium = os.environ.get("GRMS_CHROMIUM") or "/usr/bin/chromium"
    if not Path(chromium).exists():
        pytest.skip(f"no Chromium at {chromium} (install it with `apt-get install -y chromium` or set GRMS_CHROMIUM)")
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    url = live_planning["url"]
    problems: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
            page.on("pageerror", lambda err: problems.append(str(err)))
            page.on("requestfailed", lambda req: problems.append(f"failed: {req.url}"))

            page.goto(url + "/", wait_until="networkidle")
            page.click("nav >> text=Usulan")
            page.wait_for_load_state("networkidle")
            assert page.locator("h1").inner_text() == "Sampaikan usulan pembangunan"
            page.select_option("#category", "health")
            page.fill("#village_code", FORM["village_code"])
            page.fill("#title", FORM["title"])
            page.fill("#description", FORM["description"])
            page.fill("#proposer_name", FORM["proposer_name"])
            page.fill("#proposer_contact", FORM["proposer_contact"])
            page.screenshot(path=str(ARTIFACTS / "planning-proposal-form.png"), full_page=True)
            page.click("button[type=submit] >> text=Kirim usulan")
            page.wait_for_load_state("networkidle")
            public_id = page.locator("#public-id").inner_text()
            assert re.fullmatch(r"U-[0-9A-Z]{16}", public_id), public_id
            page.screenshot(path=str(ARTIFACTS / "planning-proposal-submitted.png"), full_page=True)

            page.click("#follow-link")
            page.wait_for_load_state("networkidle")
            assert page.locator("#proposal-status").inner_text() == "Diajukan"
            body = page.locator("body").inner_text()
            assert "Siti" not in body and "+6281234567890" not in body
            page.screenshot(path=str(ARTIFACTS / "planning-proposal-id.png"), full_page=True)

            page.goto(f"{url}/perencanaan/{live_planning['planned_id']}", wait_until="networkidle")
            assert page.url.startswith(url + "/masuk"), page.url
            page.fill("#username", "perencana")
            page.fill("#password", ADMIN_PASSWORD)
            page.screenshot(path=str(ARTIFACTS / "planning-login.png"), full_page=True)
            page.click("main button[type=submit]")
            page.wait_for_load_state("networkidle")
            assert page.url == f"{url}/perencanaan/{live_planning['planned_id']}", page.url
            assert page.locator("h1").inner_text() == "Pengelolaan Pelayanan Kesehatan Ibu Hamil"
            assert page.locator("#s-curve circle").count() == 12 and page.locator("#s-curve rect").count() == 12
            box = page.locator("#s-curve").bounding_box()
            assert box is not None and box["width"] > 600, box
            page.screenshot(path=str(ARTIFACTS / "planning-s-curve-id.png"), full_page=True)

            page.goto(f"{url}/perencanaan/{live_planning['planned_id']}?lang=en", wait_until="networkidle")
            assert "Planned S-curve" in page.locator("body").inner_text()
            page.screenshot(path=str(ARTIFACTS / "planning-s-curve-en.png"), full_page=True)

            mobile = browser.new_page(viewport={"width": 390, "height": 844})
            mobile.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
            mobile.goto(f"{url}/usulan/{public_id}", wait_until="networkidle")
            mobile.screenshot(path=str(ARTIFACTS / "planning-proposal-mobile.png"), full_page=True)

            page.click("header button >> text=Log out")
            page.wait_for_load_state("networkidle")
            assert page.url.startswith(url + "/masuk")
            page.goto(url + "/perencanaan", wait_until="networkidle")
            assert page.url.startswith(url + "/masuk"), "logged out"
        finally:
            browser.close()
    assert problems == [], problems
