"""What one complaint adds to the governor's board, per agency and WIB day: the rules of the board's read model.

The board's figures are sums over small rows (`complaint_board_day`: one per government,
agency and WIB day) kept in the same transaction as every change of a complaint. A change
writes the difference between the complaint's contribution after and before it, so any
change — a response, a re-route, a merge, a reopening — keeps the sums exact without
special cases:

* a complaint counts for the agency handling it now (re-routing moves its whole record:
  the board answers "who handles it and how long", and the agency that has it answers for
  its waiting time too);
* a merged duplicate contributes nothing (it is counted once, through its primary);
* only the deadlines that measure agencies count (`SLA_KINDS`; auto-close waits on the
  complainant), once they are decided: met, cancelled, or marked breached by the SLA
  scheduler. A deadline running past its due time that no scan has marked yet is missed by
  the clock alone, without a write: the board counts those few live;
* the complaints open now count under day None (`complaint_board_open`): open, and overdue
  when a marked-breached deadline still runs (the unmarked ones, again, live).

First-response times go into `BUCKETS` (a histogram): the board finds the bucket of the
median and of the p90 from the sums, then reads the exact minutes of that one bucket, so
its percentiles are exact nearest-rank values, not estimates.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from grms_complaints.domain.model import Complaint, Status
from grms_complaints.domain.sla import JAKARTA, SLA_KINDS, DeadlineKind

__all__ = [
    "BUCKETS",
    "COUNTS",
    "MEASURES",
    "OPEN_MEASURES",
    "OPEN_STATUSES",
    "BoardDeadline",
    "BoardFacts",
    "Key",
    "bucket_measure",
    "bucket_of",
    "contribution",
    "difference",
    "facts_of",
    "nearest_rank",
    "percentile_target",
    "wib_day",
]

#: Lower bounds (minutes) of the first-response buckets; the last one is open-ended. Narrow
#: where answers usually fall (the 1×24-hour target), wide where few do.
BUCKETS: tuple[int, ...] = (
    0, 30, 60, 90, 120, 180, 240, 300, 360, 480, 600, 720, 840, 960, 1080, 1200,
    1320, 1440, 1560, 1680, 1800, 2160, 2520, 2880, 3600, 4320, 5760, 7200, 10080, 14400, 20160, 43200,
)  # fmt: skip
#: The plain counters of a day row (see `contribution` for what each counts).
COUNTS: tuple[str, ...] = ("received", "responded", "sla_decided", "sla_met", "answered", "breached")


def bucket_measure(index: int) -> str:
    """The column name of first-response bucket `index`."""
    return f"fr_{index:02d}"


#: Every measure of a day row, counters then buckets.
MEASURES: tuple[str, ...] = COUNTS + tuple(bucket_measure(i) for i in range(len(BUCKETS)))
#: The measures of the open-now row of an agency (day None).
OPEN_MEASURES: tuple[str, ...] = ("open", "overdue")


def bucket_of(minutes: int) -> int:
    """The index of the bucket holding `minutes`."""
    return max(0, bisect.bisect_right(BUCKETS, minutes) - 1)


def wib_day(at: dt.datetime) -> dt.date:
    """The calendar day in Asia/Jakarta of an aware timestamp."""
    return at.astimezone(JAKARTA).date()


@dataclass(frozen=True)
class BoardDeadline:
    """The parts of a deadline the board looks at."""

    kind: str
    due_at: dt.datetime
    met_at: dt.datetime | None
    cancelled_at: dt.datetime | None
    breached_at: dt.datetime | None = None

    @property
    def marked_breached(self) -> bool:
        """Still running, and a scan marked it breached after its due time."""
        running = self.met_at is None and self.cancelled_at is None
        return running and self.breached_at is not None and self.due_at < self.breached_at


@dataclass(frozen=True)
class BoardFacts:
    """The parts of a complaint the board looks at (also built from bare rows by the back-fill)."""

    agency_code: str
    received_at: dt.datetime
    first_response_minutes: int | None
    merged: bool
    deadlines: tuple[BoardDeadline, ...]
    is_open: bool = False


def facts_of(c: Complaint) -> BoardFacts:
    """The board's view of a complaint."""
    return BoardFacts(
        agency_code=c.agency_code,
        received_at=c.received_at,
        first_response_minutes=c.first_response_minutes,
        merged=bool(c.merged_into),
        deadlines=tuple(
            BoardDeadline(d.kind.value, d.due_at, d.met_at, d.cancelled_at, d.breached_at) for d in c.deadlines
        ),
        is_open=c.status in OPEN_STATUSES,
    )


#: Statuses in which a complaint still waits for someone (everything but the end states).
OPEN_STATUSES = frozenset(s for s in Status if s not in (Status.RESOLVED, Status.CLOSED, Status.REJECTED))
#: (agency, WIB day or None for "open now", measure).
Key = tuple[str, dt.date | None, str]
_SLA = frozenset(k.value for k in SLA_KINDS)


def contribution(f: BoardFacts) -> dict[Key, int]:
    """(agency, WIB day, measure) → count that this complaint adds to the board.

    By the day of receipt: `received`; `responded` and one first-response bucket once it
    was answered; `sla_decided` and `sla_met` for its decided SLA deadlines (decided: met,
    cancelled after it was due, or marked breached; met: on time). By the day it happened:
    `answered` (a first-response deadline met that day) and `breached` (a decided SLA
    deadline due that day and not met by then). Under day None: `open`, and `overdue` when
    open with a marked-breached deadline running.
    """
    out: dict[Key, int] = {}
    if f.merged:
        return out

    def add(day: dt.date | None, measure: str) -> None:
        key = (f.agency_code, day, measure)
        out[key] = out.get(key, 0) + 1

    received = wib_day(f.received_at)
    add(received, "received")
    if f.first_response_minutes is not None:
        add(received, "responded")
        add(received, bucket_measure(bucket_of(f.first_response_minutes)))
    for d in f.deadlines:
        if d.kind == DeadlineKind.FIRST_RESPONSE.value and d.met_at is not None:
            add(wib_day(d.met_at), "answered")
        if d.kind not in _SLA:
            continue
        if d.marked_breached:
            add(received, "sla_decided")
            add(wib_day(d.due_at), "breached")
            continue
        if d.met_at is None and d.cancelled_at is None:
            continue
        if d.met_at is not None or d.due_at < d.cancelled_at:  # type: ignore[operator]
            add(received, "sla_decided")
        if d.met_at is not None and d.met_at <= d.due_at:
            add(received, "sla_met")
        met_late = d.met_at is None or d.met_at > d.due_at
        cancelled_late = d.cancelled_at is None or d.cancelled_at > d.due_at
        if met_late and cancelled_late:
            add(wib_day(d.due_at), "breached")
    if f.is_open:
        out[(f.agency_code, None, "open")] = 1
        if any(d.kind in _SLA and d.marked_breached for d in f.deadlines):
            out[(f.agency_code, None, "overdue")] = 1
    return out


def difference(after: Mapping[Key, int], before: Mapping[Key, int]) -> dict[Key, int]:
    """after − before, without the zeros (negative counts stay: they take away)."""
    out = dict(after)
    for key, n in before.items():
        out[key] = out.get(key, 0) - n
    return {k: n for k, n in out.items() if n}


def percentile_target(n: int, numerator: int, denominator: int) -> int:
    """The 1-based nearest rank of the numerator/denominator quantile of n values: ceil(n × q)."""
    return max(1, -(-n * numerator // denominator))


def nearest_rank(histogram: Iterable[int], rank: int) -> tuple[int, int]:
    """The bucket index holding the `rank`-th smallest value, and the rank within that bucket."""
    seen = 0
    index = -1
    for index, n in enumerate(histogram):
        if seen + n >= rank:
            return index, rank - seen
        seen += n
    raise ValueError(f"rank {rank} is beyond the {seen} values of the histogram (last bucket {index})")
