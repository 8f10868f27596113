"""e-Budgeting's JSON routes in front of the REAL budgeting service (in-process runtime, SQLite, NATS)."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from pathlib import Path

import openpyxl
import pytest
from grms.budgeting.v1 import budgeting_service_pb2 as pb
from grms.budgeting.v1 import treasury_pb2
from grms_kit.identity import Role
from grms_kit.testing import NatsServer

from .budgeting_stack import (
    AGENCY,
    ATK,
    ITEM,
    SUB,
    SUB_2,
    YEAR,
    BudgetWorld,
    budget_world,
    rp,
    token,
)

PROBLEM = "application/problem+json"


def auth(sub: str, role: str, *, agency: bool = True, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(sub, role, agency=agency)}", **extra}


PLANNER = auth("operator", Role.PLANNER)
HEAD = auth("kepala", Role.AGENCY_HEAD)
TAPD = auth("tapd", Role.TAPD, agency=False)
BUD = auth("bud", Role.TREASURER, agency=False)


def paper(volume: str = "10 rim", price: int = 50_000, **changes: object) -> dict[str, object]:
    return {
        "account_code": ATK,
        "standard_item_code": ITEM,
        "specification": "Kertas HVS A4 70 gram",
        "volume": volume,
        "unit": "rim",
        "unit_price": price,
        "funding_source": "PAD",
        "tags": ["ATK"],
    } | changes


@pytest.fixture
async def world(nats_server: NatsServer, tmp_path: Path) -> AsyncIterator[BudgetWorld]:
    async with budget_world(nats_server.url, tmp_path) as w:
        yield w


async def _new_plan(world: BudgetWorld, sub: str = SUB) -> dict[str, object]:
    body = {"government_code": "33", "agency_code": AGENCY, "sub_activity_code": sub, "fiscal_year": YEAR}
    created = await world.http.post("/api/v1/budget/plans", json=body, headers=PLANNER)
    assert created.status_code == 201, created.text
    assert created.headers["Location"] == f"/api/v1/budget/plans/{created.json()['id']}"
    assert created.headers["ETag"] == '"1"'
    return created.json()  # type: ignore[no-any-return]


async def test_a_plan_from_draft_through_return_to_dpa_and_a_shift_over_http(world: BudgetWorld) -> None:
    http = world.http
    plan = await _new_plan(world)
    url = f"/api/v1/budget/plans/{plan['id']}"

    added = await http.post(f"{url}/lines", json=paper(), headers=PLANNER | {"If-Match": '"1"'})
    assert added.status_code == 200, added.text
    assert added.headers["ETag"] == '"2"' and added.json()["total"] == 500_000
    # Two planners editing at version 2: the second gets a clear conflict, never a silent overwrite.
    first = await http.put(f"{url}/lines/1", json=paper("12 rim"), headers=PLANNER | {"If-Match": '"2"'})
    second = await http.put(f"{url}/lines/1", json=paper("8 rim"), headers=PLANNER | {"If-Match": '"2"'})
    assert first.status_code == 200
    assert second.status_code == 409 and second.headers["content-type"].startswith(PROBLEM)
    assert second.json()["code"] == "ABORTED"
    assert (await http.get(url, headers=PLANNER)).json()["lines"][0]["amount"] == 600_000

    # A price above the standard and a zero volume: 400, each error naming its line and field.
    bad = await http.post(f"{url}/lines", json=paper("0 rim", 60_000), headers=PLANNER)
    assert bad.status_code == 400 and bad.headers["content-type"].startswith(PROBLEM)
    fields = {e["field"] for e in bad.json()["errors"]}
    assert {"lines[2].unit_price", "lines[2].volume"} <= fields
    bad_if_match = await http.post(f"{url}/lines", json=paper(), headers=PLANNER | {"If-Match": "soon"})
    assert bad_if_match.status_code == 400
    await http.post(f"{url}/lines", json=paper("2 rim"), headers=PLANNER)
    removed = await http.delete(f"{url}/lines/2", headers=PLANNER | {"If-Match": '"4"'})
    assert removed.status_code == 200 and removed.json()["line_count"] == 1

    # Only the head of the agency submits; TAPD returns with a note on line 1.
    assert (await http.post(f"{url}/submit", headers=PLANNER)).status_code == 403
    submitted = await http.post(f"{url}/submit", headers=HEAD)
    assert submitted.status_code == 200, submitted.text
    assert submitted.json()["state"] == "submitted"
    returned = await http.post(
        f"{url}/return",
        json={"note": "Perbaiki volume", "line_notes": [{"line_number": 1, "note": "Cukup 10 rim"}]},
        headers=TAPD,
    )
    assert returned.status_code == 200, returned.text
    assert returned.json()["state"] == "returned" and returned.json()["lines"][0]["review_note"] == "Cukup 10 rim"
    await http.put(f"{url}/lines/1", json=paper("10 rim"), headers=PLANNER)
    for step, who in (("submit", HEAD), ("verify", TAPD), ("approve", TAPD)):
        answer = await http.post(f"{url}/{step}", headers=who)
        assert answer.status_code == 200, (step, answer.text)
    dpa = answer.json()
    assert (dpa["state"], dpa["total"], dpa["approved_total"]) == ("approved", 500_000, 500_000)
    assert dpa["output_indicators"] == []  # only a read names them
    got = (await http.get(url, headers=TAPD)).json()
    assert got["output_indicators"] == ["Jumlah dokumen perencanaan: 2 dokumen"]

    versions = (await http.get(f"{url}/versions", headers=HEAD)).json()
    assert [v["action"] for v in versions] == ["submit", "return", "submit", "verify", "approve"]
    diff = await http.get(
        f"{url}/diff", params={"from": versions[0]["version"], "to": versions[-1]["version"]}, headers=HEAD
    )
    assert diff.status_code == 200, diff.text
    body = diff.json()
    assert (body["from_total"], body["to_total"]) == (600_000, 500_000)
    assert [(d["number"], d["kind"]) for d in body["lines"]] == [(1, "changed")]
    assert {c["field"]: (c["old"], c["new"]) for c in body["lines"][0]["changes"]}["volume"] == ("12 rim", "10 rim")
    missing = await http.get(f"{url}/diff", params={"from": 1, "to": 999}, headers=HEAD)
    assert missing.status_code == 400 and missing.json()["errors"][0]["field"] == "from_version"

    # A shift of the DPA (pergeseran): TAPD opens it; the total may not grow.
    assert (
        await http.post(f"{url}/revise", json={"kind": "shift", "reason": "geser"}, headers=HEAD)
    ).status_code == 403
    revised = await http.post(
        f"{url}/revise", json={"kind": "shift", "reason": "Pergeseran antar rincian"}, headers=TAPD
    )
    assert revised.status_code == 200, revised.text
    assert (revised.json()["state"], revised.json()["revision"], revised.json()["revision_kind"]) == (
        "draft",
        1,
        "shift",
    )
    await http.put(f"{url}/lines/1", json=paper("11 rim"), headers=PLANNER)
    grown = await http.post(f"{url}/submit", headers=HEAD)
    assert grown.status_code == 400 and "pergeseran" in grown.json()["detail"]


async def test_plans_are_listed_and_filtered_and_prices_searched(world: BudgetWorld) -> None:
    http = world.http
    first = await _new_plan(world)
    second = await _new_plan(world, SUB_2)
    await http.post(f"/api/v1/budget/plans/{first['id']}/lines", json=paper(), headers=PLANNER)
    await http.post(f"/api/v1/budget/plans/{first['id']}/submit", headers=HEAD)

    listed = await http.get("/api/v1/budget/plans", params={"government": "33", "fiscal_year": YEAR}, headers=TAPD)
    assert listed.status_code == 200, listed.text
    assert [(p["id"], p["state"], p["line_count"]) for p in listed.json()["budget_plans"]] == [
        (first["id"], "submitted", 1),
        (second["id"], "draft", 0),
    ]
    only = await http.get("/api/v1/budget/plans", params={"government": "33", "state": "draft"}, headers=TAPD)
    assert [p["id"] for p in only.json()["budget_plans"]] == [second["id"]]
    page = await http.get("/api/v1/budget/plans", params={"government": "33", "page_size": 1}, headers=PLANNER)
    token_ = page.json()["next_page_token"]
    rest = await http.get(
        "/api/v1/budget/plans", params={"government": "33", "page_size": 1, "page_token": token_}, headers=PLANNER
    )
    assert [p["id"] for p in rest.json()["budget_plans"]] == [second["id"]] and rest.json()["next_page_token"] == ""
    assert (
        await http.get("/api/v1/budget/plans", params={"government": "33", "state": "lost"}, headers=TAPD)
    ).status_code == 422
    assert (await http.get("/api/v1/budget/plans", params={"government": "33"})).status_code == 401
    other = await http.get(
        "/api/v1/budget/plans", params={"government": "33", "agency": "5.01.0.00.0.00.01.0000"}, headers=PLANNER
    )
    assert other.status_code == 403 and other.headers["content-type"].startswith(PROBLEM)

    prices = await http.get(
        "/api/v1/budget/standard-prices",
        params={"government": "33", "fiscal_year": YEAR, "q": "kertas a4", "account": "5.1.02.01.001.00024"},
        headers=PLANNER,
    )
    assert prices.status_code == 200, prices.text
    assert [(p["code"], p["price"], p["group"]) for p in prices.json()["standard_prices"]] == [(ITEM, 55_000, "ssh")]


async def test_rka_workbook_round_trip_is_all_or_nothing(world: BudgetWorld) -> None:
    http = world.http
    plan = await _new_plan(world)
    url = f"/api/v1/budget/plans/{plan['id']}"
    await http.post(f"{url}/lines", json=paper(), headers=PLANNER)
    await http.post(f"{url}/lines", json=paper("3 rim", 40_000), headers=PLANNER)
    exported = await http.get(f"{url}/workbook", headers=PLANNER)
    assert exported.status_code == 200, exported.text
    assert exported.headers["content-type"].startswith("application/vnd.openxmlformats")
    data = exported.content
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    assert sheet is not None and sheet.max_row >= 3

    other = await _new_plan(world, SUB_2)
    imported = await http.post(
        f"/api/v1/budget/plans/{other['id']}/workbook", content=data, headers=PLANNER | {"If-Match": '"1"'}
    )
    assert imported.status_code == 200, imported.text
    assert (imported.json()["line_count"], imported.json()["total"]) == (2, 620_000)

    # One bad cell: nothing is written, and the error names its row and column.
    book = openpyxl.load_workbook(io.BytesIO(data))
    sheet = book.active
    assert sheet is not None
    header = [c.value for c in sheet[1]]
    price_col = next(i for i, v in enumerate(header, start=1) if v and "harga" in str(v).lower())
    sheet.cell(row=3, column=price_col, value=99_000)
    out = io.BytesIO()
    book.save(out)
    refused = await http.post(f"/api/v1/budget/plans/{other['id']}/workbook", content=out.getvalue(), headers=PLANNER)
    assert refused.status_code == 400, refused.text
    assert any(e["field"].startswith("rows[3].") for e in refused.json()["errors"])
    assert (await http.get(f"/api/v1/budget/plans/{other['id']}", headers=PLANNER)).json()["line_count"] == 2
    csv_text = "Kode Rekening,Kode Standar Harga,Uraian,Volume,Satuan,Harga Satuan,Sumber Dana\n"
    csv_text += f"{ATK},{ITEM},HVS,1 rim,rim,55000,PAD\n"
    from_csv = await http.post(
        f"/api/v1/budget/plans/{other['id']}/workbook",
        content=csv_text.encode(),
        headers=PLANNER | {"Content-Type": "text/csv"},
    )
    assert from_csv.status_code == 200, from_csv.text
    assert (from_csv.json()["line_count"], from_csv.json()["total"]) == (3, 675_000)


async def test_the_treasurers_queue_orders_and_disburses_with_if_match(world: BudgetWorld) -> None:
    http, stub = world.http, world.stub
    plan = await _new_plan(world)
    url = f"/api/v1/budget/plans/{plan['id']}"
    await http.post(f"{url}/lines", json=paper(), headers=PLANNER)
    for step, who in (("submit", HEAD), ("verify", TAPD), ("approve", TAPD)):
        assert (await http.post(f"{url}/{step}", headers=who)).status_code == 200
    head_md = [("authorization", HEAD["Authorization"])]
    bud_md = [("authorization", BUD["Authorization"])]
    bendahara_md = [("authorization", f"Bearer {token('bendahara', Role.TREASURER)}")]
    months = [rp(500_000)] + [rp(0)] * 11
    await stub.SetCashPlan(pb.SetCashPlanRequest(plan_id=str(plan["id"]), months=months), metadata=head_md)
    spd = (
        await stub.CreateSpendingAllotment(
            pb.CreateSpendingAllotmentRequest(plan_id=str(plan["id"]), from_month=1, to_month=1, amount=rp(500_000)),
            metadata=bud_md,
        )
    ).spending_allotment
    for amount in (100_000, 50_000):
        await stub.CreatePaymentRequest(
            pb.CreatePaymentRequestRequest(
                plan_id=str(plan["id"]),
                line_number=1,
                allotment_id=spd.id,
                kind=treasury_pb2.PAYMENT_KIND_LS_PIHAK_KETIGA,
                amount=rp(amount),
                description="Pembayaran kertas",
                beneficiary=treasury_pb2.Beneficiary(
                    name="CV Sinar Jaya", bank="Bank Jateng", account_number="1-234-56789-0"
                ),
            ),
            metadata=bendahara_md,
        )
    queue = await http.get(
        "/api/v1/budget/payment-requests", params={"government": "33", "state": "requested"}, headers=BUD
    )
    assert queue.status_code == 200, queue.text
    requests = queue.json()["payment_requests"]
    assert sorted(r["amount"] for r in requests) == [50_000, 100_000]
    spp = next(r for r in requests if r["amount"] == 100_000)
    stale = await http.post(f"/api/v1/budget/payment-requests/{spp['id']}/order", headers=HEAD | {"If-Match": '"9"'})
    assert stale.status_code == 409
    ordered = await http.post(
        f"/api/v1/budget/payment-requests/{spp['id']}/order", headers=HEAD | {"If-Match": f'"{spp["version"]}"'}
    )
    assert ordered.status_code == 200, ordered.text
    assert ordered.json()["state"] == "ordered" and ordered.json()["spm_number"]
    disbursed = await http.post(
        f"/api/v1/budget/payment-requests/{spp['id']}/disburse", headers=BUD | {"If-Match": ordered.headers["ETag"]}
    )
    assert disbursed.status_code == 200, disbursed.text
    assert disbursed.json()["state"] == "disbursed" and disbursed.json()["sp2d_number"]
    other = next(r for r in requests if r["amount"] == 50_000)
    rejected = await http.post(
        f"/api/v1/budget/payment-requests/{other['id']}/reject", json={"reason": "Dokumen kurang"}, headers=HEAD
    )
    assert rejected.status_code == 200 and rejected.json()["rejection_reason"] == "Dokumen kurang"
    done = await http.get(
        "/api/v1/budget/payment-requests", params={"government": "33", "state": "disbursed"}, headers=BUD
    )
    assert [r["id"] for r in done.json()["payment_requests"]] == [spp["id"]]


async def test_the_cash_plan_is_set_in_force_and_revised_alongside_an_amendment(world: BudgetWorld) -> None:
    http = world.http
    plan = await _new_plan(world)
    url = f"/api/v1/budget/plans/{plan['id']}"
    await http.post(f"{url}/lines", json=paper(), headers=PLANNER)
    for step, who in (("submit", HEAD), ("verify", TAPD), ("approve", TAPD)):
        assert (await http.post(f"{url}/{step}", headers=who)).status_code == 200
    in_force = await http.put(f"{url}/cash-plan", json={"months": [500_000] + [0] * 11}, headers=HEAD)
    assert in_force.status_code == 200, in_force.text
    assert in_force.json() == {
        "proposed": False,
        "cash_plans": [{"line_number": 0, "months": [500_000] + [0] * 11, "total": 500_000}],
    }
    short = await http.put(f"{url}/cash-plan", json={"months": [1] * 11}, headers=HEAD)
    assert short.status_code == 422
    revised = await http.post(f"{url}/revise", json={"kind": "amendment", "reason": "APBD-P"}, headers=TAPD)
    assert revised.status_code == 200, revised.text
    await http.put(f"{url}/lines/1", json=paper("12 rim"), headers=PLANNER)  # Rp600,000
    off = await http.put(f"{url}/cash-plan", json={"months": [500_000] + [0] * 11}, headers=HEAD)
    assert off.status_code == 400 and off.headers["content-type"].startswith(PROBLEM)
    assert "Rp600,000" in off.text
    for step, who in (("submit", HEAD), ("verify", TAPD)):
        assert (await http.post(f"{url}/{step}", headers=who)).status_code == 200
    refused = await http.post(f"{url}/approve", headers=TAPD)
    assert refused.status_code == 400, refused.text  # FAILED_PRECONDITION
    assert refused.headers["content-type"].startswith(PROBLEM) and "Rp100,000 short" in refused.text
    await http.post(f"{url}/return", json={"note": "Anggaran kas disesuaikan"}, headers=TAPD)
    proposed = await http.put(f"{url}/cash-plan", json={"months": [500_000] + [0] * 10 + [100_000]}, headers=HEAD)
    assert proposed.status_code == 200, proposed.text
    assert proposed.json()["proposed"] and proposed.json()["cash_plans"][0]["total"] == 600_000
    both = await http.get(f"{url}/cash-plan", headers=PLANNER)
    assert [c["total"] for c in both.json()["cash_plans"]] == [500_000]
    assert [c["total"] for c in both.json()["proposed_cash_plans"]] == [600_000]
    for step, who in (("submit", HEAD), ("verify", TAPD), ("approve", TAPD)):
        assert (await http.post(f"{url}/{step}", headers=who)).status_code == 200
    after = (await http.get(f"{url}/cash-plan", headers=PLANNER)).json()
    assert ([c["total"] for c in after["cash_plans"]], after["proposed_cash_plans"]) == ([600_000], [])
