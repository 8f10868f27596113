"""The daily audit anchor: heads as of the end of a WIB day, which days are due, catch-up."""

from __future__ import annotations

import datetime as dt

from grms_budgeting.domain.anchor import (
    WIB,
    AuditAnchor,
    anchor_of,
    check_anchors,
    days_due,
    end_of_day,
    heads_as_of,
    replay_anchors,
    wib_day,
)
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


def test_replaying_many_days_in_one_pass_gives_each_days_anchor_of_its_heads() -> None:
    t = dt.datetime(2025, 3, 1, 10, 0, tzinfo=UTC)
    a = _entries("plan-a", [t, t + dt.timedelta(hours=7), t + dt.timedelta(days=2)])
    b = _entries("plan-b", [t + dt.timedelta(hours=8)])
    entries = b + a[::-1]
    days = [dt.date(2025, 3, d) for d in (4, 1, 2, 3)]
    now = t + dt.timedelta(days=5)
    replayed = replay_anchors("33", entries, days, now=now)
    assert sorted(replayed) == sorted(days)
    for day in days:
        assert replayed[day] == anchor_of("33", day, heads_as_of(entries, end_of_day(day)), now=now)
    assert (replayed[dt.date(2025, 3, 1)].entry_count, replayed[dt.date(2025, 3, 4)].entry_count) == (1, 4)


def _anchor(day: int, combined: str, entries: int = 3) -> AuditAnchor:
    return AuditAnchor("33", dt.date(2025, 3, day), combined, 1, entries, dt.datetime(2025, 3, day, 17, tzinfo=UTC))


def test_check_anchors_names_each_day_where_the_stored_row_or_the_saved_copy_disagree() -> None:
    recomputed = {a.day: a for a in (_anchor(1, "a1"), _anchor(2, "a2"), _anchor(3, "a3"), _anchor(4, "a4"))}
    later = dt.timedelta(days=9)  # computed_at is when, not what: never compared
    stored = [
        AuditAnchor(**{**_anchor(1, "a1").__dict__, "computed_at": _anchor(1, "a1").computed_at + later}),
        _anchor(2, "forged"),
        _anchor(4, "a4"),
        _anchor(5, "a5"),
    ]
    recomputed[dt.date(2025, 3, 5)] = _anchor(5, "a5")
    assert [c.ok for c in check_anchors(recomputed, stored)] == [True, False, True, True]
    saved = [_anchor(1, "a1"), _anchor(2, "a2"), _anchor(3, "a3"), _anchor(4, "a4", entries=2)]
    checks = {c.day.day: c for c in check_anchors(recomputed, stored, saved)}
    assert sorted(checks) == [1, 2, 3, 4, 5]
    assert checks[1].ok and checks[5].ok  # day 5 is newer than the saved copy: no problem
    assert checks[2].problems == (
        "stored ≠ recomputed",
        "saved ≠ stored",
    )
    assert checks[3].problems == ("no stored anchor",)  # a deleted row
    assert checks[4].problems == (
        "saved ≠ recomputed",
        "saved ≠ stored",
    )
    assert (checks[2].stored, checks[2].saved, checks[3].stored) == (stored[1], saved[1], None)


def test_a_consistent_forgery_with_its_anchor_rewritten_is_caught_only_by_the_saved_copy() -> None:
    t = dt.datetime(2025, 3, 1, 1, 0, tzinfo=UTC)
    day = dt.date(2025, 3, 1)
    now = t + dt.timedelta(days=1)
    honest = _entries("p", [t, t + dt.timedelta(minutes=1)])
    forged = _entries("p", [t, t + dt.timedelta(minutes=2)])
    published = replay_anchors("33", honest, [day], now=now)[day]
    rewritten = replay_anchors("33", forged, [day], now=now)
    assert [c.ok for c in check_anchors(rewritten, [rewritten[day]])] == [True]
    [check] = check_anchors(rewritten, [rewritten[day]], [published])
    assert (check.government_code, check.day, check.ok) == ("33", day, False)
    assert check.problems == (
        "saved ≠ recomputed",
        "saved ≠ stored",
    )
