"""The SLA engine: a working-day calendar in WIB, the deadline rules, and durable deadlines.

Deadlines are values stored as rows (table `sla_deadline`) and advanced by a scheduler that
scans them; nothing here keeps a timer. `Deadline.advance(now)` is idempotent: it returns
only what has not been recorded yet (a warning once; each escalation level once), so a scan
repeated after a crash or by a second scheduler raises nothing new.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Container, Iterable, Mapping
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

__all__ = [
    "DEFAULT_AUTO_CLOSE_DAYS",
    "JAKARTA",
    "SLA_KINDS",
    "Deadline",
    "DeadlineKind",
    "EscalationTarget",
    "SlaPolicy",
    "SlaRule",
    "SlaStep",
    "WorkingCalendar",
    "minutes_between",
]

JAKARTA = ZoneInfo("Asia/Jakarta")
WARN_RATIO = 0.75


class DeadlineKind(enum.StrEnum):
    """What must happen by the deadline."""

    FIRST_RESPONSE = "first_response"  # a first public answer: 24 clock hours (LaporGub 1x24 jam)
    VERIFICATION = "verification"  # verified or rejected by the coordinator: 3 working days (LAPOR)
    FOLLOW_UP = "follow_up"  # the agency's tindak lanjut after disposisi: 5 working days (LAPOR)
    RESOLUTION = "resolution"  # resolved: 14 working days, 60 with a field check (KemenPANRB 2018)
    # Not an SLA of the agencies: a resolved complaint closes by itself when the complainant
    # neither reopens nor rates it within N working days (default 10). No warning, no escalation.
    AUTO_CLOSE = "auto_close"


#: The kinds that measure the agencies (warnings, breaches, escalation, compliance).
SLA_KINDS = frozenset(
    {DeadlineKind.FIRST_RESPONSE, DeadlineKind.VERIFICATION, DeadlineKind.FOLLOW_UP, DeadlineKind.RESOLUTION}
)
DEFAULT_AUTO_CLOSE_DAYS = 10


class EscalationTarget(enum.IntEnum):
    """The escalation ladder (teguran), one level per SLA period after a breach (DOMAIN §7.2)."""

    AGENCY_LIAISON = 1  # Admin Penghubung of the agency
    AGENCY_HEAD = 2  # Kepala OPD
    COORDINATOR = 3  # Admin Koordinator (Diskominfo / Biro)
    GOVERNOR_BOARD = 4  # the governor's complaint board (Sekda dashboard)


def minutes_between(start: dt.datetime, end: dt.datetime) -> int:
    """Whole minutes from `start` to `end` (response times are stored in minutes)."""
    return max(0, int((end - start).total_seconds() // 60))


class WorkingCalendar:
    """Working days in Asia/Jakarta: Monday to Friday, minus public holidays and cuti bersama.

    `holidays` is any container of dates (the adapters pass the `holidays` package's
    Indonesian calendar); `cuti_bersama` are the collective leave days of the joint
    ministerial decree (SKB 3 Menteri), which the national holiday list does not carry.
    """

    def __init__(self, holidays: Container[dt.date] = frozenset(), cuti_bersama: Iterable[dt.date] = ()) -> None:
        self._holidays = holidays
        self._cuti_bersama = frozenset(cuti_bersama)

    def is_working_day(self, day: dt.date) -> bool:
        """True for a weekday that is neither a public holiday nor cuti bersama."""
        return day.weekday() < 5 and day not in self._holidays and day not in self._cuti_bersama

    def add_working_days(self, start: dt.datetime, days: int) -> dt.datetime:
        """The end (next midnight WIB) of the `days`-th working day after the WIB day of `start`, in UTC.

        "Within 3 working days" counts whole days after the day of receipt, as Indonesian
        administrative deadlines do; the time of day of receipt does not matter.
        """
        if days < 1:
            raise ValueError("days must be at least 1")
        day = start.astimezone(JAKARTA).date()
        counted = 0
        while counted < days:
            day += dt.timedelta(days=1)
            if self.is_working_day(day):
                counted += 1
        end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=JAKARTA)
        return end.astimezone(dt.UTC)


@dataclass(frozen=True)
class SlaRule:
    """The deadlines of one category (defaults: DOMAIN §7.2)."""

    first_response_hours: int = 24
    verification_days: int = 3
    follow_up_days: int = 5
    resolution_days: int = 14
    field_check_resolution_days: int = 60
    requires_field_check: bool = False


@dataclass(frozen=True)
class SlaPolicy:
    """The calendar plus the rules, with per-category overrides."""

    calendar: WorkingCalendar
    default: SlaRule = field(default_factory=SlaRule)
    categories: Mapping[str, SlaRule] = field(default_factory=dict)
    #: Working days after resolution without a word from the complainant before it closes by itself.
    auto_close_days: int = DEFAULT_AUTO_CLOSE_DAYS

    def rule_for(self, category_code: str) -> SlaRule:
        """The rule of `category_code`, or the default."""
        return self.categories.get(category_code, self.default)

    def open(self, kind: DeadlineKind, category_code: str, *, start: dt.datetime, round: int = 0) -> Deadline:
        """A new deadline of `kind` running from `start`."""
        rule = self.rule_for(category_code)
        if kind is DeadlineKind.AUTO_CLOSE:
            due = self.calendar.add_working_days(start, self.auto_close_days)
            return Deadline(kind=kind, round=round, started_at=start, due_at=due, warn_at=due)
        if kind is DeadlineKind.FIRST_RESPONSE:
            due = start + dt.timedelta(hours=rule.first_response_hours)  # clock hours, not working time
        elif kind is DeadlineKind.VERIFICATION:
            due = self.calendar.add_working_days(start, rule.verification_days)
        elif kind is DeadlineKind.FOLLOW_UP:
            due = self.calendar.add_working_days(start, rule.follow_up_days)
        else:
            days = rule.field_check_resolution_days if rule.requires_field_check else rule.resolution_days
            due = self.calendar.add_working_days(start, days)
        warn = start + (due - start) * WARN_RATIO
        return Deadline(kind=kind, round=round, started_at=start, due_at=due, warn_at=warn)


@dataclass(frozen=True)
class SlaStep:
    """One thing a scan found: a warning (`level` 0) or escalation `level` reached at `at`."""

    kind: DeadlineKind
    round: int
    level: int
    at: dt.datetime
    due_at: dt.datetime

    @property
    def key(self) -> str:
        """A stable name of the step, the same however often it is computed."""
        what = "warn" if self.level == 0 else f"escalate:{self.level}"
        return f"{self.kind.value}:{self.round}:{what}"


@dataclass
class Deadline:
    """One durable SLA deadline of a complaint; `round` counts re-openings."""

    kind: DeadlineKind
    round: int
    started_at: dt.datetime
    due_at: dt.datetime
    warn_at: dt.datetime
    warned_at: dt.datetime | None = None
    breached_at: dt.datetime | None = None
    escalation_level: int = 0
    met_at: dt.datetime | None = None
    cancelled_at: dt.datetime | None = None

    @property
    def is_open(self) -> bool:
        """Neither met nor cancelled."""
        return self.met_at is None and self.cancelled_at is None

    @property
    def period(self) -> dt.timedelta:
        """The length of one escalation step: the deadline's own span, at least an hour."""
        return max(self.due_at - self.started_at, dt.timedelta(hours=1))

    @property
    def next_check_at(self) -> dt.datetime | None:
        """When a scan next has something to do for this deadline (None: never again)."""
        if not self.is_open or self.escalation_level >= max(EscalationTarget):
            return None
        if self.kind is DeadlineKind.AUTO_CLOSE:
            return self.due_at
        if self.warned_at is None and self.escalation_level == 0:
            return self.warn_at
        return self.due_at + self.period * self.escalation_level

    def advance(self, now: dt.datetime) -> list[SlaStep]:
        """Record the warning and the escalation levels due by `now`; return the new ones only."""
        steps: list[SlaStep] = []
        if not self.is_open or self.kind is DeadlineKind.AUTO_CLOSE:
            return steps
        if self.warned_at is None and now >= self.warn_at:
            self.warned_at = now
            if now < self.due_at:
                steps.append(SlaStep(self.kind, self.round, 0, self.warn_at, self.due_at))
        while self.escalation_level < max(EscalationTarget):
            level_at = self.due_at + self.period * self.escalation_level
            if now < level_at:
                break
            self.escalation_level += 1
            if self.breached_at is None:
                self.breached_at = now
            steps.append(SlaStep(self.kind, self.round, self.escalation_level, level_at, self.due_at))
        return steps

    def meet(self, now: dt.datetime) -> int:
        """Mark the deadline met at `now`; return the response time in minutes."""
        self.met_at = now
        return minutes_between(self.started_at, now)

    def cancel(self, now: dt.datetime) -> None:
        """The deadline no longer applies (the complaint was rejected or closed)."""
        self.cancelled_at = now
