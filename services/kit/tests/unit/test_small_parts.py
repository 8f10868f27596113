"""Backoff, clocks, and the mapping of domain errors to gRPC statuses."""

from __future__ import annotations

import datetime as dt

import pytest
from google.rpc import code_pb2, error_details_pb2
from grms_kit.backoff import Backoff
from grms_kit.clock import ManualClock, SystemClock
from grms_kit.errors import (
    AlreadyExists,
    Conflict,
    DomainError,
    FailedPrecondition,
    FieldViolation,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    Unauthenticated,
)
from grms_kit.grpc_server import status_of


def test_backoff_doubles_within_jitter_and_caps() -> None:
    b = Backoff(0.1, 1.0)
    delays = [b.next() for _ in range(10)]
    nominal = [0.1, 0.2, 0.4, 0.8, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]
    for got, want in zip(delays, nominal, strict=True):
        assert want * 0.8 <= got <= want * 1.2
    b.reset()
    assert 0.08 <= b.next() <= 0.12


def test_backoff_never_exceeds_max_plus_jitter() -> None:
    b = Backoff(0.5, 2.0, factor=3.0)
    assert all(0.4 <= b.next() <= 2.4 for _ in range(200))


def test_manual_clock() -> None:
    clock = ManualClock()
    start = clock.now()
    assert start.tzinfo is not None
    assert clock.now() == start  # does not move by itself
    assert clock.advance(dt.timedelta(minutes=5)) == start + dt.timedelta(minutes=5)
    later = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    clock.set(later)
    assert clock.now() == later
    with pytest.raises(ValueError):
        ManualClock(dt.datetime(2025, 1, 1))


def test_system_clock_is_utc() -> None:
    assert SystemClock().now().utcoffset() == dt.timedelta(0)


@pytest.mark.parametrize(
    ("exc", "code"),
    [
        (NotFound("agency 1.02 not found"), code_pb2.NOT_FOUND),
        (AlreadyExists("exists"), code_pb2.ALREADY_EXISTS),
        (FailedPrecondition("locked"), code_pb2.FAILED_PRECONDITION),
        (Conflict("changed"), code_pb2.ABORTED),
        (PermissionDenied("no"), code_pb2.PERMISSION_DENIED),
        (Unauthenticated("who"), code_pb2.UNAUTHENTICATED),
        (DomainError("other"), code_pb2.FAILED_PRECONDITION),
    ],
)
def test_status_codes(exc: DomainError, code: int) -> None:
    status = status_of(exc)
    assert status.code == code
    assert status.message == exc.message
    assert not status.details


def test_invalid_argument_carries_field_violations() -> None:
    exc = InvalidArgument([FieldViolation("agency.code", "required"), FieldViolation("agency.name", "too long")])
    status = status_of(exc)
    assert status.code == code_pb2.INVALID_ARGUMENT
    assert status.message == "agency.code: required; agency.name: too long"
    bad = error_details_pb2.BadRequest()
    assert status.details[0].Unpack(bad)
    assert [(v.field, v.description) for v in bad.field_violations] == [
        ("agency.code", "required"),
        ("agency.name", "too long"),
    ]


def test_invalid_argument_shorthand() -> None:
    exc = InvalidArgument.field("code", "must be digits")
    assert exc.violations == [FieldViolation("code", "must be digits")]


async def test_a_swallowed_cancellation_still_stops_a_loop() -> None:
    import asyncio

    from grms_kit.backoff import raise_if_cancelled

    turns = 0

    async def loop() -> None:
        nonlocal turns
        while True:
            raise_if_cancelled()
            turns += 1
            try:
                await asyncio.sleep(0.01)
            except asyncio.CancelledError:
                pass  # what a racing asyncio.wait_for can do on Python 3.11

    task = asyncio.create_task(loop())
    await asyncio.sleep(0.03)
    task.cancel()
    await asyncio.wait_for(asyncio.gather(task, return_exceptions=True), 2)
    assert task.cancelled()
    assert turns >= 1
