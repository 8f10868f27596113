"""Sub-activity rules: codes, indicators and their targets, locations, the monthly plan (F1), readiness."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from grms_kit.errors import Conflict, FailedPrecondition, FieldViolation, InvalidArgument
from grms_planning.domain.curves import CURVES, CurveShape, suggest_monthly_plan
from grms_planning.domain.model import (
    Indicator,
    IndicatorFormula,
    IndicatorKind,
    IndicatorLevel,
    Location,
    MonthlyPlan,
    SubActivity,
    SubActivityPlanned,
    SubActivityStatus,
)

NOW = dt.datetime(2025, 1, 6, 1, 0, tzinfo=dt.UTC)
BUDGET = 1_200_000_000


def sub_activity(**overrides: object) -> SubActivity:
    values: dict[str, object] = {
        "government_code": "33",
        "agency_code": "1.02.0.00.0.00.01.0000",
        "fiscal_year": 2025,
        "code": "1.02.02.2.01.0001",
        "name": "Pengelolaan Pelayanan Kesehatan Ibu Hamil",
        "budget": BUDGET,
        "now": NOW,
    }
    values.update(overrides)
    return SubActivity.create(**values)  # type: ignore[arg-type]


def indicator(**overrides: object) -> Indicator:
    values: dict[str, object] = {
        "level": IndicatorLevel.SUB_ACTIVITY,
        "kind": IndicatorKind.OUTPUT,
        "name": "Jumlah ibu hamil yang mendapatkan pelayanan kesehatan",
        "unit": "orang",
        "target": "1250",
        "formula": IndicatorFormula.INCREASING,
    }
    values.update(overrides)
    return Indicator.create(**values)  # type: ignore[arg-type]


def fields(info: pytest.ExceptionInfo[InvalidArgument]) -> dict[str, str]:
    return {v.field: v.description for v in info.value.violations}


def linear(budget: int = BUDGET) -> list[tuple[str, int]]:
    return [(f"{Decimal(100 * m) / 12:.2f}", budget // 12) for m in range(1, 13)]


def test_a_sub_activity_starts_as_a_draft_at_version_1_with_checked_tags() -> None:
    s = sub_activity(tags=["Stunting", "kemiskinan", "stunting"], funding_sources=["PAD", "DAK Fisik"])
    assert (s.status, s.version, s.tags, s.funding_sources) == (
        SubActivityStatus.DRAFT,
        1,
        ["stunting", "kemiskinan"],
        ["PAD", "DAK Fisik"],
    )
    assert s.code_of(IndicatorLevel.PROGRAM) == "1.02.02"
    assert s.code_of(IndicatorLevel.ACTIVITY) == "1.02.02.2.01"


@pytest.mark.parametrize("code", ["1.02.02.2.01.1", "1.2.02.2.01.0001", "0.02.02.2.01.0001", "1.02.02.2.01.0001.5"])
def test_a_malformed_nomenclature_code_is_refused(code: str) -> None:
    with pytest.raises(InvalidArgument) as info:
        sub_activity(code=code)
    assert set(fields(info)) == {"code"}


def test_every_bad_field_of_a_sub_activity_is_named_at_once() -> None:
    with pytest.raises(InvalidArgument) as info:
        sub_activity(name="x", budget=0, fiscal_year=25, tags=["unicorns"], funding_sources=["PAD", "PAD"])
    assert set(fields(info)) == {"name", "budget.rupiah", "fiscal_year", "tags[0]", "funding_sources[1]"}


@pytest.mark.parametrize(
    ("formula", "target", "accepted"),
    [
        (IndicatorFormula.PERCENTAGE, "100", True),
        (IndicatorFormula.PERCENTAGE, "0", True),
        (IndicatorFormula.PERCENTAGE, "87.5", True),
        (IndicatorFormula.PERCENTAGE, "100.01", False),
        (IndicatorFormula.PERCENTAGE, "-1", False),
        (IndicatorFormula.INCREASING, "12", True),
        (IndicatorFormula.INCREASING, "0", False),
        (IndicatorFormula.INCREASING, "-5", False),
        (IndicatorFormula.DECREASING, "0", True),
        (IndicatorFormula.DECREASING, "14.9", True),
        (IndicatorFormula.DECREASING, "-0.1", False),
        (IndicatorFormula.INCREASING, "twelve", False),
        (IndicatorFormula.INCREASING, "NaN", False),
        (IndicatorFormula.INCREASING, "Infinity", False),
        (IndicatorFormula.INCREASING, "1.23456", False),
    ],
)
def test_indicator_targets_must_be_possible_for_their_formula(
    formula: IndicatorFormula, target: str, accepted: bool
) -> None:
    if accepted:
        assert indicator(formula=formula, target=target).target == Decimal(target)
    else:
        with pytest.raises(InvalidArgument) as info:
            indicator(formula=formula, target=target)
        assert set(fields(info)) == {"indicator.target"}


def test_integer_targets_are_accepted_and_floats_are_not() -> None:
    assert indicator(target=12).target == Decimal(12)
    with pytest.raises(InvalidArgument) as info:
        indicator(target=12.5)
    assert set(fields(info)) == {"indicator.target"}


def test_an_indicator_needs_a_name_and_a_unit() -> None:
    with pytest.raises(InvalidArgument) as info:
        indicator(name=" ", unit="")
    assert set(fields(info)) == {"indicator.name", "indicator.unit"}


def test_the_same_indicator_twice_is_refused_and_changes_bump_the_version() -> None:
    s = sub_activity()
    s.add_indicator(indicator(), expected_version=1, now=NOW)
    assert s.version == 2
    with pytest.raises(InvalidArgument):
        s.add_indicator(indicator(target="9"), expected_version=None, now=NOW)
    with pytest.raises(Conflict):
        s.add_indicator(indicator(name="Other"), expected_version=1, now=NOW)


def locate(
    code: str, village: str = "", lat: str | None = None, lon: str | None = None, within: str = "33"
) -> list[FieldViolation]:
    violations: list[FieldViolation] = []
    Location.create(code, village, lat, lon, within=within, path="locations[0]", violations=violations)
    return violations


def test_locations_check_codes_villages_and_indonesias_bounds() -> None:
    assert locate("33.74", "33.74.01.1001", "-6.9932", "110.4203") == []
    assert locate("33", "33.74.01.1001") == []
    assert [v.field for v in locate("33.74", "33.74.1.1001")] == ["locations[0].village_code"]
    assert [v.field for v in locate("33.74", "33.01.01.2001")] == ["locations[0].village_code"]
    assert [v.field for v in locate("3374")] == ["locations[0].government_code"]
    assert [v.field for v in locate("34.01")] == ["locations[0].government_code"]
    assert [v.field for v in locate("33.01", within="33.74")] == ["locations[0].government_code"]
    assert [v.field for v in locate("33.74", lat="51.5", lon="-0.12")] == [
        "locations[0].latitude",
        "locations[0].longitude",
    ]
    assert [v.field for v in locate("33.74", lat="-6.99")] == ["locations[0]"]
    assert [v.field for v in locate("33.74", lat="south", lon="110")] == ["locations[0].latitude"]


def test_a_valid_f1_gives_twelve_s_curve_points() -> None:
    plan = MonthlyPlan.create(linear(), budget=BUDGET)
    curve = plan.s_curve()
    assert len(curve) == 12
    assert curve[5].cumulative_disbursement == BUDGET // 2
    assert curve[5].financial_percent == Decimal("50.00")
    assert curve[-1].physical_percent == Decimal("100.00")
    assert curve[-1].cumulative_disbursement == BUDGET


def test_f1_going_backwards_is_refused_naming_the_month() -> None:
    months = linear()
    months[4] = ("20", months[4][1])  # May at 20 % after April at 33.33 %
    with pytest.raises(InvalidArgument) as info:
        MonthlyPlan.create(months, budget=BUDGET)
    assert set(fields(info)) == {"months[4].physical_percent"}
    assert "goes back" in fields(info)["months[4].physical_percent"]


def test_f1_not_reaching_100_percent_is_refused() -> None:
    months = linear()
    months[11] = ("99.5", months[11][1])
    with pytest.raises(InvalidArgument) as info:
        MonthlyPlan.create(months, budget=BUDGET)
    assert set(fields(info)) == {"months[11].physical_percent"}


def test_f1_money_not_adding_up_to_the_budget_is_refused() -> None:
    months = linear()
    months[6] = (months[6][0], months[6][1] + 1)
    with pytest.raises(InvalidArgument) as info:
        MonthlyPlan.create(months, budget=BUDGET)
    assert set(fields(info)) == {"months"}
    assert "Rp 1,200,000,001" in fields(info)["months"]


def test_f1_field_errors_are_named_per_month() -> None:
    months = linear()
    months[0] = ("8.333", months[0][1])
    months[1] = ("abc", months[1][1])
    months[2] = ("101", -5)
    with pytest.raises(InvalidArgument) as info:
        MonthlyPlan.create(months, budget=BUDGET)
    assert set(fields(info)) == {
        "months[0].physical_percent",
        "months[1].physical_percent",
        "months[2].physical_percent",
        "months[2].disbursement",
    }
    with pytest.raises(InvalidArgument) as short:
        MonthlyPlan.create(months[:11], budget=BUDGET)
    assert set(fields(short)) == {"months"}


def test_marking_planned_needs_an_output_indicator_of_its_own_and_an_f1() -> None:
    s = sub_activity()
    s.add_indicator(indicator(kind=IndicatorKind.OUTCOME, name="Angka kematian ibu"), expected_version=None, now=NOW)
    s.add_indicator(indicator(level=IndicatorLevel.PROGRAM, name="Cakupan"), expected_version=None, now=NOW)
    with pytest.raises(FailedPrecondition, match="output indicator at sub-activity level and a monthly plan"):
        s.mark_planned(expected_version=None, now=NOW)
    s.add_indicator(indicator(), expected_version=None, now=NOW)
    with pytest.raises(FailedPrecondition, match="monthly plan"):
        s.mark_planned(expected_version=None, now=NOW)
    s.set_monthly_plan(MonthlyPlan.create(linear(), budget=BUDGET), expected_version=s.version, now=NOW)
    s.mark_planned(expected_version=None, now=NOW)
    assert s.status == SubActivityStatus.PLANNED
    assert [type(e) for e in s.events] == [SubActivityPlanned]
    with pytest.raises(FailedPrecondition, match="only a draft can change"):
        s.add_indicator(indicator(name="Late"), expected_version=None, now=NOW)


@pytest.mark.parametrize("shape", list(CurveShape))
@pytest.mark.parametrize("budget", [1, 11, 999_999_999_999, 1_234_567_891])
def test_default_curves_are_valid_f1s_for_any_budget(shape: CurveShape, budget: int) -> None:
    plan = suggest_monthly_plan(shape, budget)
    assert sum(m.disbursement for m in plan.months) == budget
    assert all(m.disbursement >= 0 for m in plan.months)
    assert plan.months[-1].physical_percent == 100


def test_default_curve_shapes() -> None:
    construction = [p / 100 for p in CURVES[CurveShape.CONSTRUCTION]]
    goods = [p / 100 for p in CURVES[CurveShape.GOODS]]
    services = suggest_monthly_plan(CurveShape.SERVICES, 1_200_000)
    # Construction: nothing while tendering, a slow start, the steepest months mid-year.
    steps = [b - a for a, b in zip([0.0, *construction], construction, strict=False)]
    assert construction[:3] == [0, 0, 0] and construction[3] < 5
    assert steps.index(max(steps)) in range(6, 10)
    # Goods: half delivered by April, all by August.
    assert goods[3] >= 50 and goods[7] == 100
    # Services: linear — every month the same share.
    assert [str(m.physical_percent) for m in services.months[:3]] == ["8.33", "16.67", "25.00"]
    assert all(abs(m.disbursement - 100_000) <= 120 for m in services.months)
