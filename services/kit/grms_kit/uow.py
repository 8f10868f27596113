"""The unit of work: one transaction whose recorded events are written to the outbox with it.

Use cases (cosmicpython style) run inside `with uow:` and end with `uow.commit()`; nothing
is published from inside a request — the relay publishes what the commit stored.

Under a group commit (grms_kit.group_commit) the unit of work joins the batch's transaction
instead of opening its own, and the batch commits for all. In a batch of several calls, leaving
`with uow:` without commit after writing marks the batch spoiled (it is rerun call by call); alone,
`with uow:` is a SAVEPOINT, `commit()` releases it and leaving without commit rolls back to it.
Rows written through `uow.writes` (the outbox's among them) are written once for the whole
batch, just before its COMMIT.
"""

from __future__ import annotations

import datetime as dt
import logging
from types import TracebackType
from typing import Any

from google.protobuf.message import Message
from sqlalchemy import Table, insert
from sqlalchemy.orm import Session, SessionTransaction

from grms_kit.clock import Clock
from grms_kit.db import Database
from grms_kit.events import Envelope
from grms_kit.group_commit import CounterWriter, DeferredWrites, SharedTransaction, shared_transaction
from grms_kit.tables import MessagingTables
from grms_kit.telemetry import inject_headers

__all__ = ["RowWriter", "UnitOfWork", "envelope_rows"]

log = logging.getLogger(__name__)


class RowWriter:
    """Inserts rows nobody reads back in the same transaction: at once, or at the end of a group-commit batch."""

    def __init__(self, session: Session, deferred: DeferredWrites | None = None) -> None:
        self.session = session
        self.deferred = deferred

    def insert(self, table: Table, rows: dict[str, Any] | list[dict[str, Any]]) -> None:
        """INSERT `rows` into `table` now, or queue them for the batch's one multi-row INSERT."""
        if self.deferred is not None:
            self.deferred.insert(table, rows)
        elif rows:
            self.session.execute(insert(table), rows)

    def add(self, writer: CounterWriter, delta: dict[Any, int]) -> None:
        """`writer(session, delta)` now, or summed into the batch's one call of it."""
        if self.deferred is not None:
            self.deferred.add(writer, delta)
        elif delta:
            writer(self.session, delta)


def envelope_rows(envelopes: list[Envelope], now: dt.datetime) -> list[dict[str, Any]]:
    """The outbox rows of `envelopes`."""
    return [
        {
            "event_id": e.event_id,
            "type": e.type,
            "subject": e.subject,
            "source": e.source,
            "government": e.government,
            "payload": e.payload,
            "headers": e.headers(),
            "created_at": now,
            "attempts": 0,
        }
        for e in envelopes
    ]


class UnitOfWork:
    """A transaction plus the integration events it will publish.

    Subclasses open their repositories in `_open(session)` and may override
    `_collect_events()` to turn the domain events of loaded aggregates into messages.
    """

    session: Session
    writes: RowWriter

    def __init__(self, db: Database, tables: MessagingTables, *, clock: Clock, source: str) -> None:
        self.db = db
        self.tables = tables
        self.clock = clock
        self.source = source
        self._events: list[tuple[Message, str, str | None]] = []
        self._committed = False
        self._shared: SharedTransaction | None = None
        self._savepoint: SessionTransaction | None = None
        self._written_at_start = 0

    def __enter__(self) -> UnitOfWork:
        self._shared = shared_transaction(self.db)
        if self._shared is not None:
            self.session = self._shared.session
            if self._shared.savepoints:
                self._savepoint = self.session.begin_nested()
            self._written_at_start = self._shared.written
        else:
            self.session = self.db.session()
        self._events = []
        self._committed = False
        self.writes = RowWriter(self.session, DeferredWrites() if self._shared is not None else None)
        self._open(self.session)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._shared is not None:
            if not self._committed:
                if self._savepoint is not None:
                    if self._savepoint.is_active:
                        self._savepoint.rollback()
                elif self._shared.written > self._written_at_start:
                    self._shared.spoiled = True  # its writes cannot be undone alone: the batch reruns
            self._savepoint = None
            return
        if not self._committed:
            self.session.rollback()
        self.session.close()

    def _open(self, session: Session) -> None:
        """Create the repositories on `session` (subclasses)."""

    def read_snapshot(self) -> None:
        """Let every read of this unit of work see one snapshot; call it before the first statement.

        A report built from several statements (sums, then live counts) must not see a commit
        land between two of them. PostgreSQL's default READ COMMITTED takes a snapshot per
        statement, so this asks for REPEATABLE READ; a SQLite transaction reads one snapshot
        already, and a unit of work inside a group commit shares its batch's transaction.
        """
        if not self.db.is_sqlite and self._shared is None:
            self.session.connection(execution_options={"isolation_level": "REPEATABLE READ"})

    def _collect_events(self) -> list[tuple[Message, str]]:
        """Events raised by the aggregates this unit of work touched (subclasses)."""
        return []

    def _before_commit(self) -> None:
        """Last writes of the transaction, after the outbox (subclasses): e.g. shared counters whose
        row locks should be held for as short a time as possible."""

    def publish(self, message: Message, *, government: str, event_id: str | None = None) -> None:
        """Record integration event `message` of tenant `government` for the outbox.

        `event_id` (a UUID string) makes a redo of the same fact carry the same id, so the
        outbox's unique key, JetStream's `Nats-Msg-Id` and consumer inboxes drop the copy;
        by default every event gets a fresh random id.
        """
        self._events.append((message, government, event_id))

    def commit(self) -> None:
        """Write the recorded events to the outbox and commit everything at once."""
        events = self._events + [(m, g, None) for m, g in self._collect_events()]
        trace = inject_headers({})
        now = self.clock.now()
        envelopes = [
            Envelope.wrap(m, source=self.source, government=g, time=now, event_id=i, trace_headers=trace)
            for m, g, i in events
        ]
        if envelopes:
            self.writes.insert(self.tables.outbox, envelope_rows(envelopes, self.clock.now()))
        self._before_commit()
        if self._shared is not None:
            if self._savepoint is not None:
                self._savepoint.commit()  # RELEASE: durable with the batch's COMMIT
            if self.writes.deferred is not None:
                self._shared.deferred.absorb(self.writes.deferred)
                self.writes.deferred = DeferredWrites()
            self._shared.published = self._shared.published or bool(envelopes)
            self._committed = True
            self._events = []
            return
        self.session.commit()
        self._committed = True
        self._events = []
        if envelopes:
            self.db.committed()

    def rollback(self) -> None:
        """Discard the transaction and its events."""
        if self._shared is not None:
            if self._savepoint is not None:
                self._savepoint.rollback()
                self._savepoint = self.session.begin_nested()  # the rest of the `with` block stays undoable
            elif self._shared.written > self._written_at_start:
                self._shared.spoiled = True
            self.writes.deferred = DeferredWrites()
        else:
            self.session.rollback()
        self._events = []
