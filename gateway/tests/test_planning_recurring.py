"""Recurring complaints through the gateway (JSON and the planner's proposals page), real planning and NATS."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from collections.abc import AsyncIterator
from pathlib import Path

import nats
import pytest
from grms.complaints.v1 import events_pb2 as complaint_events
from grms_kit.events import Envelope
from grms_kit.identity import Identity, Role, TokenCodec
from grms_kit.messaging import ensure_stream
from grms_kit.testing import NatsServer

from .conftest import ADMIN_PASSWORD, TEST_SECRET
from .test_planning_pages import _this_year, make_planner
from .test_planning_routes import PlanningStack, planning_stack

VILLAGES = ("33.74.01.1001", "33.74.01.1002")


@pytest.fixture
async def stack(nats_server: NatsServer, tmp_path: Path) -> AsyncIterator[PlanningStack]:
    async with planning_stack(nats_server.url, tmp_path) as started:
        nc = await nats.connect(nats_server.url)
        try:
            js = nc.jetstream()
            await ensure_stream(js, "complaints")
            now = dt.datetime.now(dt.UTC)
            for village, count in zip(VILLAGES, (5, 6), strict=True):
                for _ in range(count):
                    event = complaint_events.ComplaintReceived(
                        ticket_id="LG", government_code="33", category_code="jalan_rusak", village_code=village
                    )
                    event.receive_time.FromDatetime(now)
                    envelope = Envelope.wrap(event, source="grms-complaints", government="33", time=now)
                    await js.publish(envelope.subject, envelope.payload, headers=envelope.headers())
        finally:
            await nc.close()
        yield started


async def test_recurring_complaints_listed_and_proposed_over_json_and_the_page(stack: PlanningStack) -> None:
    http, year = stack.http, _this_year()
    token = TokenCodec(TEST_SECRET).issue(Identity(sub="p", roles=frozenset({Role.PLANNER}), government="33"))
    api = {"Authorization": f"Bearer {token}"}
    url = f"/api/v1/planning/33/recurring-complaints?year={year}"
    for _ in range(200):  # planning's consumer counts within moments
        listed = await http.get(url, headers=api)
        assert listed.status_code == 200, listed.text
        if [c["complaint_count"] for c in listed.json()["clusters"]] == [6, 5]:
            break
        await asyncio.sleep(0.05)
    else:
        pytest.fail(f"never counted: {listed.text}")
    assert listed.json()["threshold"] == 5 and listed.json()["clusters"][0]["proposal_category"] == "infrastructure"
    assert (await http.get(url)).status_code == 401

    created = await http.post(
        f"/api/v1/planning/33/recurring-complaints/{year}/proposals",
        json={"village_code": VILLAGES[1], "category_code": "jalan_rusak"},
        headers=api,
    )
    assert created.status_code == 201, created.text
    assert created.json()["status"] == "under_review" and created.json()["proposer_contact"] == ""
    again = await http.post(
        f"/api/v1/planning/33/recurring-complaints/{year}/proposals",
        json={"village_code": VILLAGES[1], "category_code": "jalan_rusak"},
        headers=api,
    )
    assert again.status_code == 400 and again.headers["content-type"].startswith("application/problem+json")

    make_planner(stack.gateway_settings)
    await http.post("/masuk", data={"username": "perencana", "password": ADMIN_PASSWORD}, follow_redirects=False)
    page = await http.get("/perencanaan/usulan")
    assert page.status_code == 200
    assert page.text.count('class="propose-form"') == 1 and created.json()["public_id"] in page.text
    proposed = await http.post(
        "/perencanaan/usulan",
        data={"tahun": str(year), "desa": VILLAGES[0], "kategori": "jalan_rusak"},
        follow_redirects=False,
    )
    assert proposed.status_code == 303
    after = await http.get(proposed.headers["location"])
    match = re.search(r'id="new-proposal">(U-[0-9A-Z]{16})<', after.text)
    assert match is not None and 'class="propose-form"' not in after.text
    public = await http.get(f"/usulan/{match.group(1)}")
    assert public.status_code == 200 and "Sedang ditelaah" in public.text

    twice = await http.post(
        "/perencanaan/usulan", data={"tahun": str(year), "desa": VILLAGES[0], "kategori": "jalan_rusak"}
    )
    assert twice.status_code == 409 and 'id="form-errors"' in twice.text
    missing = await http.post(
        "/perencanaan/usulan", data={"tahun": str(year), "desa": VILLAGES[0], "kategori": "pendidikan"}
    )
    assert missing.status_code == 404 and 'id="form-errors"' in missing.text
