"""The daily anchor of the audit chains (RELIABILITY §B.4): what the combined head WAS at each WIB midnight.

A chain alone does not stop someone who can rewrite every row and recompute every hash; a
record of the combined head at the end of each WIB day, published and kept outside the
database, does. The head as of a day is each plan's last audit entry with `at` before the end
of that day (WIB), combined as in `open_data.combined_head`.

Days are anchored once each, after they end: the first day is the WIB day of the government's
first audit entry; missed days (the service was down) are caught up, oldest first.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from grms_budgeting.domain.audit import AuditEntry
from grms_budgeting.domain.open_data import PlanHead, combined_head

__all__ = ["WIB", "AuditAnchor", "anchor_of", "days_due", "end_of_day", "heads_as_of", "wib_day"]

WIB = dt.timezone(dt.timedelta(hours=7), "WIB")


@dataclass(frozen=True)
class AuditAnchor:
    """The combined audit head of one government at the end of one WIB day."""

    government_code: str
    day: dt.date
    combined_hash: str
    plan_count: int
    entry_count: int
    computed_at: dt.datetime


def wib_day(at: dt.datetime) -> dt.date:
    """The WIB calendar day of an aware instant."""
    if at.tzinfo is None:
        raise ValueError("wib_day needs an aware datetime")
    return at.astimezone(WIB).date()


def end_of_day(day: dt.date) -> dt.datetime:
    """The WIB midnight that ends `day`, in UTC: entries strictly before it belong to the day's head."""
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), WIB).astimezone(dt.UTC)


def days_due(*, first_activity: dt.datetime | None, last_anchored: dt.date | None, now: dt.datetime) -> list[dt.date]:
    """The days to anchor at `now`, oldest first: every ended WIB day after the last anchor.

    Nothing before the first audit entry's day; today is never due (it has not ended).
    """
    if first_activity is None:
        return []
    start = wib_day(first_activity) if last_anchored is None else last_anchored + dt.timedelta(days=1)
    today = wib_day(now)
    return [start + dt.timedelta(days=n) for n in range((today - start).days)]


def heads_as_of(entries: Iterable[AuditEntry], cutoff: dt.datetime) -> list[PlanHead]:
    """Each plan's last entry with `at` < `cutoff` (entries of any plans, any order), as heads by plan id.

    `agency_code` and `fiscal_year` are not part of the combined hash; the head keeps the agency
    of its entry and fiscal year 0.
    """
    last: dict[str, AuditEntry] = {}
    for e in entries:
        if e.at < cutoff and (e.plan_id not in last or e.seq > last[e.plan_id].seq):
            last[e.plan_id] = e
    return [PlanHead(e.plan_id, e.agency_code, 0, e.seq, e.hash) for _, e in sorted(last.items())]


def anchor_of(government_code: str, day: dt.date, heads: list[PlanHead], *, now: dt.datetime) -> AuditAnchor:
    """The anchor of `day` from the heads as of its end (seqs are 1-based and gapless, so they sum to the entries)."""
    return AuditAnchor(
        government_code, day, combined_head(heads), len(heads), sum(h.seq for h in heads), now.astimezone(dt.UTC)
    )
