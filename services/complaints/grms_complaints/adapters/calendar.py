"""The working calendar of Indonesia from the `holidays` package, plus the configured cuti bersama."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping

import holidays

from grms_complaints.domain.sla import DEFAULT_AUTO_CLOSE_DAYS, SlaPolicy, SlaRule, WorkingCalendar

__all__ = ["indonesian_calendar", "sla_policy"]


def indonesian_calendar(cuti_bersama: Iterable[dt.date] = (), *, from_year: int = 2024) -> WorkingCalendar:
    """National public holidays (expanding to any later year on demand) minus cuti bersama days."""
    national = holidays.country_holidays("ID", years=range(from_year, from_year + 4))
    return WorkingCalendar(national, cuti_bersama)


def sla_policy(
    cuti_bersama: Iterable[dt.date] = (),
    categories: Mapping[str, SlaRule] | None = None,
    default: SlaRule | None = None,
    auto_close_days: int = DEFAULT_AUTO_CLOSE_DAYS,
) -> SlaPolicy:
    """The SLA policy on the Indonesian calendar."""
    return SlaPolicy(
        calendar=indonesian_calendar(cuti_bersama),
        default=default or SlaRule(),
        categories=dict(categories or {}),
        auto_close_days=auto_close_days,
    )
