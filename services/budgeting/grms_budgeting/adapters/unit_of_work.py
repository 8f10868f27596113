"""Budgeting's unit of work: SQL repositories in one transaction, their events to the outbox."""

from __future__ import annotations

from google.protobuf.message import Message
from grms_kit.uow import UnitOfWork
from sqlalchemy.orm import Session

from grms_budgeting.adapters.repository import SqlAgencyRepository, SqlGovernmentRepository
from grms_budgeting.adapters.wire import event_to_message

__all__ = ["SqlUnitOfWork"]


class SqlUnitOfWork(UnitOfWork):
    """The budgeting unit of work over SQLAlchemy."""

    governments: SqlGovernmentRepository
    agencies: SqlAgencyRepository

    def __enter__(self) -> SqlUnitOfWork:
        super().__enter__()
        return self

    def _open(self, session: Session) -> None:
        self.governments = SqlGovernmentRepository(session)
        self.agencies = SqlAgencyRepository(session)

    def _collect_events(self) -> list[tuple[Message, str]]:
        out: list[tuple[Message, str]] = []
        for aggregate in [*self.governments.seen, *self.agencies.seen]:
            while aggregate.events:
                out.append(event_to_message(aggregate.events.pop(0)))
        return out
