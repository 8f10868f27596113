"""e-Budgeting's web pages (/anggaran, /perbendaharaan) in front of the REAL budgeting service, logged in via /masuk."""

from __future__ import annotations

import asyncio
import io
import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import openpyxl
import pytest
import uvicorn
from grms.budgeting.v1 import budgeting_service_pb2 as pb
from grms.budgeting.v1 import treasury_pb2
from grms_gateway import accounts
from grms_gateway.__main__ import bind
from grms_gateway.app import create_app
from grms_kit.identity import Role
from grms_kit.testing import NatsServer, free_port

from .budgeting_stack import AGENCY, ITEM, SUB, SUB_2, YEAR, BudgetWorld, budget_world, paper_line, rp, token
from .conftest import ADMIN_PASSWORD
from .test_web_browser import ARTIFACTS, CHROMIUM_ARGS, _chromium

PAPER = {
    "account_code": "5.1.02.01.01.0024",
    "standard_item_code": ITEM,
    "specification": "Kertas HVS A4 70 gram",
    "volume": "10 rim",
    "unit": "rim",
    "unit_price": "50.000",
    "funding_source": "PAD",
}
USERS = {
    "operator": ([Role.PLANNER], [AGENCY]),
    "kepala": ([Role.AGENCY_HEAD], [AGENCY]),
    "tapd": ([Role.TAPD], []),
    "bud": ([Role.TREASURER], []),
}


@pytest.fixture
async def world(nats_server: NatsServer, tmp_path: Path) -> AsyncIterator[BudgetWorld]:
    async with budget_world(nats_server.url, tmp_path) as w:
        url = w.settings.accounts_database_url()
        accounts.migrate(url)
        for name, (roles, agencies) in USERS.items():
            accounts.create_user(url, name, ADMIN_PASSWORD, roles, "33", agencies, name.title())
        yield w


async def _as(world: BudgetWorld, username: str) -> httpx.AsyncClient:
    """A fresh browser-like client of the same app, logged in through the /masuk form."""
    client = httpx.AsyncClient(transport=world.http._transport, base_url="http://gateway.test")
    answer = await client.post("/masuk", data={"username": username, "password": ADMIN_PASSWORD, "next": "/anggaran"})
    assert answer.status_code == 303 and answer.headers["location"] == "/anggaran", answer.text
    return client


def _plan_id(location: str) -> str:
    match = re.fullmatch(r"/anggaran/([0-9a-f-]{36})", location)
    assert match, location
    return match.group(1)


async def test_the_planner_edits_with_errors_at_their_fields_and_the_workflow_runs_by_role(world: BudgetWorld) -> None:
    assert (await world.http.get("/anggaran")).headers["location"] == "/masuk?next=/anggaran"
    planner = await _as(world, "operator")
    listing = await planner.get("/anggaran", params={"tahun": YEAR})
    assert listing.status_code == 200 and "Rencana anggaran (RKA) 2026" in listing.text
    created = await planner.post(
        "/anggaran", data={"agency_code": AGENCY, "sub_activity_code": SUB, "fiscal_year": YEAR}
    )
    assert created.status_code == 303, created.text
    plan_id = _plan_id(created.headers["location"])
    url = f"/anggaran/{plan_id}"
    duplicate = await planner.post(
        "/anggaran", data={"agency_code": AGENCY, "sub_activity_code": SUB, "fiscal_year": YEAR}
    )
    assert duplicate.status_code == 400 and "already has plan" in duplicate.text

    editor = await planner.get(url)
    assert editor.status_code == 200 and 'id="add-line"' in editor.text
    assert "Jumlah dokumen perencanaan: 2 dokumen" in editor.text  # the output indicator from planning
    added = await planner.post(f"{url}/baris", data=PAPER | {"version": "1"})
    assert added.status_code == 303
    page = await planner.get(added.headers["location"])
    assert "Rp 500.000" in page.text and 'id="notice"' in page.text

    # Above the standard price and a zero volume: the add form again, each error under its field.
    bad = await planner.post(f"{url}/baris", data=PAPER | {"volume": "0 rim", "unit_price": "60000", "version": "2"})
    assert bad.status_code == 400
    assert re.search(r'id="e-add-unit_price">[^<]*above the standard price', bad.text)
    assert 'id="e-add-volume"' in bad.text and 'value="0 rim"' in bad.text

    # Two planners on version 2: the second one is told, nothing is overwritten.
    first = await planner.post(f"{url}/baris/1", data=PAPER | {"volume": "12 rim", "version": "2"})
    assert first.status_code == 303
    stale = await planner.post(f"{url}/baris/1", data=PAPER | {"volume": "8 rim", "version": "2"})
    assert stale.status_code == 409 and "sudah diubah orang lain" in stale.text
    assert "Rp 600.000" in stale.text
    wrong_line = await planner.post(f"{url}/baris/1", data=PAPER | {"unit": "", "version": "3"})
    assert wrong_line.status_code == 400 and 'id="e-1-unit"' in wrong_line.text

    # The standard-price lookup fills the add form.
    found = await planner.get(url, params={"cari": "kertas"})
    assert ITEM in found.text and "Rp 55.000" in found.text and 'name="pakai_unit_price" value="55000"' in found.text
    used = await planner.get(url, params={"pakai_standard_item_code": ITEM, "pakai_unit_price": "55000"})
    assert f'id="add-standard_item_code" name="standard_item_code" value="{ITEM}"' in used.text

    # The planner may not submit: no button, and the service refuses it anyway.
    assert 'id="submit-plan"' not in (await planner.get(url)).text
    refused = await planner.post(f"{url}/tahap/ajukan", data={"version": "3"})
    assert refused.status_code == 403
    head = await _as(world, "kepala")
    assert 'id="submit-plan"' in (await head.get(url)).text
    assert (await head.post(f"{url}/tahap/ajukan", data={"version": "3"})).status_code == 303

    tapd = await _as(world, "tapd")
    review = await tapd.get(url)
    assert 'id="verify-plan"' in review.text and 'id="return-form"' in review.text
    returned = await tapd.post(
        f"{url}/tahap/kembalikan", data={"version": "4", "note": "Sesuaikan volume", "catatan[1]": "Cukup 10 rim"}
    )
    assert returned.status_code == 303
    again = await planner.get(url)
    assert "Dikembalikan" in again.text and "Cukup 10 rim" in again.text and "Sesuaikan volume" in again.text
    await planner.post(f"{url}/baris/1", data=PAPER | {"version": "5"})
    for who, action in ((head, "ajukan"), (tapd, "verifikasi"), (tapd, "setujui")):
        version = re.search(r'id="plan-version">(\d+)<', (await who.get(url)).text)
        assert version, action
        answer = await who.post(f"{url}/tahap/{action}", data={"version": version.group(1)})
        assert answer.status_code == 303, (action, answer.text)
    dpa = await tapd.get(url)
    assert "Disetujui (DPA)" in dpa.text and 'id="revise-form"' in dpa.text

    versions = await planner.get(f"{url}/versi")
    assert versions.status_code == 200 and "Riwayat versi" in versions.text
    diff = await planner.get(f"{url}/versi", params={"dari": 4, "ke": 9})
    assert diff.status_code == 200, diff.text
    assert "Perbedaan versi 4 → 9" in diff.text and "Rp 600.000" in diff.text and "12 rim" in diff.text
    assert (await planner.get(f"{url}/versi", params={"dari": 4, "ke": 99})).status_code == 400

    # A shift that grows the DPA is refused with the service's reason.
    revised = await tapd.post(f"{url}/tahap/revisi", data={"version": "9", "kind": "shift", "reason": "Pergeseran"})
    assert revised.status_code == 303
    await planner.post(f"{url}/baris/1", data=PAPER | {"volume": "11 rim", "version": "10"})
    grown = await head.post(f"{url}/tahap/ajukan", data={"version": "11"})
    assert grown.status_code == 400 and "pergeseran" in grown.text
    for client in (planner, head, tapd):
        await client.aclose()


async def test_xlsx_import_is_all_or_nothing_with_a_row_report_and_export_downloads(world: BudgetWorld) -> None:
    planner = await _as(world, "operator")
    created = await planner.post(
        "/anggaran", data={"agency_code": AGENCY, "sub_activity_code": SUB, "fiscal_year": YEAR}
    )
    plan_id = _plan_id(created.headers["location"])
    url = f"/anggaran/{plan_id}"
    for volume in ("10 rim", "3 rim"):
        await planner.post(f"{url}/baris", data=PAPER | {"volume": volume})
    exported = await planner.get(f"{url}/ekspor")
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("application/vnd.openxml")
    data = exported.content

    other = await planner.post(
        "/anggaran", data={"agency_code": AGENCY, "sub_activity_code": SUB_2, "fiscal_year": YEAR}
    )
    other_url = f"/anggaran/{_plan_id(other.headers['location'])}"
    book = openpyxl.load_workbook(io.BytesIO(data))
    sheet = book.active
    assert sheet is not None
    header = [str(c.value or "").lower() for c in sheet[1]]
    price_column = next(i for i, v in enumerate(header, start=1) if "harga" in v)
    sheet.cell(row=3, column=price_column, value=99_000)
    broken = io.BytesIO()
    book.save(broken)
    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    refused = await planner.post(f"{other_url}/impor", files={"workbook": ("rka.xlsx", broken.getvalue(), xlsx)})
    assert refused.status_code == 400
    assert 'id="import-errors"' in refused.text and re.search(r"rows\[3\]\.[A-Z]+", refused.text)
    assert "Belum ada rincian belanja." in refused.text  # nothing was written
    imported = await planner.post(f"{other_url}/impor", files={"workbook": ("rka.xlsx", data, xlsx)})
    assert imported.status_code == 303
    page = await planner.get(imported.headers["location"])
    assert "2 rincian diimpor." in page.text and "Rp 650.000" in page.text
    empty = await planner.post(f"{other_url}/impor", files={"workbook": ("rka.xlsx", b"", xlsx)})
    assert empty.status_code == 400
    await planner.aclose()


async def test_the_treasurers_queue_issues_spm_and_sp2d(world: BudgetWorld) -> None:
    stub = world.stub
    head_md = [("authorization", f"Bearer {token('kepala', Role.AGENCY_HEAD)}")]
    tapd_md = [("authorization", f"Bearer {token('tapd', Role.TAPD, agency=False)}")]
    planner_md = [("authorization", f"Bearer {token('operator', Role.PLANNER)}")]
    bud_md = [("authorization", f"Bearer {token('bud', Role.TREASURER, agency=False)}")]
    bendahara_md = [("authorization", f"Bearer {token('bendahara', Role.TREASURER)}")]
    plan = (
        await stub.CreateBudgetPlan(
            pb.CreateBudgetPlanRequest(
                government_code="33", agency_code=AGENCY, sub_activity_code=SUB, fiscal_year=YEAR
            ),
            metadata=planner_md,
        )
    ).budget_plan
    await stub.AddBudgetLine(pb.AddBudgetLineRequest(plan_id=plan.id, line=paper_line()), metadata=planner_md)
    await stub.SubmitBudgetPlan(pb.SubmitBudgetPlanRequest(plan_id=plan.id), metadata=head_md)
    await stub.VerifyBudgetPlan(pb.VerifyBudgetPlanRequest(plan_id=plan.id), metadata=tapd_md)
    await stub.ApproveBudgetPlan(pb.ApproveBudgetPlanRequest(plan_id=plan.id), metadata=tapd_md)
    await stub.SetCashPlan(
        pb.SetCashPlanRequest(plan_id=plan.id, months=[rp(500_000)] + [rp(0)] * 11), metadata=head_md
    )
    spd = (
        await stub.CreateSpendingAllotment(
            pb.CreateSpendingAllotmentRequest(plan_id=plan.id, from_month=1, to_month=1, amount=rp(500_000)),
            metadata=bud_md,
        )
    ).spending_allotment
    spp = (
        await stub.CreatePaymentRequest(
            pb.CreatePaymentRequestRequest(
                plan_id=plan.id,
                line_number=1,
                allotment_id=spd.id,
                kind=treasury_pb2.PAYMENT_KIND_LS_PIHAK_KETIGA,
                amount=rp(120_000),
                description="Pembayaran kertas HVS",
                beneficiary=treasury_pb2.Beneficiary(
                    name="CV Sinar Jaya", bank="Bank Jateng", account_number="1-234-56789-0"
                ),
            ),
            metadata=bendahara_md,
        )
    ).payment_request

    head = await _as(world, "kepala")
    queue = await head.get("/perbendaharaan")
    assert queue.status_code == 200 and spp.number in queue.text and "Rp 120.000" in queue.text
    assert "Terbitkan SPM" in queue.text and "Terbitkan SP2D" not in queue.text
    stale = await head.post(f"/perbendaharaan/{spp.id}/spm", data={"version": "7", "status": "requested"})
    assert stale.status_code == 409 and "sudah diubah orang lain" in stale.text
    ordered = await head.post(
        f"/perbendaharaan/{spp.id}/spm", data={"version": str(spp.version), "status": "requested"}
    )
    assert ordered.status_code == 303
    bud = await _as(world, "bud")
    waiting = await bud.get("/perbendaharaan", params={"status": "ordered"})
    assert "Terbitkan SP2D" in waiting.text and "/SPM/" in waiting.text
    version = re.search(
        rf'action="/perbendaharaan/{spp.id}/sp2d"[^>]*><input type="hidden" name="version" value="(\d+)"', waiting.text
    )
    assert version, waiting.text
    paid = await bud.post(f"/perbendaharaan/{spp.id}/sp2d", data={"version": version.group(1), "status": "ordered"})
    assert paid.status_code == 303
    done = await bud.get("/perbendaharaan", params={"status": "disbursed"})
    assert "/SP2D/" in done.text and spp.number in done.text
    for client in (head, bud):
        await client.aclose()


@pytest.mark.browser
async def test_the_plan_editor_in_headless_chromium(world: BudgetWorld) -> None:
    executable = _chromium()
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(world.settings), log_config=None, lifespan="on"))
    serve = asyncio.create_task(server.serve(sockets=[bind("127.0.0.1", port)]))
    while not server.started and not serve.done():
        await asyncio.sleep(0.02)
    try:
        await asyncio.to_thread(_drive_editor, executable, f"http://127.0.0.1:{port}")
    finally:
        server.should_exit = True
        await asyncio.wait_for(serve, 20)


def _drive_editor(executable: str, base: str) -> None:
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1366, "height": 900})
            page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
            page.on("pageerror", lambda err: problems.append(str(err)))
            page.goto(base + "/anggaran", wait_until="networkidle")
            page.fill("#username", "operator")
            page.fill("#password", ADMIN_PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url("**/anggaran")
            page.fill("#sub_activity_code", SUB)
            page.fill("#fiscal_year", str(YEAR))
            page.click("#new-plan button[type=submit]")
            page.wait_for_selector("#add-line")
            # Look the standard price up and use it.
            page.fill("#cari", "kertas")
            page.click("#price-search button")
            page.wait_for_selector("#prices")
            page.click("#prices button")
            page.wait_for_selector("#add-line")
            assert page.input_value("#add-standard_item_code") == ITEM
            assert page.input_value("#add-unit_price") == "55000"
            page.fill("#add-volume", "10 rim")
            page.click("#add-line button[type=submit]")
            page.wait_for_selector("#lines")
            assert "Rp 550.000" in page.locator("#plan-total").inner_text()
            # An error shown at its field.
            page.fill("#add-standard_item_code", ITEM)
            page.fill("#add-account_code", "5.1.02.01.01.0024")
            page.fill("#add-specification", "Kertas HVS")
            page.fill("#add-volume", "2 rim")
            page.fill("#add-unit", "rim")
            page.fill("#add-unit_price", "70000")
            page.click("#add-line button[type=submit]")
            page.wait_for_selector("#e-add-unit_price")
            assert "above the standard price" in page.locator("#e-add-unit_price").inner_text()
            page.screenshot(path=str(ARTIFACTS / "budget-editor.png"), full_page=True)
            # Edit line 1 in place.
            page.fill("input[form=line-1][name=volume]", "8 rim")
            page.click("#line-1 button:not([name])")
            page.wait_for_selector("#notice")
            assert "Rp 440.000" in page.locator("#plan-total").inner_text()
        finally:
            browser.close()
    # Chromium logs the 400/409 answers of a form post as console errors; anything else is a problem.
    assert [m for m in problems if "status of 4" not in m] == [], problems


async def test_the_cash_plan_is_shown_set_and_revised_alongside_on_the_plan_page(world: BudgetWorld) -> None:
    planner, head, tapd = [await _as(world, n) for n in ("operator", "kepala", "tapd")]
    scope = {"agency_code": AGENCY, "sub_activity_code": SUB, "fiscal_year": YEAR}
    created = await planner.post("/anggaran", data=scope)
    url = f"/anggaran/{_plan_id(created.headers['location'])}"
    await planner.post(f"{url}/baris", data=PAPER | {"version": "1"})
    assert 'id="kas"' not in (await planner.get(url)).text  # no DPA yet, no cash plan

    async def step(who: httpx.AsyncClient, action: str, **data: str) -> httpx.Response:
        version = re.search(r'id="plan-version">(\d+)<', (await who.get(url)).text)
        assert version, action
        return await who.post(f"{url}/tahap/{action}", data={"version": version.group(1), **data})

    for who, action in ((head, "ajukan"), (tapd, "verifikasi"), (tapd, "setujui")):
        assert (await step(who, action)).status_code == 303
    page = await planner.get(url)
    assert 'id="cash-none"' in page.text and "Simpan anggaran kas" in page.text
    months = {f"bulan[{m}]": "0" for m in range(1, 13)} | {"bulan[1]": "250.000", "bulan[6]": "250.000"}
    saved = await planner.post(f"{url}/kas", data=months)
    assert saved.status_code == 303 and saved.headers["location"].endswith("?ok=kas#kas")
    page = await planner.get(saved.headers["location"])
    assert "Anggaran kas tersimpan." in page.text and 'class="cash-in_force"' in page.text and "Rp 250.000" in page.text
    short = await planner.post(f"{url}/kas", data=months | {"bulan[6]": "100.000"})
    assert short.status_code == 400 and "Rp350,000, not the Rp500,000" in short.text and 'value="100.000"' in short.text

    # An amendment to Rp600,000: the cash plan in force stays, the proposal must add up to the revision.
    assert (await step(tapd, "revisi", kind="amendment", reason="APBD Perubahan")).status_code == 303
    version = re.search(r'id="plan-version">(\d+)<', (await planner.get(url)).text)
    assert version
    await planner.post(f"{url}/baris/1", data=PAPER | {"volume": "12 rim", "version": version.group(1)})
    assert (await step(head, "ajukan")).status_code == 303
    assert (await step(tapd, "verifikasi")).status_code == 303
    refused = await step(tapd, "setujui")
    assert refused.status_code == 400 and "Rp100,000 short" in refused.text
    assert (await step(tapd, "kembalikan", note="Anggaran kas menyusul")).status_code == 303
    proposed = await planner.post(f"{url}/kas", data=months | {"bulan[12]": "100.000"})
    assert proposed.status_code == 303 and proposed.headers["location"].endswith("?ok=usulan#kas")
    page = await planner.get(proposed.headers["location"])
    assert "berlaku saat revisi disetujui" in page.text and 'class="cash-proposed"' in page.text
    assert 'class="cash-in_force"' in page.text and "Rp 600.000" in page.text
    for who, action in ((head, "ajukan"), (tapd, "verifikasi"), (tapd, "setujui")):
        assert (await step(who, action)).status_code == 303, action
    page = await planner.get(url)
    assert 'class="cash-proposed"' not in page.text and "Rp 100.000" in page.text
    for client in (planner, head, tapd):
        await client.aclose()
