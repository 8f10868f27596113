"""Group commit: units of work that arrive together run in one transaction, with one commit.

A durable commit costs an fsync (BENCH.md: ~1.3–3.8k commits/s per database at best, far less
when the disk is shared), so committing each request alone caps a busy write path. Here the
calls that queue up while a batch runs are taken together, the next time the database thread
is free: they run one after the other in one shared transaction, then one COMMIT makes them
all durable at once. No timer: under light load a batch is one call and nothing waits for company.

Each caller still gets its own answer:

- a call that raises before writing anything gets its exception; its batch-mates go on;
- a call that raises after writing (or breaks the transaction: a constraint, a PostgreSQL error)
  spoils the batch: it is rolled back whole and every call runs again in a transaction of its
  own, so that call fails alone;
- a later call sees what earlier ones of the same batch wrote (they share the transaction), so
  uniqueness checks and idempotency keys hold within a batch as across batches;
- when the COMMIT itself fails, nothing of the batch was written and every caller gets that error.

Units of work find the shared transaction through a context variable (see `UnitOfWork`): a use
case written for `Database.run` runs unchanged under `GroupCommit.run`.

Rows nobody in the batch reads back (outbox messages, child rows, summed counters) need not be
written one call at a time: a unit of work hands them to `DeferredWrites` (`uow.writes`), which
writes them once for the whole batch, one multi-row INSERT per table and one upsert per counter
key, just before the COMMIT — a round trip per table per batch instead of per call. A released
savepoint's rows join the batch's; a rolled-back one's are dropped with it. Should that final
write fail (a row breaking a constraint), the batch is rolled back and each call runs again in a
transaction of its own, so the bad call fails alone and the others are stored.

Decision: no SAVEPOINT per call in a batch. One per call (SAVEPOINT … RELEASE) cost two of the
filing's ten statements on PostgreSQL and a few per cent of its CPU on SQLite, to make cheap what is
rare — a call failing after it wrote (bad input fails before the first write). Instead the batch
counts the statements that write (a connection event), and a unit of work left uncommitted after
writing marks the batch spoiled, which reruns it call by call — each alone, in the savepoint
form, which is also how a batch of one runs.

    intake = GroupCommit(db)
    filed = await intake.run(handlers.file_complaint, cmd, uow=uow_factory(), ...)
"""

from __future__ import annotations

import asyncio
import contextvars
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, ParamSpec, TypeVar

from sqlalchemy import Table, event, insert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.schema import sort_tables

from grms_kit.db import Database

__all__ = ["DeferredWrites", "GroupCommit", "SharedTransaction", "shared_transaction"]

P = ParamSpec("P")
T = TypeVar("T")


#: Writes summed counters: (session, key → amount), e.g. an upsert adding to a read model's rows.
CounterWriter = Callable[[Session, dict[Any, int]], None]


class DeferredWrites:
    """Rows inserted, and counters added to, at the end of a batch: one statement per table or writer."""

    def __init__(self) -> None:
        self.rows: dict[Table, list[dict[str, Any]]] = {}
        self.counters: dict[CounterWriter, dict[Any, int]] = {}

    def __bool__(self) -> bool:
        return bool(self.rows) or any(self.counters.values())

    def insert(self, table: Table, rows: dict[str, Any] | list[dict[str, Any]]) -> None:
        """Queue `rows` for one multi-row INSERT into `table` (parents before the tables referencing them)."""
        self.rows.setdefault(table, []).extend([rows] if isinstance(rows, dict) else rows)

    def add(self, writer: CounterWriter, delta: dict[Any, int]) -> None:
        """Queue `delta` for `writer`, summed per key with what the batch queued before."""
        total = self.counters.setdefault(writer, {})
        for key, n in delta.items():
            total[key] = total.get(key, 0) + n

    def absorb(self, other: DeferredWrites) -> None:
        """Take over `other`'s rows and counters (a released savepoint's into its batch's)."""
        for table, rows in other.rows.items():
            self.insert(table, rows)
        for writer, delta in other.counters.items():
            self.add(writer, delta)

    def flush(self, session: Session) -> None:
        """Write everything queued on `session` (rows first, counters last: their locks are held the least)."""
        # By foreign keys, parents first (a batch may queue a call's child rows before a later call's
        # parent row); otherwise in first-queued order.
        for table in sort_tables(self.rows):
            rows = self.rows[table]
            # One row as a plain execute: the many-rows path costs more for one.
            session.execute(insert(table), rows[0] if len(rows) == 1 else rows)
        for writer, delta in self.counters.items():
            if delta:
                writer(session, delta)
        self.rows, self.counters = {}, {}


@dataclass
class SharedTransaction:
    """The transaction a batch's units of work join: its session, its deferred writes, whether it published.

    With `savepoints`, each unit of work runs in a SAVEPOINT of it (a batch of one call, the
    one-by-one rerun). Without, `written` counts the statements that wrote so far and a unit of
    work that fails after writing sets `spoiled`: the batch is then rerun call by call.
    """

    db: Database
    session: Session
    published: bool = False
    deferred: DeferredWrites = field(default_factory=DeferredWrites)
    savepoints: bool = True
    written: int = 0
    spoiled: bool = False

    def count_write(self, conn: Any, cursor: Any, statement: str, *rest: Any) -> None:
        """before_cursor_execute: anything but a SELECT counts as a write (a failing one too)."""
        if not statement.lstrip()[:6].upper() == "SELECT":
            self.written += 1


_SHARED: contextvars.ContextVar[SharedTransaction | None] = contextvars.ContextVar("grms_shared_tx", default=None)


def shared_transaction(db: Database) -> SharedTransaction | None:
    """The batch transaction on `db` the current call runs in, or None outside a group commit."""
    shared = _SHARED.get()
    return shared if shared is not None and shared.db is db else None


@dataclass
class _Call(Generic[T]):
    fn: Callable[..., T]
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    context: contextvars.Context
    future: asyncio.Future[T] = field(repr=False)


class GroupCommit:
    """Runs units of work like `Database.run`, but those waiting together share one transaction."""

    def __init__(self, db: Database, *, max_batch: int = 64, parallel: int = 1) -> None:
        """`parallel`: batches handed to the database threads at once. Measured with bench (f): 2 gave
        no gain on SQLite (one writer) and cost PostgreSQL ~25 % more CPU per filing and a worse
        p99 (smaller batches, two transactions contending), so one batch at a time by default."""
        self.db = db
        self.max_batch = max_batch
        self.parallel = parallel
        self._queue: deque[_Call[Any]] = deque()
        self._running = 0
        self._tasks: set[asyncio.Task[None]] = set()
        self.batches = 0
        self.calls = 0

    @property
    def waiting(self) -> int:
        """How many calls wait for the next batch."""
        return len(self._queue)

    async def run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run `fn(*args, **kwargs)` on the database thread in the next batch; its result or its exception."""
        loop = asyncio.get_running_loop()
        call = _Call(fn, args, kwargs, contextvars.copy_context(), loop.create_future())
        self._queue.append(call)
        self._start()
        return await call.future

    def _start(self) -> None:
        while self._queue and self._running < self.parallel:
            self._running += 1
            task = asyncio.get_running_loop().create_task(self._batch())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _batch(self) -> None:
        taken: list[_Call[Any]] = []
        try:
            taken, outcomes = await self.db.run(self._run_batch, taken)
        except BaseException as exc:  # the commit failed (or we were cancelled): nothing of it was written
            for call in taken:
                if not call.future.done():
                    call.future.set_exception(exc if isinstance(exc, Exception) else RuntimeError(repr(exc)))
            if not isinstance(exc, Exception):
                raise
        else:
            for call, (ok, value) in zip(taken, outcomes, strict=True):
                if call.future.done():  # the caller went away (cancelled)
                    continue
                if ok:
                    call.future.set_result(value)
                else:
                    call.future.set_exception(value)
        finally:
            self._running -= 1
            self._start()

    def _run_batch(self, taken: list[_Call[Any]]) -> tuple[list[_Call[Any]], list[tuple[bool, Any]]]:
        """On the database thread: take what waits now, all in one transaction, one commit.

        The calls are taken here, when the thread is free, not when the batch was scheduled: all
        that arrived meanwhile go in. `taken` is filled in place so a failure can still answer them.
        """
        while self._queue and len(taken) < self.max_batch:
            taken.append(self._queue.popleft())  # deque: safe against appends from the event loop
        if not taken:
            return taken, []
        try:
            outcomes = self._transaction(taken, savepoints=len(taken) == 1)
        except _FlushFailed as exc:
            # A deferred row of some call broke a constraint: nothing was written; each call alone.
            outcomes = [self._alone(call) for call in taken] if len(taken) > 1 else [(False, exc.__cause__)]
        except _Spoiled:
            # A call failed after writing: nothing of the batch was written; each call alone.
            outcomes = [self._alone(call) for call in taken]
        self.batches += 1
        self.calls += len(taken)
        return taken, outcomes

    def _transaction(self, calls: list[_Call[Any]], *, savepoints: bool = True) -> list[tuple[bool, Any]]:
        """`calls` in one transaction: their outcomes; _FlushFailed when the deferred writes fail,
        _Spoiled when a call failed after writing (without savepoints)."""
        session = self.db.session()
        shared = SharedTransaction(self.db, session, savepoints=savepoints)
        conn = None if savepoints else session.connection()
        if conn is not None:
            event.listen(conn, "before_cursor_execute", shared.count_write)
        outcomes: list[tuple[bool, Any]] = []
        try:
            for call in calls:
                outcomes.append(call.context.run(_one, shared, call))
                if shared.spoiled:
                    raise _Spoiled
            try:
                shared.deferred.flush(session)
            except Exception as exc:
                raise _FlushFailed from exc
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            if conn is not None:
                event.remove(conn, "before_cursor_execute", shared.count_write)
            session.close()
        if shared.published:
            self.db.committed()
        return outcomes

    def _alone(self, call: _Call[Any]) -> tuple[bool, Any]:
        try:
            return self._transaction([call])[0]
        except _FlushFailed as exc:
            return False, exc.__cause__
        except Exception as exc:  # its commit failed: this call's error alone
            return False, exc


class _Spoiled(Exception):
    """A call of a savepoint-less batch failed after writing: retry the calls one by one."""


class _FlushFailed(Exception):
    """The batch's deferred writes failed (the cause says why): retry the calls one by one."""


def _one(shared: SharedTransaction, call: _Call[Any]) -> tuple[bool, Any]:
    """One call inside the caller's context, joined to the shared transaction: (True, result) or (False, error)."""
    token = _SHARED.set(shared)
    try:
        return True, call.fn(*call.args, **call.kwargs)
    except Exception as exc:  # this call's failure alone: its savepoint is rolled back by its unit of work
        if isinstance(exc, DBAPIError) and not shared.savepoints:
            shared.spoiled = True  # PostgreSQL refuses the rest of the transaction after an error
        return False, exc
    finally:
        _SHARED.reset(token)
