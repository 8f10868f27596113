"""Sub-activities (sub kegiatan) as planned: indicators, locations, and the monthly plan (form F1)."""

from __future__ import annotations

import datetime as dt
import enum
import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from grms_kit.errors import Conflict, FailedPrecondition, FieldViolation, InvalidArgument

__all__ = [
    "MONTHS",
    "THEMATIC_TAGS",
    "DomainEvent",
    "Indicator",
    "IndicatorFormula",
    "IndicatorKind",
    "IndicatorLevel",
    "Location",
    "MonthPlan",
    "MonthlyPlan",
    "SCurvePoint",
    "SubActivity",
    "SubActivityPlanned",
    "SubActivityStatus",
    "check_month_range",
    "parse_decimal",
]

MONTHS = 12
HUNDRED = Decimal(100)
CENT = Decimal("0.01")

# U.BB.PP.K.KK.SSSS (Permendagri 90/2019, Kepmendagri 050-5889/2021): urusan, bidang urusan,
# program, kegiatan (type digit + number), sub kegiatan.
_SUB_ACTIVITY_CODE = re.compile(r"^[1-9]\.\d{2}\.\d{2}\.\d\.\d{2}\.\d{4}$")
_GOV_CODE = re.compile(r"^\d{2}(\.\d{2})?$")
# Kemendagri village code: province.regency.district.village, e.g. 33.74.01.1001.
_VILLAGE_CODE = re.compile(r"^\d{2}\.\d{2}\.\d{2}\.\d{4}$")
_AGENCY_CODE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z.\-]{0,39}$")

# Indonesia's extent in decimal degrees, a little generous at the edges
# (Sabang ~95.3°E, Merauke ~141.0°E, Miangas ~5.6°N, Rote ~11.0°S).
LATITUDE_RANGE = (Decimal("-11.5"), Decimal("6.5"))
LONGITUDE_RANGE = (Decimal("94.5"), Decimal("141.5"))

# A controlled vocabulary, so cross-cutting reports ("all stunting spending") add up; a
# free-text tag would split one theme into spellings. New themes are added here.
THEMATIC_TAGS = frozenset(
    {
        "stunting",
        "kemiskinan",
        "kemiskinan_ekstrem",
        "inflasi",
        "pengangguran",
        "investasi",
        "gender",
        "disabilitas",
        "perubahan_iklim",
        "kebencanaan",
        "pendidikan",
        "kesehatan",
        "infrastruktur",
        "spbe",
    }
)


class SubActivityStatus(enum.StrEnum):
    """Where a sub-activity stands in planning."""

    DRAFT = "draft"
    PLANNED = "planned"


class IndicatorLevel(enum.StrEnum):
    """Which nomenclature level an indicator measures."""

    PROGRAM = "program"
    ACTIVITY = "activity"
    SUB_ACTIVITY = "sub_activity"


class IndicatorKind(enum.StrEnum):
    """Output (what is produced) or outcome (what changes)."""

    OUTPUT = "output"
    OUTCOME = "outcome"


class IndicatorFormula(enum.StrEnum):
    """How achievement is computed: tren positif, tren negatif, persentase."""

    INCREASING = "increasing"
    DECREASING = "decreasing"
    PERCENTAGE = "percentage"


def parse_decimal(value: str | int | Decimal, path: str, violations: list[FieldViolation]) -> Decimal | None:
    """A finite Decimal from a string or integer, or None with a violation at `path`."""
    if isinstance(value, float):
        violations.append(FieldViolation(path, "must be a decimal string, not a float"))
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        violations.append(FieldViolation(path, f'must be a decimal number like "12.5", not {value!r}'))
        return None
    if not number.is_finite():
        violations.append(FieldViolation(path, "must be a finite number"))
        return None
    return number


def _text(value: str, path: str, violations: list[FieldViolation], *, low: int = 2, high: int = 300) -> str:
    value = " ".join(value.split())
    if not low <= len(value) <= high:
        violations.append(FieldViolation(path, f"must be {low} to {high} characters"))
    return value


def check_month_range(start: int, end: int, path: str, violations: list[FieldViolation]) -> None:
    """Append a violation unless 1 <= start <= end <= 12."""
    if not (1 <= start <= MONTHS and 1 <= end <= MONTHS):
        violations.append(FieldViolation(path, "months must be 1 to 12"))
    elif start > end:
        violations.append(FieldViolation(path, f"starts in month {start}, after its end month {end}"))


@dataclass(frozen=True)
class Indicator:
    """A performance indicator (indikator kinerja) with its target (target) and unit (satuan)."""

    level: IndicatorLevel
    kind: IndicatorKind
    name: str
    unit: str
    target: Decimal
    formula: IndicatorFormula

    @classmethod
    def create(
        cls,
        *,
        level: IndicatorLevel,
        kind: IndicatorKind,
        name: str,
        unit: str,
        target: str | int | Decimal,
        formula: IndicatorFormula,
        path: str = "indicator",
    ) -> Indicator:
        """Validate an indicator; an impossible target for its formula is refused."""
        violations: list[FieldViolation] = []
        name = _text(name, f"{path}.name", violations)
        unit = _text(unit, f"{path}.unit", violations, low=1, high=50)
        number = parse_decimal(target, f"{path}.target", violations)
        if number is not None:
            if number.as_tuple().exponent < -4:  # type: ignore[operator]
                violations.append(FieldViolation(f"{path}.target", "has more than 4 decimal places"))
            elif formula == IndicatorFormula.PERCENTAGE and not 0 <= number <= HUNDRED:
                violations.append(FieldViolation(f"{path}.target", f"a percentage must be 0 to 100, not {number}"))
            elif formula == IndicatorFormula.INCREASING and number <= 0:
                violations.append(
                    FieldViolation(f"{path}.target", f"must be positive when higher is better, not {number}")
                )
            elif formula == IndicatorFormula.DECREASING and number < 0:
                violations.append(FieldViolation(f"{path}.target", f"must not be negative, not {number}"))
        if violations:
            raise InvalidArgument(violations)
        assert number is not None
        return cls(level=level, kind=kind, name=name, unit=unit, target=number.normalize(), formula=formula)


@dataclass(frozen=True)
class Location:
    """Where the work happens: a government of the replica, optionally a village and a point."""

    government_code: str
    village_code: str = ""
    latitude: Decimal | None = None
    longitude: Decimal | None = None

    @classmethod
    def create(
        cls,
        government_code: str,
        village_code: str = "",
        latitude: str | Decimal | None = None,
        longitude: str | Decimal | None = None,
        *,
        within: str,
        path: str,
        violations: list[FieldViolation],
    ) -> Location:
        """Validate a location of a sub-activity of government `within`; violations are appended."""
        code = government_code.strip()
        village = village_code.strip()
        if not _GOV_CODE.match(code):
            violations.append(FieldViolation(f"{path}.government_code", 'must be a region code like "33.74"'))
        elif not (code == within or code.startswith(within + ".")):
            violations.append(FieldViolation(f"{path}.government_code", f"is outside government {within}"))
        if village:
            if not _VILLAGE_CODE.match(village):
                violations.append(FieldViolation(f"{path}.village_code", 'must be a village code like "33.74.01.1001"'))
            elif "." in code and not village.startswith(code + "."):
                violations.append(FieldViolation(f"{path}.village_code", f"is not a village of {code}"))
            elif "." not in code and not village.startswith(code + "."):
                violations.append(FieldViolation(f"{path}.village_code", f"is not a village of province {code}"))
        lat = lon = None
        if (latitude in (None, "")) != (longitude in (None, "")):
            violations.append(FieldViolation(path, "latitude and longitude come together"))
        elif latitude not in (None, ""):
            assert latitude is not None and longitude is not None
            lat = parse_decimal(latitude, f"{path}.latitude", violations)
            lon = parse_decimal(longitude, f"{path}.longitude", violations)
            if lat is not None and not LATITUDE_RANGE[0] <= lat <= LATITUDE_RANGE[1]:
                violations.append(FieldViolation(f"{path}.latitude", f"{lat} is outside Indonesia"))
            if lon is not None and not LONGITUDE_RANGE[0] <= lon <= LONGITUDE_RANGE[1]:
                violations.append(FieldViolation(f"{path}.longitude", f"{lon} is outside Indonesia"))
        return cls(government_code=code, village_code=village, latitude=lat, longitude=lon)


@dataclass(frozen=True)
class MonthPlan:
    """One month of form F1: cumulative physical % at month end and that month's disbursement."""

    month: int
    physical_percent: Decimal
    disbursement: int


@dataclass(frozen=True)
class SCurvePoint:
    """One point of the planned S-curve: cumulative physical %, money and money as % of budget."""

    month: int
    physical_percent: Decimal
    cumulative_disbursement: int
    financial_percent: Decimal


@dataclass(frozen=True)
class MonthlyPlan:
    """The monthly plan (form F1, rencana bulanan) of a sub-activity: twelve validated months."""

    months: tuple[MonthPlan, ...]

    @classmethod
    def create(cls, months: Sequence[tuple[str | int | Decimal, int]], *, budget: int) -> MonthlyPlan:
        """Validate twelve (cumulative physical %, disbursement) pairs against `budget`.

        The physical percentage never goes back and reaches 100 in December; the twelve
        disbursements are whole rupiah, not negative, and add up to the budget exactly.
        """
        violations: list[FieldViolation] = []
        if len(months) != MONTHS:
            raise InvalidArgument.field("months", f"must list all 12 months, not {len(months)}")
        checked: list[MonthPlan] = []
        previous = Decimal(0)
        for i, (percent, money) in enumerate(months):
            path = f"months[{i}]"
            number = parse_decimal(percent, f"{path}.physical_percent", violations)
            ok = False
            if number is not None:
                if number.as_tuple().exponent < -2:  # type: ignore[operator]
                    violations.append(FieldViolation(f"{path}.physical_percent", "has more than 2 decimal places"))
                elif not 0 <= number <= HUNDRED:
                    violations.append(FieldViolation(f"{path}.physical_percent", "must be 0 to 100"))
                elif number < previous:
                    violations.append(
                        FieldViolation(
                            f"{path}.physical_percent",
                            f"goes back from {previous} to {number}; the plan is cumulative",
                        )
                    )
                else:
                    ok = True
            if not isinstance(money, int) or isinstance(money, bool) or money < 0:
                violations.append(FieldViolation(f"{path}.disbursement", "must be whole rupiah, not negative"))
            value = (number if number is not None else Decimal(0)).quantize(CENT)
            checked.append(MonthPlan(month=i + 1, physical_percent=value, disbursement=int(money)))
            if ok:
                previous = value
        last = checked[-1].physical_percent
        if not any(v.field.startswith(f"months[{MONTHS - 1}]") for v in violations) and last != HUNDRED:
            violations.append(
                FieldViolation(f"months[{MONTHS - 1}].physical_percent", f"must reach 100 in December, not {last}")
            )
        total = sum(m.disbursement for m in checked)
        if not any(v.field.endswith(".disbursement") for v in violations) and total != budget:
            violations.append(
                FieldViolation("months", f"disbursements add up to Rp {total:,}, not the budget of Rp {budget:,}")
            )
        if violations:
            raise InvalidArgument(violations)
        return cls(months=tuple(checked))

    def s_curve(self) -> list[SCurvePoint]:
        """The planned S-curve: twelve cumulative points."""
        budget = sum(m.disbursement for m in self.months)
        points: list[SCurvePoint] = []
        running = 0
        for m in self.months:
            running += m.disbursement
            financial = (Decimal(running) * HUNDRED / budget).quantize(CENT, ROUND_HALF_UP) if budget else Decimal(0)
            points.append(
                SCurvePoint(
                    month=m.month,
                    physical_percent=m.physical_percent,
                    cumulative_disbursement=running,
                    financial_percent=financial,
                )
            )
        return points


@dataclass
class DomainEvent:
    """Something that happened to an aggregate, raised by the domain, published after commit."""


@dataclass
class SubActivityPlanned(DomainEvent):
    sub_activity: SubActivity


@dataclass
class SubActivity:
    """A sub kegiatan of one agency in one fiscal year: the aggregate of planning.

    It guards its own budget: the monthly plan must spend exactly the budget, and the
    procurement packages planned under it (`packaged`) never exceed it.
    """

    id: str
    government_code: str
    agency_code: str
    fiscal_year: int
    code: str
    name: str
    budget: int
    status: SubActivityStatus
    indicators: list[Indicator]
    locations: list[Location]
    funding_sources: list[str]
    tags: list[str]
    monthly_plan: MonthlyPlan | None
    packaged: int
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime
    # The amount TAPD approved for this sub-activity (DPA), copied from budgeting; None until then.
    approved_budget: int | None = None
    events: list[DomainEvent] = field(default_factory=list, repr=False, compare=False)

    @classmethod
    def create(
        cls,
        *,
        government_code: str,
        agency_code: str,
        fiscal_year: int,
        code: str,
        name: str,
        budget: int,
        locations: Iterable[Location] = (),
        funding_sources: Iterable[str] = (),
        tags: Iterable[str] = (),
        now: dt.datetime,
    ) -> SubActivity:
        """Validate and create a draft sub-activity at version 1 (locations are checked by the caller)."""
        violations: list[FieldViolation] = []
        code = code.strip()
        if not _SUB_ACTIVITY_CODE.match(code):
            violations.append(FieldViolation("code", 'must be a sub-activity code like "1.02.02.2.01.0001"'))
        if not _AGENCY_CODE.match(agency_code.strip()):
            violations.append(FieldViolation("agency_code", "must be 1 to 40 letters, digits, dots or dashes"))
        if not 2000 <= fiscal_year <= 2100:
            violations.append(FieldViolation("fiscal_year", "must be a year like 2025"))
        name = _text(name, "name", violations)
        if budget <= 0:
            violations.append(FieldViolation("budget.rupiah", "must be a positive whole rupiah amount"))
        sources: list[str] = []
        for i, source in enumerate(funding_sources):
            text = _text(source, f"funding_sources[{i}]", violations, low=2, high=100)
            if text in sources:
                violations.append(FieldViolation(f"funding_sources[{i}]", "is listed twice"))
            sources.append(text)
        checked_tags: list[str] = []
        for i, tag in enumerate(tags):
            tag = tag.strip().lower()
            if tag not in THEMATIC_TAGS:
                violations.append(
                    FieldViolation(f"tags[{i}]", f"unknown theme {tag!r}; known: {', '.join(sorted(THEMATIC_TAGS))}")
                )
            elif tag not in checked_tags:
                checked_tags.append(tag)
        if violations:
            raise InvalidArgument(violations)
        return cls(
            id=str(uuid.uuid4()),
            government_code=government_code,
            agency_code=agency_code.strip(),
            fiscal_year=fiscal_year,
            code=code,
            name=name,
            budget=budget,
            status=SubActivityStatus.DRAFT,
            indicators=[],
            locations=list(locations),
            funding_sources=sources,
            tags=checked_tags,
            monthly_plan=None,
            packaged=0,
            version=1,
            created_at=now,
            updated_at=now,
        )

    @property
    def effective_budget(self) -> int:
        """The approved amount once budgeting approved one, the manually set budget otherwise."""
        return self.approved_budget if self.approved_budget is not None else self.budget

    def code_of(self, level: IndicatorLevel) -> str:
        """The nomenclature code of `level` above (or at) this sub-activity."""
        parts = self.code.split(".")
        if level == IndicatorLevel.PROGRAM:
            return ".".join(parts[:3])
        if level == IndicatorLevel.ACTIVITY:
            return ".".join(parts[:5])
        return self.code

    def _check(self, expected_version: int | None, *, draft: bool = True) -> None:
        if expected_version is not None and expected_version != self.version:
            raise Conflict(f"sub-activity {self.code} is at version {self.version}, not {expected_version}")
        if draft and self.status != SubActivityStatus.DRAFT:
            raise FailedPrecondition(f"sub-activity {self.code} is {self.status.value}; only a draft can change")

    def _touch(self, now: dt.datetime) -> None:
        self.version += 1
        self.updated_at = now

    def add_indicator(self, indicator: Indicator, *, expected_version: int | None, now: dt.datetime) -> None:
        """Add a performance indicator to a draft; the same level and name twice is refused."""
        self._check(expected_version)
        if any(i.level == indicator.level and i.name.lower() == indicator.name.lower() for i in self.indicators):
            raise InvalidArgument.field("indicator.name", f"{indicator.level.value} already has {indicator.name!r}")
        if len(self.indicators) >= 50:
            raise InvalidArgument.field("indicator", "a sub-activity has at most 50 indicators")
        self.indicators.append(indicator)
        self._touch(now)

    def set_monthly_plan(self, plan: MonthlyPlan, *, expected_version: int | None, now: dt.datetime) -> None:
        """Replace the monthly plan (F1) of a draft; it must already match the budget."""
        self._check(expected_version)
        budget = self.effective_budget
        if sum(m.disbursement for m in plan.months) != budget:
            raise InvalidArgument.field("months", f"disbursements must add up to the budget of Rp {budget:,}")
        self.monthly_plan = plan
        self._touch(now)

    def mark_planned(self, *, expected_version: int | None, now: dt.datetime) -> None:
        """Declare the sub-activity ready; it needs an output indicator of its own and a monthly plan."""
        self._check(expected_version)
        missing = []
        if not any(i.kind == IndicatorKind.OUTPUT and i.level == IndicatorLevel.SUB_ACTIVITY for i in self.indicators):
            missing.append("an output indicator at sub-activity level")
        if self.monthly_plan is None:
            missing.append("a monthly plan (F1)")
        elif sum(m.disbursement for m in self.monthly_plan.months) != self.effective_budget:
            missing.append(f"a monthly plan (F1) adding up to the budget of Rp {self.effective_budget:,}")
        if missing:
            needs = " and ".join(missing)
            raise FailedPrecondition(f"sub-activity {self.code} cannot be marked planned without {needs}")
        self.status = SubActivityStatus.PLANNED
        self._touch(now)
        self.events.append(SubActivityPlanned(self))

    def reopen(self, reason: str, *, expected_version: int | None, now: dt.datetime) -> None:
        """Return a planned sub-activity to draft so it can be revised; its packages stay counted.

        Marking it planned again publishes SubActivityPlanned with the revised content. Whether
        the agency-year may be edited at all (the stage book) is checked by the caller.
        """
        self._check(expected_version, draft=False)
        if self.status != SubActivityStatus.PLANNED:
            raise FailedPrecondition(f"sub-activity {self.code} is {self.status.value}; only a planned one reopens")
        reason = reason.strip()
        if not 5 <= len(reason) <= 500:
            raise InvalidArgument.field("reason", "say why it is revised, in 5 to 500 characters")
        self.status = SubActivityStatus.DRAFT
        self._touch(now)

    def reserve(self, package_name: str, value: int, *, now: dt.datetime) -> None:
        """Count a new procurement package of `value` against the budget, or refuse naming it."""
        if self.status != SubActivityStatus.PLANNED:
            raise FailedPrecondition(
                f"sub-activity {self.code} is {self.status.value}; procurement is planned after it is planned"
            )
        budget = self.effective_budget
        if self.packaged + value > budget:
            raise FailedPrecondition(
                f"package {package_name!r} of Rp {value:,} would bring the packages of sub-activity {self.code} "
                f"to Rp {self.packaged + value:,}, above its budget of Rp {budget:,} "
                f"(Rp {budget - self.packaged:,} left)"
            )
        self.packaged += value
        self._touch(now)
