"""The board's read-model rules (domain/board.py): histogram percentiles and what a complaint contributes."""

from __future__ import annotations

import datetime as dt

from grms_complaints.domain.board import (
    BUCKETS,
    BoardDeadline,
    BoardFacts,
    bucket_of,
    contribution,
    difference,
    nearest_rank,
    percentile_target,
)
from grms_complaints.domain.sla import JAKARTA
from hypothesis import given
from hypothesis import strategies as st

T0 = dt.datetime(2025, 6, 2, 8, 0, tzinfo=JAKARTA).astimezone(dt.UTC)
H = dt.timedelta(hours=1)
minutes_lists = st.lists(st.integers(min_value=0, max_value=200_000), min_size=1, max_size=300)


@given(minutes_lists, st.sampled_from([(1, 2), (9, 10), (1, 4), (99, 100), (1, 1)]))
def test_the_histogram_finds_the_exact_nearest_rank_value(values: list[int], quantile: tuple[int, int]) -> None:
    # What the board does: bucket and rank within it from the sums, then the rank-th value of that bucket.
    histogram = [0] * len(BUCKETS)
    for m in values:
        histogram[bucket_of(m)] += 1
    rank = percentile_target(len(values), *quantile)
    bucket, within = nearest_rank(histogram, rank)
    in_bucket = sorted(m for m in values if bucket_of(m) == bucket)
    exact = sorted(values)[rank - 1]  # nearest rank: the ceil(n × q)-th smallest
    assert in_bucket[within - 1] == exact
    # Also what the SQL reads: the within-th smallest value at or above the bucket's lower bound.
    assert sorted(m for m in values if m >= BUCKETS[bucket])[within - 1] == exact


@given(st.integers(min_value=0, max_value=10**7))
def test_every_minute_falls_in_the_bucket_whose_bounds_hold_it(minutes: int) -> None:
    i = bucket_of(minutes)
    assert BUCKETS[i] <= minutes
    assert i + 1 == len(BUCKETS) or minutes < BUCKETS[i + 1]


def test_percentile_targets_match_the_nearest_rank_of_the_sql_reference() -> None:
    # The raw board takes the smallest row number with rn * 2 >= n (median) and rn * 10 >= 9n (p90).
    for n in range(1, 60):
        assert percentile_target(n, 1, 2) == min(rn for rn in range(1, n + 1) if rn * 2 >= n)
        assert percentile_target(n, 9, 10) == min(rn for rn in range(1, n + 1) if rn * 10 >= 9 * n)


def _facts(**changes: object) -> BoardFacts:
    base: dict[str, object] = {
        "agency_code": "DINKES",
        "received_at": T0,
        "first_response_minutes": None,
        "merged": False,
        "deadlines": (),
        "is_open": True,
    }
    return BoardFacts(**{**base, **changes})  # type: ignore[arg-type]


def test_a_complaint_counts_by_its_day_of_receipt_and_its_events_by_their_day() -> None:
    late = BoardDeadline("first_response", T0 + 24 * H, T0 + 30 * H, None)
    day = T0.astimezone(JAKARTA).date()
    got = contribution(_facts(first_response_minutes=30 * 60, deadlines=(late,), is_open=False))
    assert got == {
        ("DINKES", day, "received"): 1,
        ("DINKES", day, "responded"): 1,
        ("DINKES", day, f"fr_{bucket_of(1800):02d}"): 1,
        ("DINKES", day, "sla_decided"): 1,
        ("DINKES", (T0 + 30 * H).astimezone(JAKARTA).date(), "answered"): 1,
        ("DINKES", (T0 + 24 * H).astimezone(JAKARTA).date(), "breached"): 1,
    }


def test_running_deadlines_count_once_a_scan_marks_them_and_auto_close_never() -> None:
    due = T0 + 24 * H
    running = BoardDeadline("first_response", due, None, None)
    marked = BoardDeadline("first_response", due, None, None, breached_at=due + H)
    auto_close = BoardDeadline("auto_close", T0 + H, None, T0 + 50 * H)
    day = T0.astimezone(JAKARTA).date()
    assert ("DINKES", day, "sla_decided") not in contribution(_facts(deadlines=(running, auto_close)))
    got = contribution(_facts(deadlines=(marked,)))
    assert got[("DINKES", day, "sla_decided")] == 1
    assert got[("DINKES", None, "overdue")] == 1
    # Met late after the mark: still one decided, one breached — the difference changes nothing there.
    met_late = BoardDeadline("first_response", due, due + 2 * H, None, breached_at=due + H)
    moved = difference(contribution(_facts(deadlines=(met_late,), is_open=False)), got)
    assert ("DINKES", day, "sla_decided") not in moved
    assert moved[("DINKES", None, "open")] == -1


def test_a_reroute_moves_the_whole_record_and_a_merge_takes_it_away() -> None:
    before = contribution(_facts(first_response_minutes=90))
    moved = difference(contribution(_facts(agency_code="DPUBMCK", first_response_minutes=90)), before)
    assert {k[0] for k, n in moved.items() if n < 0} == {"DINKES"}
    assert {k[0] for k, n in moved.items() if n > 0} == {"DPUBMCK"}
    assert sum(moved.values()) == 0
    merged = difference(contribution(_facts(merged=True, first_response_minutes=90)), before)
    assert merged == {k: -n for k, n in before.items()}
