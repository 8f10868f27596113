"""Planning stages through the gateway (JSON and pages) in front of the REAL planning service."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
from grms.planning.v1 import planning_service_pb2 as pb
from grms.planning.v1 import planning_service_pb2_grpc as pb_grpc
from grms.planning.v1 import sub_activity_pb2
from grms_kit.identity import Identity, Role, TokenCodec
from grms_kit.testing import NatsServer

from .conftest import ADMIN_PASSWORD, TEST_SECRET
from .test_planning_pages import _planner_metadata, _this_year, make_planner, seed_sub_activities
from .test_planning_routes import AGENCY, PlanningStack, planning_stack


def _bearer(roles: frozenset[str] = frozenset({Role.PLANNER})) -> dict[str, str]:
    token = TokenCodec(TEST_SECRET).issue(Identity(sub="perencana-api", roles=roles, government="33"))
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
async def stack(nats_server: NatsServer, tmp_path: Path) -> AsyncIterator[PlanningStack]:
    async with planning_stack(nats_server.url, tmp_path) as started:
        yield started


def _stages(year: int) -> str:
    return f"/api/v1/planning/33/{year}/agencies/{AGENCY}/stages"


async def test_stage_book_close_diff_and_revision_over_json(stack: PlanningStack) -> None:
    http, year = stack.http, _this_year()
    await seed_sub_activities(stack.planning_address)
    anonymous = await http.get(_stages(year))
    assert anonymous.status_code == 401

    book = await http.get(_stages(year), headers=_bearer())
    assert book.status_code == 200, book.text
    assert [(s["number"], s["kind"], s["closed_at"]) for s in book.json()["stages"]] == [(1, "rancangan_awal", None)]

    stale = await http.post(_stages(year) + "/close", json={"expected_version": 1}, headers=_bearer())
    assert stale.status_code == 409 and stale.headers["content-type"].startswith("application/problem+json")
    viewer = await http.post(_stages(year) + "/close", json={}, headers=_bearer(frozenset({Role.EXECUTIVE})))
    assert viewer.status_code == 403

    for expected in ("rancangan", "akhir", None):
        closed = await http.post(
            _stages(year) + "/close", json={"expected_version": book.json()["version"]}, headers=_bearer()
        )
        assert closed.status_code == 200, closed.text
        book = closed
        last = closed.json()["stages"][-1]
        assert (last["kind"] if last["closed_at"] is None else None) == expected
    body = book.json()
    assert body["editable"] is False and [s["sub_activity_count"] for s in body["stages"]] == [2, 2, 2]
    assert body["stages"][0]["total_budget"] == 2_400_000_000

    same = await http.get(_stages(year) + "/diff", params={"from": 1, "to": 3}, headers=_bearer())
    assert same.status_code == 200 and same.json()["items"] == []
    assert same.json()["old_stage"]["kind"] == "rancangan_awal" and same.json()["new_stage"]["kind"] == "akhir"
    not_closed = await http.get(_stages(year) + "/diff", params={"from": 9}, headers=_bearer())
    assert not_closed.status_code == 400 and "from_stage" in not_closed.text

    no_reason = await http.post(_stages(year) + "/revisions", json={"reason": ""}, headers=_bearer())
    assert no_reason.status_code == 400 and "reason" in no_reason.text
    revised = await http.post(_stages(year) + "/revisions", json={"reason": "Perubahan APBD"}, headers=_bearer())
    assert revised.status_code == 201, revised.text
    assert revised.json()["editable"] is True and revised.json()["stages"][-1]["kind"] == "perubahan"


async def test_planner_closes_stages_and_reads_the_diff_on_the_pages(stack: PlanningStack) -> None:
    http, year = stack.http, _this_year()
    make_planner(stack.gateway_settings)
    _, unplanned_id = await seed_sub_activities(stack.planning_address)
    assert (await http.get("/perencanaan/tahapan", follow_redirects=False)).status_code == 303
    await http.post("/masuk", data={"username": "perencana", "password": ADMIN_PASSWORD}, follow_redirects=False)

    page = await http.get(f"/perencanaan/tahapan?tahun={year}")
    assert page.status_code == 200 and 'id="close-stage"' in page.text
    assert "Rancangan awal" in page.text and "Sedang berjalan" in page.text
    version = re.search(r'name="versi" value="(\d+)"', page.text)
    assert version is not None

    closed = await http.post(
        "/perencanaan/tahapan",
        data={"aksi": "tutup", "opd": AGENCY, "tahun": str(year), "versi": version.group(1)},
        follow_redirects=False,
    )
    assert closed.status_code == 303 and "pesan=closed" in closed.headers["location"]
    again = await http.post(
        "/perencanaan/tahapan",
        data={"aksi": "tutup", "opd": AGENCY, "tahun": str(year), "versi": version.group(1)},
    )
    assert again.status_code == 409 and 'id="form-errors"' in again.text

    same = await http.get(f"/perencanaan/tahapan/beda?opd={AGENCY}&dari=1&ke=0&tahun={year}")
    assert same.status_code == 200 and 'id="no-differences"' in same.text
    # A change after the snapshot shows up against the working plan, field by field.
    async with grpc.aio.insecure_channel(stack.planning_address) as channel:
        await pb_grpc.PlanningServiceStub(channel).AddIndicator(
            pb.AddIndicatorRequest(
                sub_activity_id=unplanned_id,
                indicator=sub_activity_pb2.Indicator(
                    level=sub_activity_pb2.INDICATOR_LEVEL_SUB_ACTIVITY,
                    kind=sub_activity_pb2.INDICATOR_KIND_OUTPUT,
                    name="Bayi baru lahir terlayani",
                    unit="bayi",
                    target="800",
                    formula=sub_activity_pb2.INDICATOR_FORMULA_INCREASING,
                ),
            ),
            metadata=_planner_metadata(),
            timeout=5,
        )
    diff = await http.get(f"/perencanaan/tahapan/beda?opd={AGENCY}&dari=1&ke=0&tahun={year}")
    assert diff.status_code == 200 and 'id="stage-diff"' in diff.text
    assert "1 ditambah, 0 dihapus, 0 diubah" in diff.text
    assert "Indikator" in diff.text and "<ins>800</ins>" in diff.text and "1.02.02.2.01.0032" in diff.text

    listing = await http.get(f"/perencanaan/tahapan?tahun={year}&opd={AGENCY}&pesan=closed")
    assert 'id="stage-notice"' in listing.text and 'id="diff-form"' in listing.text
    english = await http.get(f"/perencanaan/tahapan?tahun={year}&opd={AGENCY}&lang=en")
    assert "Initial draft" in english.text and "Close the Draft stage" in english.text

    bad = await http.get(f"/perencanaan/tahapan/beda?opd={AGENCY}&dari=7&tahun={year}")
    assert bad.status_code == 400 and "from_stage" in bad.text
    unknown = await http.get(f"/perencanaan/tahapan?tahun={year}&opd=TIDAK-ADA")
    assert unknown.status_code == 404
