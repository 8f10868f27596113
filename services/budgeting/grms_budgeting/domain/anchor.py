"""The daily anchor of the audit chains (RELIABILITY §B.4): what the combined head WAS at each WIB midnight.

A chain alone does not stop someone who can rewrite every row and recompute every hash; a
record of the combined head at the end of each WIB day, published and kept outside the
database, does. The head as of a day is each plan's last audit entry with `at` before the end
of that day (WIB), combined as in `open_data.combined_head`.

Days are anchored once each, after they end: the first day is the WIB day of the government's
first audit entry; missed days (the service was down) are caught up, oldest first.

Checking: `replay_anchors` recomputes the anchors of many days from the audit entries in one
pass (the same heads and the same `anchor_of` as the scheduler), and `check_anchors` compares
them with the stored rows and, when a citizen kept one, a saved copy of the published anchors.
A stored row that matches the recomputation proves nothing against someone who rewrote both;
a saved copy from before the rewrite does.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from grms_budgeting.domain.audit import AuditEntry
from grms_budgeting.domain.open_data import PlanHead, combined_head

__all__ = [
    "WIB",
    "AnchorCheck",
    "AuditAnchor",
    "anchor_of",
    "check_anchors",
    "days_due",
    "end_of_day",
    "heads_as_of",
    "replay_anchors",
    "wib_day",
]

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
        if e.at < cutoff:
            _advance(last, e)
    return _heads(last)


def _advance(last: dict[str, AuditEntry], e: AuditEntry) -> None:
    if e.plan_id not in last or e.seq > last[e.plan_id].seq:
        last[e.plan_id] = e


def _heads(last: dict[str, AuditEntry]) -> list[PlanHead]:
    return [PlanHead(e.plan_id, e.agency_code, 0, e.seq, e.hash) for _, e in sorted(last.items())]


def anchor_of(government_code: str, day: dt.date, heads: list[PlanHead], *, now: dt.datetime) -> AuditAnchor:
    """The anchor of `day` from the heads as of its end (seqs are 1-based and gapless, so they sum to the entries)."""
    return AuditAnchor(
        government_code, day, combined_head(heads), len(heads), sum(h.seq for h in heads), now.astimezone(dt.UTC)
    )


def replay_anchors(
    government_code: str, entries: Iterable[AuditEntry], days: Iterable[dt.date], *, now: dt.datetime
) -> dict[dt.date, AuditAnchor]:
    """The anchors of `days` recomputed from a government's audit entries, in one pass over them.

    The same as `anchor_of(…, heads_as_of(entries, end_of_day(day)))` for each day, without
    re-reading the entries per day: they are sorted by time once and swept day by day.
    """
    ordered = sorted(entries, key=lambda e: e.at)
    last: dict[str, AuditEntry] = {}
    out: dict[dt.date, AuditAnchor] = {}
    i = 0
    for day in sorted(set(days)):
        cutoff = end_of_day(day)
        while i < len(ordered) and ordered[i].at < cutoff:
            _advance(last, ordered[i])
            i += 1
        out[day] = anchor_of(government_code, day, _heads(last), now=now)
    return out


@dataclass(frozen=True)
class AnchorCheck:
    """One government and day: the recomputed anchor against the stored row and the saved copy.

    `stored`/`saved` are None when that source has no anchor of the day (`saved` also when no
    copy was given). `problems` is empty when everything present agrees.
    """

    government_code: str
    day: dt.date
    recomputed: AuditAnchor
    stored: AuditAnchor | None
    saved: AuditAnchor | None
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def _same(a: AuditAnchor, b: AuditAnchor) -> bool:
    """Equal hash and counts; `computed_at` is when, not what, and is not compared."""
    return (a.combined_hash, a.plan_count, a.entry_count) == (b.combined_hash, b.plan_count, b.entry_count)


def check_anchors(
    recomputed: Mapping[dt.date, AuditAnchor],
    stored: Iterable[AuditAnchor],
    saved: Iterable[AuditAnchor] = (),
) -> list[AnchorCheck]:
    """Compare, day by day (oldest first), the recomputed anchors with the stored rows and a saved copy.

    Every stored and every saved day must be in `recomputed`. A problem is: a stored row that
    differs from the recomputation; a saved anchor that differs from the recomputation or from
    the stored row; a saved day the database has no anchor of (a deleted row). A stored day the
    saved copy lacks is no problem: the copy may be older than the latest anchor.
    """
    by_stored = {a.day: a for a in stored}
    by_saved = {a.day: a for a in saved}
    checks: list[AnchorCheck] = []
    for day in sorted(by_stored.keys() | by_saved.keys()):
        expected = recomputed[day]
        row, copy = by_stored.get(day), by_saved.get(day)
        problems: list[str] = []
        if row is not None and not _same(row, expected):
            problems.append("stored ≠ recomputed")
        if copy is not None:
            if not _same(copy, expected):
                problems.append("saved ≠ recomputed")
            if row is None:
                problems.append("no stored anchor")
            elif not _same(copy, row):
                problems.append("saved ≠ stored")
        checks.append(AnchorCheck(expected.government_code, day, expected, row, copy, tuple(problems)))
    return checks
