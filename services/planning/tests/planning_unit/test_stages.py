"""Planning stages: the stage sequence, the lock after the final stage, snapshots and their diffs."""

from __future__ import annotations

import datetime as dt

import pytest
from grms_kit.errors import Conflict, FailedPrecondition, InvalidArgument, NotFound, PermissionDenied
from grms_kit.identity import Identity, Role
from grms_planning.domain.model import IndicatorFormula, IndicatorKind, IndicatorLevel
from grms_planning.domain.stages import StageBook, StageKind, StageSnapshot, diff_stages
from grms_planning.service_layer import handlers
from grms_planning.service_layer import stages as stage_cases

from .fakes import FakeUnitOfWork
from .test_handlers import AGENCY, JUTA, PLANNER, SEMARANG, create, package_cmd, ready

NOW = dt.datetime(2025, 1, 6, 2, 0, tzinfo=dt.UTC)
SCOPE = stage_cases.StageScope("33", AGENCY, 2025)
EMPTY = StageSnapshot(0, 0, 0, 0, {"sub_activities": [], "packages": []})


def close(uow: FakeUnitOfWork, version: int | None = None) -> StageBook:
    return stage_cases.close_stage(stage_cases.CloseStage(SCOPE, version), uow=uow, actor=PLANNER)


def test_a_book_walks_rancangan_awal_rancangan_akhir_then_locks() -> None:
    book = StageBook.start("33", AGENCY, 2025, actor="p", now=NOW)
    assert book.current is not None and book.current.kind == StageKind.RANCANGAN_AWAL
    for expected_next in (StageKind.RANCANGAN, StageKind.AKHIR):
        book.close(EMPTY, expected_version=None, actor="p", now=NOW)
        assert book.current is not None and book.current.kind == expected_next
    book.close(EMPTY, expected_version=None, actor="p", now=NOW)
    assert book.current is None
    assert [(s.number, s.kind, s.closed) for s in book.stages] == [
        (1, StageKind.RANCANGAN_AWAL, True),
        (2, StageKind.RANCANGAN, True),
        (3, StageKind.AKHIR, True),
    ]
    with pytest.raises(FailedPrecondition, match="open a perubahan stage"):
        book.record_edit()
    with pytest.raises(FailedPrecondition, match="locked"):
        book.close(EMPTY, expected_version=None, actor="p", now=NOW)


def test_a_perubahan_opens_only_on_a_locked_plan_with_a_reason() -> None:
    book = StageBook.start("33", AGENCY, 2025, actor="p", now=NOW)
    with pytest.raises(FailedPrecondition, match="still open at stage 1"):
        book.open_revision("Pergeseran anggaran", expected_version=None, actor="p", now=NOW)
    for _ in range(3):
        book.close(EMPTY, expected_version=None, actor="p", now=NOW)
    with pytest.raises(InvalidArgument) as error:
        book.open_revision("  ", expected_version=None, actor="p", now=NOW)
    assert error.value.violations[0].field == "reason"
    with pytest.raises(Conflict):
        book.open_revision("Perubahan APBD", expected_version=1, actor="p", now=NOW)
    opened = book.open_revision("Perubahan APBD", expected_version=book.version, actor="p", now=NOW)
    assert (opened.number, opened.kind, opened.reason) == (4, StageKind.PERUBAHAN, "Perubahan APBD")
    book.record_edit()
    book.close(EMPTY, expected_version=None, actor="p", now=NOW)
    assert book.current is None  # a perubahan locks again when it closes


def _content(**sub: object) -> dict[str, object]:
    base: dict[str, object] = {
        "code": "1.02.02.2.01.0001",
        "name": "Pelayanan ibu hamil",
        "budget": 100,
        "approved_budget": None,
        "status": "draft",
        "funding_sources": ["PAD"],
        "tags": [],
        "locations": [],
        "indicators": [],
        "months": [],
    }
    base.update(sub)
    return {"sub_activities": [base], "packages": []}


def test_diff_names_added_removed_and_changed_fields() -> None:
    indicator = {
        "level": "sub_activity",
        "kind": "output",
        "name": "Ibu hamil terlayani",
        "unit": "orang",
        "target": "1250",
        "formula": "increasing",
    }
    old = _content(indicators=[indicator], months=[{"month": 1, "physical_percent": "10.00", "disbursement": 10}])
    new = _content(
        budget=120,
        indicators=[{**indicator, "target": "1400"}],
        months=[{"month": 1, "physical_percent": "10.00", "disbursement": 12}],
        locations=[{"government_code": "33.74", "village_code": "33.74.01.1001", "latitude": None, "longitude": None}],
    )
    items = diff_stages(old, new)
    summary = [(d.change, d.entity, d.key, [(f.field, f.old, f.new) for f in d.fields]) for d in items]
    assert summary == [
        ("changed", "sub_activity", "", [("budget", "100", "120")]),
        ("changed", "indicator", "sub_activity: ibu hamil terlayani", [("target", "1250", "1400")]),
        (
            "added",
            "location",
            "33.74.01.1001",
            [("government_code", "", "33.74"), ("village_code", "", "33.74.01.1001")],
        ),
        ("changed", "month", "01", [("disbursement", "10", "12")]),
    ]
    assert diff_stages(new, new) == []
    removed = diff_stages(old, {"sub_activities": [], "packages": []})
    assert {(d.change, d.entity) for d in removed} == {
        ("removed", "sub_activity"),
        ("removed", "indicator"),
        ("removed", "month"),
    }


def test_closing_a_stage_snapshots_the_agency_year_and_diffs_against_later_work() -> None:
    uow = FakeUnitOfWork()
    s = ready(uow)
    handlers.create_procurement_package(package_cmd(s, 150 * JUTA), uow=uow, actor=PLANNER)
    book = close(uow)
    first = book.stage(1)
    assert first is not None and first.snapshot is not None
    assert (first.snapshot.sub_activity_count, first.snapshot.package_count) == (1, 1)
    assert first.snapshot.total_budget == 1_200 * JUTA and first.snapshot.total_packaged == 150 * JUTA

    other = create(uow, code="1.02.02.2.01.0002", name="Imunisasi dasar lengkap")
    handlers.add_indicator(
        handlers.AddIndicator(
            other.id,
            IndicatorLevel.SUB_ACTIVITY,
            IndicatorKind.OUTPUT,
            "Bayi diimunisasi",
            "bayi",
            "900",
            IndicatorFormula.INCREASING,
        ),
        uow=uow,
        actor=PLANNER,
    )
    handlers.create_procurement_package(package_cmd(s, 50 * JUTA, "Paket vaksin"), uow=uow, actor=PLANNER)
    live = stage_cases.diff(SCOPE, 1, 0, uow=uow, actor=PLANNER)
    assert live.old is not None and live.old.number == 1 and live.new is None
    kinds = {(d.change, d.entity, d.sub_activity_code) for d in live.items}
    assert ("added", "sub_activity", "1.02.02.2.01.0002") in kinds
    assert ("added", "indicator", "1.02.02.2.01.0002") in kinds
    assert ("added", "package", "1.02.02.2.01.0001") in kinds
    assert not any(d.change == "removed" for d in live.items)

    with pytest.raises(Conflict):  # three edits since the first close
        close(uow, book.version)
    close(uow, stage_cases.get_stage_book(SCOPE, uow=uow, actor=PLANNER).version)
    between = stage_cases.diff(SCOPE, 1, 2, uow=uow, actor=PLANNER)
    assert [(d.change, d.entity) for d in between.items] == [(d.change, d.entity) for d in live.items]
    assert stage_cases.diff(SCOPE, 2, 0, uow=uow, actor=PLANNER).items == []


def test_after_the_final_stage_edits_need_a_perubahan() -> None:
    uow = FakeUnitOfWork()
    s = ready(uow)
    for _ in range(3):
        close(uow)
    with pytest.raises(FailedPrecondition, match="open a perubahan"):
        handlers.create_procurement_package(package_cmd(s, 10 * JUTA), uow=uow, actor=PLANNER)
    with pytest.raises(FailedPrecondition, match="open a perubahan"):
        create(uow, code="1.02.02.2.01.0003")
    assert len(uow.packages.rows) == 0 and len(uow.sub_activities.rows) == 1
    book = stage_cases.get_stage_book(SCOPE, uow=uow, actor=PLANNER)
    book = stage_cases.open_revision(
        stage_cases.OpenRevision(SCOPE, "Perubahan APBD 2025", book.version), uow=uow, actor=PLANNER
    )
    assert book.current is not None and book.current.kind == StageKind.PERUBAHAN
    handlers.create_procurement_package(package_cmd(s, 10 * JUTA), uow=uow, actor=PLANNER)
    assert len(uow.packages.rows) == 1


def test_a_stage_closed_on_a_stale_view_is_a_conflict() -> None:
    uow = FakeUnitOfWork()
    create(uow)
    seen = stage_cases.get_stage_book(SCOPE, uow=uow, actor=PLANNER).version
    create(uow, code="1.02.02.2.01.0002")
    with pytest.raises(Conflict):
        close(uow, seen)
    assert stage_cases.get_stage_book(SCOPE, uow=uow, actor=PLANNER).stage(1).closed is False  # type: ignore[union-attr]


def test_stage_rules_on_access_and_bad_input() -> None:
    uow = FakeUnitOfWork()
    with pytest.raises(PermissionDenied):
        close_as = stage_cases.CloseStage(SCOPE, None)
        stage_cases.close_stage(close_as, uow=uow, actor=SEMARANG)
    viewer = Identity(sub="v", roles=frozenset({Role.EXECUTIVE}), government="33")
    with pytest.raises(PermissionDenied):
        stage_cases.close_stage(stage_cases.CloseStage(SCOPE, None), uow=uow, actor=viewer)
    with pytest.raises(NotFound):
        stage_cases.get_stage_book(stage_cases.StageScope("33", "UNKNOWN", 2025), uow=uow, actor=PLANNER)
    with pytest.raises(InvalidArgument) as error:
        stage_cases.diff(stage_cases.StageScope("x", AGENCY, 1900), 1, 2, uow=uow, actor=PLANNER)
    assert {v.field for v in error.value.violations} == {"government_code", "fiscal_year"}
    with pytest.raises(InvalidArgument) as error:
        stage_cases.diff(SCOPE, 1, 0, uow=uow, actor=PLANNER)
    assert error.value.violations[0].field == "from_stage"
    with pytest.raises(InvalidArgument) as error:
        stage_cases.diff(SCOPE, -1, 0, uow=uow, actor=PLANNER)
    assert error.value.violations[0].field == "from_stage"
