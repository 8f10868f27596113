"""Planning use cases on fakes: the real handlers, no I/O."""

from __future__ import annotations

import pytest
from grms_kit.errors import (
    AlreadyExists,
    Conflict,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    Unauthenticated,
)
from grms_kit.identity import ANONYMOUS, Identity, Role
from grms_kit.paging import Page
from grms_planning.domain.curves import CurveShape
from grms_planning.domain.model import (
    IndicatorFormula,
    IndicatorKind,
    IndicatorLevel,
    SubActivity,
    SubActivityPlanned,
    SubActivityStatus,
)
from grms_planning.domain.procurement import (
    MonthRange,
    ProcurementMode,
    ProcurementPlanned,
    ProcurementType,
    SelectionMethod,
)
from grms_planning.service_layer import handlers

from .fakes import FakeUnitOfWork

AGENCY = "1.02.0.00.0.00.01.0000"
PLANNER = Identity(sub="planner", roles=frozenset({Role.PLANNER}), government="33", agencies=frozenset({AGENCY}))
ADMIN = Identity(sub="admin", roles=frozenset({Role.ADMIN}), government="33")
SEMARANG = Identity(sub="kota", roles=frozenset({Role.PLANNER}), government="33.74")
JUTA = 1_000_000


def create(uow: FakeUnitOfWork, actor: Identity = PLANNER, **overrides: object) -> SubActivity:
    values: dict[str, object] = {
        "government_code": "33",
        "agency_code": AGENCY,
        "fiscal_year": 2025,
        "code": "1.02.02.2.01.0001",
        "name": "Pengelolaan Pelayanan Kesehatan Ibu Hamil",
        "budget": 1_200 * JUTA,
        "locations": [handlers.LocationInput("33.74", "33.74.01.1001", "-6.99", "110.42")],
        "tags": ["stunting"],
    }
    values.update(overrides)
    return handlers.create_sub_activity(handlers.CreateSubActivity(**values), uow=uow, actor=actor)  # type: ignore[arg-type]


def ready(uow: FakeUnitOfWork, actor: Identity = PLANNER, **overrides: object) -> SubActivity:
    s = create(uow, actor, **overrides)
    s = handlers.add_indicator(
        handlers.AddIndicator(
            s.id,
            IndicatorLevel.SUB_ACTIVITY,
            IndicatorKind.OUTPUT,
            "Jumlah ibu hamil terlayani",
            "orang",
            "1250",
            IndicatorFormula.INCREASING,
        ),
        uow=uow,
        actor=actor,
    )
    plan = handlers.suggest_plan(s.id, CurveShape.SERVICES, uow=uow, actor=actor)
    months = [(str(m.physical_percent), m.disbursement) for m in plan.months]
    s = handlers.set_monthly_plan(handlers.SetMonthlyPlan(s.id, months, s.version), uow=uow, actor=actor)
    return handlers.mark_sub_activity_planned(handlers.MarkSubActivityPlanned(s.id), uow=uow, actor=actor)


def package_cmd(s: SubActivity, value: int, name: str = "Paket ATK") -> handlers.CreateProcurementPackage:
    return handlers.CreateProcurementPackage(
        sub_activity_id=s.id,
        account_code="5.1.02.01.01.0024",
        name=name,
        procurement_type=ProcurementType.GOODS,
        mode=ProcurementMode.PROVIDER,
        method=SelectionMethod.PENGADAAN_LANGSUNG,
        value=value,
        selection=MonthRange(2, 2),
        contract=MonthRange(3, 4),
        use=MonthRange(4, 12),
    )


def test_the_whole_planning_flow_raises_its_events_once() -> None:
    uow = FakeUnitOfWork()
    s = ready(uow)
    assert uow.sub_activities.rows[s.id].status == SubActivityStatus.PLANNED
    p = handlers.create_procurement_package(package_cmd(s, 195 * JUTA), uow=uow, actor=PLANNER)
    assert uow.sub_activities.rows[s.id].packaged == 195 * JUTA
    assert [type(e) for e in uow.published] == [SubActivityPlanned, ProcurementPlanned]
    listed, token = handlers.list_procurement_packages(
        handlers.PackageScope("33", 2025), Page(), uow=uow, actor=PLANNER
    )
    assert ([x.id for x in listed], token) == ([p.id], "")


def test_unknown_location_government_and_unknown_agency_are_refused() -> None:
    uow = FakeUnitOfWork()
    with pytest.raises(InvalidArgument) as info:
        create(uow, locations=[handlers.LocationInput("33.29"), handlers.LocationInput("33.74", "33.7.01.1001")])
    assert {v.field for v in info.value.violations} == {"locations[0].government_code", "locations[1].village_code"}
    assert "not known" in {v.field: v.description for v in info.value.violations}["locations[0].government_code"]
    with pytest.raises(FailedPrecondition, match="not known to planning"):
        create(uow, actor=ADMIN, agency_code="DISHUB")
    assert uow.sub_activities.rows == {} and uow.commits == 0


def test_the_same_sub_activity_twice_is_already_exists() -> None:
    uow = FakeUnitOfWork()
    create(uow)
    with pytest.raises(AlreadyExists):
        create(uow)
    create(uow, fiscal_year=2026)


def test_who_may_plan_and_read() -> None:
    uow = FakeUnitOfWork()
    with pytest.raises(Unauthenticated):
        create(uow, actor=ANONYMOUS)
    with pytest.raises(PermissionDenied):
        create(uow, actor=Identity(sub="t", roles=frozenset({Role.TREASURER}), government="33"))
    with pytest.raises(PermissionDenied):
        create(uow, actor=PLANNER, government_code="33.74", agency_code="DINKES")
    with pytest.raises(PermissionDenied):  # a planner scoped to another agency
        create(
            uow, actor=Identity(sub="p", roles=frozenset({Role.PLANNER}), government="33", agencies=frozenset({"X"}))
        )
    province = create(uow)
    city = create(uow, actor=SEMARANG, government_code="33.74", agency_code="DINKES", locations=[])
    # The province's admin sees the city's; the city does not see the province's, not even that it exists.
    assert handlers.get_sub_activity(city.id, uow=uow, actor=ADMIN).id == city.id
    with pytest.raises(NotFound):
        handlers.get_sub_activity(province.id, uow=uow, actor=SEMARANG)
    with pytest.raises(PermissionDenied):
        handlers.list_sub_activities(handlers.PackageScope("33", 2025), Page(), uow=uow, actor=SEMARANG)
    service = Identity(sub="monev", roles=frozenset({Role.SERVICE}))
    assert handlers.get_sub_activity(province.id, uow=uow, actor=service).id == province.id


def test_a_stale_f1_is_a_conflict_and_a_missing_version_is_invalid() -> None:
    uow = FakeUnitOfWork()
    s = create(uow)
    plan = handlers.suggest_plan(s.id, CurveShape.CONSTRUCTION, uow=uow, actor=PLANNER)
    months = [(str(m.physical_percent), m.disbursement) for m in plan.months]
    handlers.set_monthly_plan(handlers.SetMonthlyPlan(s.id, months, 1), uow=uow, actor=PLANNER)
    with pytest.raises(Conflict):
        handlers.set_monthly_plan(handlers.SetMonthlyPlan(s.id, months, 1), uow=uow, actor=PLANNER)
    with pytest.raises(InvalidArgument) as info:
        handlers.set_monthly_plan(handlers.SetMonthlyPlan(s.id, months, None), uow=uow, actor=PLANNER)
    assert info.value.violations[0].field == "expected_version"
    assert uow.sub_activities.rows[s.id].version == 2


def test_over_budget_package_is_refused_and_nothing_is_stored() -> None:
    uow = FakeUnitOfWork()
    s = ready(uow, budget=300 * JUTA)
    handlers.create_procurement_package(package_cmd(s, 199 * JUTA, "Paket 1"), uow=uow, actor=PLANNER)
    published = len(uow.published)
    with pytest.raises(FailedPrecondition, match="Paket 2"):
        handlers.create_procurement_package(package_cmd(s, 199 * JUTA, "Paket 2"), uow=uow, actor=PLANNER)
    assert len(uow.packages.rows) == 1
    assert uow.sub_activities.rows[s.id].packaged == 199 * JUTA
    assert len(uow.published) == published


def test_paging_through_sub_activities_and_packages() -> None:
    uow = FakeUnitOfWork()
    for i in range(5):
        create(uow, code=f"1.02.02.2.01.{i + 1:04d}")
    codes, token = [], ""
    while True:
        items, token = handlers.list_sub_activities(
            handlers.PackageScope("33", 2025), Page(size=2, token=token), uow=uow, actor=PLANNER
        )
        codes += [s.code for s in items]
        if not token:
            break
    assert codes == [f"1.02.02.2.01.{i + 1:04d}" for i in range(5)]
    with pytest.raises(InvalidArgument):
        handlers.list_procurement_packages(
            handlers.PackageScope("33", 2025), Page(size=2, token="YQ"), uow=uow, actor=PLANNER
        )


def test_detect_splits_through_the_handler() -> None:
    uow = FakeUnitOfWork()
    s = ready(uow)
    for i in range(3):
        handlers.create_procurement_package(package_cmd(s, 190 * JUTA, f"ATK {i}"), uow=uow, actor=PLANNER)
    findings = handlers.detect_splits(handlers.PackageScope("33", 2025), uow=uow, actor=PLANNER)
    assert [len(f.packages) for f in findings] == [3]
    assert handlers.detect_splits(handlers.PackageScope("33", 2024), uow=uow, actor=PLANNER) == []
