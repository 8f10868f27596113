"""Group commit: concurrent units of work share one transaction, each with its own answer."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
from grms.budgeting.v1 import agency_pb2, events_pb2
from grms_kit.group_commit import GroupCommit
from grms_kit.uow import UnitOfWork
from sqlalchemy import create_engine, event, func, insert, select


def _count(store: Any, table: Any, *where: Any) -> int:
    with store.db.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one()


def _register(store: Any, code: str, gate: threading.Event | None = None) -> str:
    """One unit of work: an effect row and its event; "bad" codes fail after writing, before commit,
    "invalid" ones before writing anything (as a filing with bad input does)."""
    if gate is not None:
        gate.wait(10)  # holds the database thread so the next calls queue up into one batch
    with UnitOfWork(store.db, store.tables, clock=store.clock, source="budgeting") as uow:
        # Idempotent by code, as intake is by delivery id: a second call finds the first's row.
        seen = uow.session.execute(select(func.count()).where(store.effect.c.code == code)).scalar_one()
        if seen:
            return f"{code} again"
        if code.startswith("invalid"):
            raise ValueError(f"{code} is not a code")
        uow.session.execute(insert(store.effect).values(event_id=code, code=code))
        uow.publish(
            events_pb2.AgencyRegistered(agency=agency_pb2.Agency(government_code="33", code=code)), government="33"
        )
        if code.startswith("bad"):
            raise ValueError(f"{code} is not a code")
        uow.commit()
        return code


def _count_commits(store: Any) -> list[int]:
    commits: list[int] = []
    event.listen(store.db.engine, "commit", lambda conn: commits.append(1))
    return commits


async def _batched(store: Any, group: GroupCommit, codes: list[str]) -> list[Any]:
    """Run `codes` concurrently while the database thread is held, so they form one batch."""
    gate = threading.Event()
    blocker = asyncio.ensure_future(store.db.run(gate.wait, 10))
    await asyncio.sleep(0)  # the blocker holds the (single, on SQLite) database thread first
    calls = [asyncio.ensure_future(group.run(_register, store, code)) for code in codes]
    await asyncio.sleep(0.05)
    gate.set()
    await blocker
    return await asyncio.gather(*calls, return_exceptions=True)


async def test_concurrent_calls_commit_once_and_a_failing_one_fails_alone(store: Any) -> None:
    group = GroupCommit(store.db, parallel=1)
    commits = _count_commits(store)
    statements = _count_statements(store)
    results = await _batched(store, group, ["1.01", "1.02", "invalid-1", "1.03", "1.01"])
    assert results[:2] == ["1.01", "1.02"] and results[3:] == ["1.03", "1.01 again"]
    assert isinstance(results[2], ValueError) and "invalid-1" in str(results[2])
    # One batch, one COMMIT, no SAVEPOINT: the failed call wrote nothing, its event was dropped.
    assert group.batches == 1 and group.calls == 5 and len(commits) == 1
    assert not [s for s in statements if "SAVEPOINT" in s.upper()]
    assert _count(store, store.effect) == 3 and _count(store, store.tables.outbox) == 3


async def test_a_call_failing_after_it_wrote_reruns_the_batch_one_by_one(store: Any) -> None:
    group = GroupCommit(store.db, parallel=1)
    commits = _count_commits(store)
    results = await _batched(store, group, ["9.01", "9.02", "bad-9", "9.03", "9.01"])
    assert results[:2] == ["9.01", "9.02"] and results[3:] == ["9.03", "9.01 again"]
    assert isinstance(results[2], ValueError) and "bad-9" in str(results[2])
    # Nothing of the spoiled batch was committed; each call alone, the failed one rolled back.
    assert group.batches == 1 and len(commits) == 5  # one per call alone (the failed one's holds nothing)
    assert _count(store, store.effect) == 3 and _count(store, store.effect, store.effect.c.code == "bad-9") == 0
    assert _count(store, store.tables.outbox) == 3


async def test_a_failed_commit_writes_nothing_of_the_batch_and_fails_every_caller(store: Any) -> None:
    group = GroupCommit(store.db, parallel=1)

    def refuse(conn: Any) -> None:
        raise OSError("disk full")

    event.listen(store.db.engine, "commit", refuse)
    results = await _batched(store, group, ["2.01", "2.02", "2.03"])
    event.remove(store.db.engine, "commit", refuse)
    assert all(isinstance(r, OSError) for r in results)
    assert _count(store, store.effect) == 0 and _count(store, store.tables.outbox) == 0
    # The group keeps working after a failed batch.
    assert await group.run(_register, store, "2.04") == "2.04"
    assert _count(store, store.effect) == 1


async def test_the_relay_is_woken_once_per_batch_with_events(store: Any) -> None:
    group = GroupCommit(store.db)
    woken: list[int] = []
    store.db.on_commit(lambda: woken.append(1))
    await _batched(store, group, ["3.01", "3.02", "3.03"])
    assert woken == [1]
    await group.run(_register, store, "3.01")  # found, nothing written: no wake-up
    assert woken == [1]


async def test_a_lone_call_runs_at_once(store: Any) -> None:
    group = GroupCommit(store.db)
    assert await asyncio.wait_for(group.run(_register, store, "4.01"), 10) == "4.01"
    with pytest.raises(ValueError, match="bad-4"):
        await group.run(_register, store, "bad-4")
    assert _count(store, store.effect) == 1 and group.batches == 2


async def test_a_savepoint_inside_a_unit_of_work_commits_nothing_early(store: Any) -> None:
    # SQLite's driver used to leave the transaction to the first SAVEPOINT, whose RELEASE then
    # committed on its own: half a unit of work survived the failure after it.
    def use_case() -> None:
        with UnitOfWork(store.db, store.tables, clock=store.clock, source="budgeting") as uow:
            with uow.session.begin_nested():
                uow.session.execute(insert(store.effect).values(event_id="5.01", code="5.01"))
            uow.session.execute(insert(store.effect).values(event_id="5.02", code="5.02"))
            raise RuntimeError("failed after the savepoint")

    with pytest.raises(RuntimeError):
        await store.db.run(use_case)
    assert _count(store, store.effect) == 0


def test_a_lazy_commit_writes_and_leaves_the_connection_durable(store: Any) -> None:
    # The outbox's sent marks commit without waiting for the disk; everything else still does.
    probe = "PRAGMA synchronous" if store.db.is_sqlite else "SHOW synchronous_commit"
    with store.db.lazy_commit() as conn:
        conn.execute(insert(store.effect).values(event_id="6.01", code="6.01"))
        assert str(conn.exec_driver_sql(probe).scalar()) in ("1", "off")
    with pytest.raises(RuntimeError), store.db.lazy_commit() as conn:
        conn.execute(insert(store.effect).values(event_id="6.02", code="6.02"))
        raise RuntimeError("rolled back")
    with store.db.engine.connect() as conn:
        assert str(conn.exec_driver_sql(probe).scalar()) in ("2", "on")
    assert _count(store, store.effect) == 1


def test_a_read_snapshot_does_not_see_commits_made_after_its_first_read(store: Any) -> None:
    with UnitOfWork(store.db, store.tables, clock=store.clock, source="budgeting") as reader:
        reader.read_snapshot()
        before = reader.session.execute(select(func.count()).select_from(store.effect)).scalar_one()
        other = create_engine(store.db.url)  # another client commits meanwhile
        with other.begin() as conn:
            conn.execute(insert(store.effect).values(event_id="later", code="later"))
        other.dispose()
        after = reader.session.execute(select(func.count()).select_from(store.effect)).scalar_one()
    assert after == before
    assert _count(store, store.effect) == before + 1


def _count_statements(store: Any) -> list[str]:
    statements: list[str] = []

    def record(conn: Any, cursor: Any, sql: str, *rest: Any) -> None:
        statements.append(" ".join(sql.split()))

    event.listen(store.db.engine, "before_cursor_execute", record)
    return statements


def _inserts(statements: list[str], table: str) -> int:
    return sum(1 for s in statements if s.upper().startswith(f"INSERT INTO {table.upper()} "))


def _deferred(store: Any, code: str, event_id: str | None = None) -> str:
    """One unit of work writing only rows nobody reads back: its effect and its event, both deferred."""
    with UnitOfWork(store.db, store.tables, clock=store.clock, source="budgeting") as uow:
        uow.writes.insert(store.effect, {"event_id": code, "code": code})
        uow.publish(
            events_pb2.AgencyRegistered(agency=agency_pb2.Agency(government_code="33", code=code)),
            government="33",
            event_id=event_id,
        )
        if code.startswith("bad"):
            raise ValueError(f"{code} is not a code")
        uow.commit()
        return code


async def _batched_with(store: Any, group: GroupCommit, calls: list[tuple[Any, ...]]) -> list[Any]:
    gate = threading.Event()
    blocker = asyncio.ensure_future(store.db.run(gate.wait, 10))
    await asyncio.sleep(0)
    futures = [asyncio.ensure_future(group.run(*call)) for call in calls]
    for _ in range(400):
        if group.waiting == len(calls):
            break
        await asyncio.sleep(0.025)
    gate.set()
    await blocker
    return await asyncio.gather(*futures, return_exceptions=True)


async def test_deferred_rows_are_written_once_per_batch_per_table(store: Any) -> None:
    group = GroupCommit(store.db, parallel=1)
    statements = _count_statements(store)
    codes = ["7.01", "7.02", "bad-7", "7.03", "7.04"]
    results = await _batched_with(store, group, [(_deferred, store, code) for code in codes])
    assert [r for r in results if isinstance(r, str)] == ["7.01", "7.02", "7.03", "7.04"]
    assert isinstance(results[2], ValueError)
    assert group.batches == 1
    # Four stored calls, one multi-row INSERT per table; the failed call's rows went with its savepoint.
    assert _inserts(statements, "effect") == 1 and _inserts(statements, "outbox_message") == 1
    assert _count(store, store.effect) == 4 and _count(store, store.tables.outbox) == 4
    assert _count(store, store.effect, store.effect.c.code == "bad-7") == 0


async def test_a_deferred_row_that_breaks_a_constraint_fails_its_call_alone(store: Any) -> None:
    group = GroupCommit(store.db, parallel=1)
    taken = "0b7a1c1e-0000-4000-8000-000000000001"
    assert await group.run(_deferred, store, "8.00", taken) == "8.00"
    commits = _count_commits(store)
    # 8.02 reuses a stored event id: the batch's one outbox INSERT fails, so each call runs alone.
    results = await _batched_with(
        store, group, [(_deferred, store, "8.01"), (_deferred, store, "8.02", taken), (_deferred, store, "8.03")]
    )
    assert results[0] == "8.01" and results[2] == "8.03"
    assert isinstance(results[1], Exception) and "8.02" not in [r for r in results if isinstance(r, str)]
    assert _count(store, store.effect) == 3 and _count(store, store.effect, store.effect.c.code == "8.02") == 0
    assert _count(store, store.tables.outbox) == 3
    assert len(commits) == 2  # the two good calls, each alone; nothing of the failed batch
    # A lone call whose deferred row fails gets the database's error, once.
    with pytest.raises(Exception, match=r"(?i)unique|duplicate"):
        await group.run(_deferred, store, "8.04", taken)
    assert _count(store, store.effect) == 3
