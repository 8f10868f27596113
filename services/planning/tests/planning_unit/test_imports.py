"""Bulk import: the single calls' rules, every mistake named by its path, all or nothing."""

from __future__ import annotations

import pytest
from grms_kit.errors import FailedPrecondition, InvalidArgument
from grms_planning.domain.curves import CurveShape, suggest_monthly_plan
from grms_planning.domain.model import IndicatorFormula, IndicatorKind, IndicatorLevel, SubActivityPlanned
from grms_planning.domain.procurement import (
    MonthRange,
    ProcurementMode,
    ProcurementPlanned,
    ProcurementType,
    SelectionMethod,
)
from grms_planning.service_layer import handlers, imports
from grms_planning.service_layer import stages as stage_cases

from .fakes import FakeUnitOfWork
from .test_handlers import AGENCY, JUTA, PLANNER, create

OUTPUT = imports.IndicatorInput(
    IndicatorLevel.SUB_ACTIVITY,
    IndicatorKind.OUTPUT,
    "Jumlah posyandu aktif",
    "unit",
    "40",
    IndicatorFormula.INCREASING,
)


def _months(budget: int) -> list[tuple[str, int]]:
    return [(str(m.physical_percent), m.disbursement) for m in suggest_monthly_plan(CurveShape.GOODS, budget).months]


def _package(value: int, **overrides: object) -> handlers.CreateProcurementPackage:
    values: dict[str, object] = {
        "sub_activity_id": "",
        "account_code": "5.1.02.01.01.0024",
        "name": "Paket alat posyandu",
        "procurement_type": ProcurementType.GOODS,
        "mode": ProcurementMode.PROVIDER,
        "method": SelectionMethod.E_PURCHASING,
        "value": value,
        "selection": MonthRange(2, 2),
        "contract": MonthRange(3, 4),
        "use": MonthRange(4, 12),
    }
    values.update(overrides)
    return handlers.CreateProcurementPackage(**values)  # type: ignore[arg-type]


def _plan(code: str, budget: int = 500 * JUTA, **overrides: object) -> imports.SubActivityPlan:
    values: dict[str, object] = {
        "code": code,
        "name": f"Pengadaan sarana posyandu {code}",
        "budget": budget,
        "locations": [handlers.LocationInput("33", "33.74.01.1001")],
        "indicators": [OUTPUT],
        "months": _months(budget),
        "mark_planned": True,
        "packages": [_package(150 * JUTA)],
    }
    values.update(overrides)
    return imports.SubActivityPlan(**values)  # type: ignore[arg-type]


def _import(uow: FakeUnitOfWork, *plans: imports.SubActivityPlan) -> imports.ImportResult:
    cmd = imports.ImportSubActivities("33", AGENCY, 2025, plans)
    return imports.import_sub_activities(cmd, uow=uow, actor=PLANNER)


def test_an_import_plans_sub_activities_and_packages_with_their_events() -> None:
    uow = FakeUnitOfWork()
    result = _import(uow, _plan("1.02.02.2.01.0001"), _plan("1.02.02.2.01.0002", packages=[]))
    assert (result.sub_activities, result.monthly_rows, result.packages) == (2, 24, 1)
    assert sorted(type(e).__name__ for e in uow.published) == [
        "ProcurementPlanned",
        "SubActivityPlanned",
        "SubActivityPlanned",
    ]
    assert {type(e) for e in uow.published} == {SubActivityPlanned, ProcurementPlanned}
    stored = sorted(uow.sub_activities.rows.values(), key=lambda s: s.code)
    assert [s.packaged for s in stored] == [150 * JUTA, 0]
    assert uow.commits == 1


def test_every_mistake_is_named_by_its_path_and_nothing_is_stored() -> None:
    uow = FakeUnitOfWork()
    create(uow)  # 1.02.02.2.01.0001 exists
    bad_months = _months(500 * JUTA)
    bad_months[5] = ("1.00", bad_months[5][1])
    with pytest.raises(InvalidArgument) as error:
        _import(
            uow,
            _plan("1.02.02.2.01.0001"),
            _plan("1.02.02.2.01.0002", months=bad_months),
            _plan("1.02.02.2.01.0003", packages=[_package(600 * JUTA, method=SelectionMethod.TENDER)]),
            _plan("1.02.02.2.01.0004", indicators=[], packages=[]),
            _plan("1.02.02.2.01.0004"),
            _plan("bad", locations=[handlers.LocationInput("33", "35.01.01.2001")]),
        )
    fields = {v.field for v in error.value.violations}
    assert "plans[0].code" in fields  # exists
    assert "plans[1].months[5].physical_percent" in fields
    assert "plans[2].packages[0]" in fields  # over the budget
    assert "plans[3]" in fields  # cannot be marked planned without an output indicator
    assert "plans[4].code" in fields  # listed twice
    assert "plans[5].locations[0].village_code" in fields
    assert len(uow.sub_activities.rows) == 1 and uow.packages.rows == {}


def test_an_import_follows_the_stage_lock_and_the_limits() -> None:
    uow = FakeUnitOfWork()
    _import(uow, _plan("1.02.02.2.01.0001"))
    scope = stage_cases.StageScope("33", AGENCY, 2025)
    for _ in range(3):
        stage_cases.close_stage(stage_cases.CloseStage(scope, None), uow=uow, actor=PLANNER)
    with pytest.raises(FailedPrecondition, match="perubahan"):
        _import(uow, _plan("1.02.02.2.01.0002"))
    with pytest.raises(InvalidArgument, match="plans"):
        _import(uow)
    assert len(uow.sub_activities.rows) == 1


def test_an_import_answers_to_the_amount_budgeting_approved() -> None:
    uow = FakeUnitOfWork()
    uow.sub_activities.approved[("33", 2025, AGENCY)] = {"1.02.02.2.01.0001": 400 * JUTA}
    with pytest.raises(InvalidArgument) as error:
        _import(uow, _plan("1.02.02.2.01.0001"))  # its F1 spends the 500 juta it asked for
    assert "Rp 400,000,000" in str(error.value.violations)
    _import(uow, _plan("1.02.02.2.01.0001", months=_months(400 * JUTA)))
    (stored,) = uow.sub_activities.rows.values()
    assert stored.effective_budget == 400 * JUTA and stored.budget == 500 * JUTA
