"""The governor's complaint board through the gateway (JSON and the web page), against the REAL complaints service.

httpx → FastAPI → gRPC → ComplaintsService → SQL (SQLite and PostgreSQL), as in test_complaints.
"""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET
from typing import Any

import httpx
import pytest
from grms_gateway.clients import CallContext, ComplaintsClient
from grms_gateway.i18n import WIB
from grms_gateway.web.board_chart import nice_max, trend_chart
from grms_gateway.web.complaint_board_pages import format_hours
from grms_kit.identity import Role

from .test_complaints import AGENCY, PROBLEM, LoginAs, complaints_port, file, settings  # noqa: F401

NAME, NIK, PHONE = "Rina Wulandari", "3374015512900077", "081377778888"


async def _seed(client: httpx.AsyncClient, officer: dict[str, str]) -> tuple[str, str]:
    person = {"name": NAME, "nik": NIK, "phone": PHONE}
    answered = await file(client, complainant=person, title=f"Jalan rusak, NIK {NIK}")
    hidden = await file(client, complainant=person, anonymous=True, confidential=True, title="Pungli di terminal bus")
    base = f"/api/v1/complaints/{answered['ticket_id']}"
    for step, body in (("verify", None), ("assign", {"agency_code": AGENCY}), ("start", None)):
        assert (await client.post(f"{base}/{step}", headers=officer, json=body)).status_code == 200
    assert (
        await client.post(f"{base}/respond", headers=officer, json={"text": "Sudah diperbaiki."})
    ).status_code == 200
    return answered["ticket_id"], hidden["ticket_id"]


async def test_board_json_for_staff_only_and_never_identity(client: httpx.AsyncClient, login_as: LoginAs) -> None:
    officer = await login_as("officer", [Role.COMPLAINTS_OFFICER])
    executive = await login_as("sekda", [Role.EXECUTIVE])
    answered, hidden = await _seed(client, officer)

    assert (await client.get("/api/v1/complaints/board")).status_code == 401
    citizen = await login_as("warga", [Role.PLANNER])
    refused = await client.get("/api/v1/complaints/board", headers=citizen)
    assert refused.status_code == 403 and refused.headers["content-type"] == PROBLEM

    response = await client.get("/api/v1/complaints/board", headers=officer)
    assert response.status_code == 200, response.text
    board = response.json()
    today = dt.datetime.now(WIB).date()
    assert board["end"] == today.isoformat() and len(board["trend"]) == 30
    assert board["trend"][-1]["received"] == 2 and board["trend"][-1]["responded"] == 1
    rows = {r["agency_code"]: r for r in board["agencies"]}
    assert rows[AGENCY]["responded"] == 1 and rows[AGENCY]["median_first_response_hours"] is not None
    assert rows[""]["open"] == 1 and rows[""]["oldest_open_ticket_id"] == hidden
    assert board["totals"]["received"] == 2 and board["totals"]["open"] == 2
    listed = {c["ticket_id"]: c for c in board["complaints"]}
    assert listed[answered]["reporter_reference"].startswith("PLP-") and NIK not in listed[answered]["title"]
    assert listed[hidden]["reporter_reference"] == "" and listed[hidden]["title"] == "Pungli di terminal bus"
    for leak in (NAME, NIK, PHONE, PHONE[-8:]):  # also "+62 813…" forms; not a bare "0813", which timestamps contain
        assert leak not in response.text

    masked = (await client.get("/api/v1/complaints/board", headers=executive, params={"open_only": "true"})).json()
    assert {c["ticket_id"]: c["title"] for c in masked["complaints"]}[hidden] == ""

    bad = await client.get(
        "/api/v1/complaints/board", headers=officer, params={"start": "2025-06-10", "end": "2025-06-01"}
    )
    assert bad.status_code == 400 and bad.headers["content-type"] == PROBLEM
    too_long = await client.get("/api/v1/complaints/board", headers=officer, params={"start": "2020-01-01"})
    assert too_long.status_code == 400


async def test_board_page_needs_login_and_draws_the_trend(client: httpx.AsyncClient, login_as: LoginAs) -> None:
    officer = await login_as("officer", [Role.COMPLAINTS_OFFICER])
    answered, hidden = await _seed(client, officer)

    anonymous = await client.get("/pengaduan/papan?opd=DINKES", follow_redirects=False)
    assert (
        anonymous.status_code == 303 and anonymous.headers["location"] == "/masuk?next=/pengaduan/papan%3Fopd%3DDINKES"
    )

    client.cookies.set("grms_session", officer["Authorization"].removeprefix("Bearer "))
    page = await client.get("/pengaduan/papan")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    html = page.text
    assert "Papan Pengaduan Gubernur" in html and "WIB" in html
    for leak in (NAME, NIK, PHONE):
        assert leak not in html
    assert f'data-ticket="{answered}"' in html and f'data-ticket="{hidden}"' in html
    svg = re.search(r'<svg[^>]*id="board-trend".*?</svg>', html, re.S)
    assert svg is not None
    tree = ET.fromstring(svg.group(0))
    ns = {"s": "http://www.w3.org/2000/svg"}
    assert len(tree.findall(".//s:g[@class='series received']/s:rect", ns)) == 30
    assert len(tree.find(".//s:polyline[@id='line-responded']", ns).get("points", "").split()) == 30  # type: ignore[union-attr]
    assert "2 diterima, 1 respons pertama" in html
    english = await client.get("/pengaduan/papan?lang=en&terbuka=1")
    assert "Governor&#39;s Complaint Board" in english.text and f'data-ticket="{answered}"' in english.text
    bad = await client.get("/pengaduan/papan?dari=2025-06-10&sampai=2025-06-01&lang=id")
    assert bad.status_code == 400 and "Periode tidak sah" in bad.text


def test_chart_geometry_and_number_formats() -> None:
    assert [nice_max(v) for v in (0, 7, 10, 11, 140, 2001)] == [5, 10, 10, 20, 200, 5000]
    days = [(dt.date(2025, 6, 1) + dt.timedelta(days=i), 10 * i, 5 * i, i) for i in range(3)]
    chart = trend_chart(days)
    assert chart is not None and chart.y_ticks[-1] == (20, float(chart.top))
    assert [b.height for b in chart.bars] == [0, 120, 240]  # 0, 10 and 20 of a 20-high, 240-unit plot
    assert chart.responded.split()[0].endswith(f",{chart.bottom}") and chart.total_breached == 3
    assert trend_chart([]) is None
    assert (format_hours(1234.56), format_hours(1234.56, "en"), format_hours(None)) == ("1.234,6", "1,234.6", "–")


async def test_board_page_asks_for_the_agencies_beside_the_board(
    client: httpx.AsyncClient, login_as: LoginAs, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The agencies' names for the filter are asked for while the board is on its way, not after it."""
    officer = await login_as("officer", [Role.COMPLAINTS_OFFICER])
    await _seed(client, officer)
    events: list[str] = []
    real_call = ComplaintsClient.call

    async def spy(self: ComplaintsClient, method: str, request: Any, *, ctx: CallContext) -> Any:
        events.append(f"start {method}")
        try:
            return await real_call(self, method, request, ctx=ctx)
        finally:
            events.append(f"end {method}")

    monkeypatch.setattr(ComplaintsClient, "call", spy)
    client.cookies.set("grms_session", officer["Authorization"].removeprefix("Bearer "))
    page = await client.get("/pengaduan/papan")
    assert page.status_code == 200 and 'data-ticket="' in page.text
    assert events.index("start ListAgencies") < events.index("end GetComplaintBoard"), events
