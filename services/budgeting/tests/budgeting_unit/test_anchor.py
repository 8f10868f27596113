"""The daily audit anchor: heads as of the end of a WIB day, which days are due, catch-up."""

from __future__ import annotations

import datetime as dt

from grms_budgeting.domain.anchor import WIB, anchor_of, days_due, end_of_day, heads_as_of, wib_day
from grms_budgeting.domain.audit import GENESIS_HASH, AuditRecord, chain
from grms_budgeting.domain.open_data import combined_head
from grms_kit.clock import ManualClock

UTC = dt.UTC


def _entries(plan_id: str, times: list[dt.datetime]):  # type: ignore[no-untyped-def]
    out, prev, seq = [], GENESIS_HASH, 0
    for at in times:
        (e,) = chain(
            plan_id, [AuditRecord("a", "X", "edit", None, seq)], after_seq=seq, prev_hash=prev, at=at, request_id="r"
        )
        out.append(e)
        prev, seq = e.hash, e.seq
    return out


def test_end_of_a_wib_day_is_17_00_utc_and_the_day_of_an_instant_is_its_jakarta_date() -> None:
    assert end_of_day(dt.date(2025, 3, 1)) == dt.datetime(2025, 3, 1, 17, 0, tzinfo=UTC)
    assert wib_day(dt.datetime(2025, 3, 1, 16, 59, tzinfo=UTC)) == dt.date(2025, 3, 1)
    assert wib_day(dt.datetime(2025, 3, 1, 17, 0, tzinfo=UTC)) == dt.date(2025, 3, 2)


def test_heads_as_of_take_each_plans_last_entry_before_the_days_end() -> None:
    clock = ManualClock(dt.datetime(2025, 3, 1, 10, 0, tzinfo=UTC))
    t = clock.now()
    a = _entries("plan-a", [t, t + dt.timedelta(hours=6, minutes=59), t + dt.timedelta(hours=7)])  # 3rd is on Mar 2 WIB
    b = _entries("plan-b", [t + dt.timedelta(hours=8)])  # only on Mar 2 WIB
    heads = heads_as_of(b + a[::-1], end_of_day(dt.date(2025, 3, 1)))
    assert [(h.plan_id, h.seq, h.hash) for h in heads] == [("plan-a", 2, a[1].hash)]
    anchor = anchor_of("33", dt.date(2025, 3, 1), heads, now=clock.advance(dt.timedelta(days=1)))
    assert (anchor.plan_count, anchor.entry_count) == (1, 2)
    assert anchor.combined_hash == combined_head(heads)
    later = heads_as_of(a + b, end_of_day(dt.date(2025, 3, 2)))
    assert [(h.plan_id, h.seq) for h in later] == [("plan-a", 3), ("plan-b", 1)]
    assert anchor_of("33", dt.date(2025, 3, 2), later, now=clock.now()).combined_hash != anchor.combined_hash


def test_a_rewritten_entry_changes_the_anchor_of_its_day() -> None:
    t = dt.datetime(2025, 3, 1, 1, 0, tzinfo=UTC)
    honest = _entries("p", [t, t + dt.timedelta(minutes=1)])
    forged = _entries("p", [t, t + dt.timedelta(minutes=2)])  # recomputed consistently, one field differs
    day = dt.date(2025, 3, 1)
    assert heads_as_of(honest, end_of_day(day)) != heads_as_of(forged, end_of_day(day))


def test_days_due_start_at_the_first_entry_never_include_today_and_catch_up_missed_days() -> None:
    first = dt.datetime(2025, 3, 1, 20, 0, tzinfo=UTC)  # 2 Mar 03:00 WIB
    now = dt.datetime(2025, 3, 2, 17, 0, 1, tzinfo=UTC)  # just after midnight of 3 Mar WIB
    assert days_due(first_activity=None, last_anchored=None, now=now) == []
    assert days_due(first_activity=first, last_anchored=None, now=now) == [dt.date(2025, 3, 2)]
    assert days_due(first_activity=first, last_anchored=dt.date(2025, 3, 2), now=now) == []  # once per day
    after_downtime = dt.datetime(2025, 3, 6, 9, 0, tzinfo=WIB)
    assert days_due(first_activity=first, last_anchored=dt.date(2025, 3, 2), now=after_downtime) == [
        dt.date(2025, 3, 3),
        dt.date(2025, 3, 4),
        dt.date(2025, 3, 5),
    ]
