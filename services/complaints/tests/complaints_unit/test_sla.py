"""The SLA engine: the working calendar, deadlines, the 75 % warning and the escalation ladder."""

from __future__ import annotations

import datetime as dt

from grms_complaints.adapters.calendar import indonesian_calendar, sla_policy
from grms_complaints.domain.model import RejectionReason, SlaStepReached
from grms_complaints.domain.sla import JAKARTA, DeadlineKind, EscalationTarget, SlaRule
from grms_complaints.entrypoints.sla_scheduler import SlaScheduler
from grms_complaints.service_layer import handlers

from .conftest import FRIDAY_1600_WIB, OFFICER, filed
from .fakes import FakeUnitOfWork


def wib(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=JAKARTA).astimezone(dt.UTC)  # type: ignore[misc]


def test_verification_skips_the_weekend_the_holiday_and_cuti_bersama() -> None:
    # Received Friday 9 May 2025 16:00 WIB; Mon 12 May Waisak (public holiday), Tue 13 May cuti bersama.
    with_cuti = sla_policy([dt.date(2025, 5, 13)])
    without_cuti = sla_policy([])
    due = with_cuti.open(DeadlineKind.VERIFICATION, "any", start=FRIDAY_1600_WIB).due_at
    assert due == wib(2025, 5, 17, 0, 0)  # Wed 14, Thu 15, Fri 16 count: due at the end of Friday 16 May
    assert without_cuti.open(DeadlineKind.VERIFICATION, "any", start=FRIDAY_1600_WIB).due_at == wib(2025, 5, 16, 0, 0)
    calendar = indonesian_calendar([dt.date(2025, 5, 13)])
    assert [calendar.is_working_day(dt.date(2025, 5, d)) for d in range(9, 15)] == [
        True,
        False,
        False,
        False,
        False,
        True,
    ]


def test_first_response_is_24_clock_hours_even_over_a_weekend() -> None:
    deadline = sla_policy().open(DeadlineKind.FIRST_RESPONSE, "any", start=FRIDAY_1600_WIB)
    assert deadline.due_at == wib(2025, 5, 10, 16, 0)  # Saturday
    assert deadline.warn_at == wib(2025, 5, 10, 10, 0)  # 75 % of 24 h = 18 h


def test_follow_up_and_resolution_and_category_overrides() -> None:
    policy = sla_policy(
        [dt.date(2025, 5, 13)],
        {"banjir": SlaRule(first_response_hours=6, requires_field_check=True)},
    )
    start = wib(2025, 5, 19, 9, 0)  # Monday
    assert policy.open(DeadlineKind.FOLLOW_UP, "x", start=start).due_at == wib(2025, 5, 27, 0, 0)
    # 14 working days from Monday 19 May skip Thu 29 May (Ascension) and Fri 6 June (Idul Adha):
    # the 14th is Tuesday 10 June.
    assert policy.open(DeadlineKind.RESOLUTION, "x", start=start).due_at == wib(2025, 6, 11, 0, 0)
    assert policy.open(DeadlineKind.FIRST_RESPONSE, "banjir", start=start).due_at == start + dt.timedelta(hours=6)
    field_check = policy.open(DeadlineKind.RESOLUTION, "banjir", start=start).due_at
    assert field_check > policy.open(DeadlineKind.RESOLUTION, "x", start=start).due_at + dt.timedelta(days=50)


def first_response_steps(uow: FakeUnitOfWork) -> list[tuple[int, dt.datetime]]:
    return [
        (e.step.level, e.step.at)
        for e in uow.published
        if isinstance(e, SlaStepReached) and e.step.kind is DeadlineKind.FIRST_RESPONSE
    ]


async def direct(fn, *args, **kwargs):  # type: ignore[no-untyped-def]
    return fn(*args, **kwargs)


async def test_warning_at_75_percent_once(uow: FakeUnitOfWork, sla) -> None:  # type: ignore[no-untyped-def]
    filed(uow, sla)
    scheduler = SlaScheduler(lambda: uow, run=direct, batch=10)
    uow.clock.advance(dt.timedelta(hours=17, minutes=59))
    await scheduler.tick()
    assert first_response_steps(uow) == []
    uow.clock.advance(dt.timedelta(minutes=1))
    await scheduler.tick()
    await scheduler.tick()
    assert first_response_steps(uow) == [(0, FRIDAY_1600_WIB + dt.timedelta(hours=18))]


async def test_escalation_ladder_once_per_level_across_runs_and_restarts(uow: FakeUnitOfWork, sla) -> None:  # type: ignore[no-untyped-def]
    f = filed(uow, sla)
    due = FRIDAY_1600_WIB + dt.timedelta(hours=24)
    first = SlaScheduler(lambda: uow, run=direct, batch=1)  # batch 1: the tick must loop through batches
    uow.clock.set(due)
    await first.tick()
    await first.tick()
    # First seen past its due time: a warning would be late news, only the breach is raised.
    assert first_response_steps(uow) == [(1, due)]
    uow.clock.advance(dt.timedelta(hours=23))
    await first.tick()
    assert len(first_response_steps(uow)) == 1  # the next level is one period (24 h) later
    uow.clock.advance(dt.timedelta(hours=1))
    await first.tick()
    # A restart: a new scheduler over the same store, run twice.
    second = SlaScheduler(lambda: uow, run=direct, batch=5)
    await second.tick()
    await second.tick()
    assert first_response_steps(uow) == [(1, due), (2, due + dt.timedelta(hours=24))]
    # Down for a week: the missed levels are caught up, each once, and the ladder stops at the top.
    uow.clock.advance(dt.timedelta(days=7))
    await second.tick()
    await SlaScheduler(lambda: uow, run=direct).tick()
    levels = [level for level, _ in first_response_steps(uow)]
    assert levels == [1, 2, 3, 4]
    stored = uow.complaints.rows[f.complaint.ticket_id]
    deadline = next(d for d in stored.deadlines if d.kind is DeadlineKind.FIRST_RESPONSE)
    assert deadline.escalation_level == EscalationTarget.GOVERNOR_BOARD and deadline.next_check_at is None
    assert deadline.breached_at == due
    keys = [e.key for e in uow.published if isinstance(e, SlaStepReached)]
    assert len(keys) == len(set(keys))


async def test_met_deadlines_raise_nothing(uow: FakeUnitOfWork, sla) -> None:  # type: ignore[no-untyped-def]
    f = filed(uow, sla)
    reject = handlers.RejectComplaint(f.complaint.ticket_id, RejectionReason.SPAM, "Iklan")
    handlers.reject_complaint(reject, uow=uow, actor=OFFICER)
    uow.clock.advance(dt.timedelta(days=90))
    assert await SlaScheduler(lambda: uow, run=direct).tick() == 0
    assert not [e for e in uow.published if isinstance(e, SlaStepReached)]
