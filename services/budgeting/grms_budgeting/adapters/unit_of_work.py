"""Budgeting's unit of work: SQL repositories in one transaction, their events to the outbox."""

from __future__ import annotations

from google.protobuf.message import Message
from grms_kit.uow import UnitOfWork
from sqlalchemy.orm import Session

from grms_budgeting.adapters.budget_repository import (
    SqlAccountCodeRepository,
    SqlBudgetPlanRepository,
    SqlCeilingRepository,
    SqlNomenclatureRepository,
    SqlPlannedSubActivityRepository,
    SqlStandardPriceRepository,
)
from grms_budgeting.adapters.repository import SqlAgencyRepository, SqlGovernmentRepository
from grms_budgeting.adapters.treasury_repository import SqlTreasuryRepository
from grms_budgeting.adapters.wire import event_to_message
from grms_budgeting.domain.model import DomainEvent

__all__ = ["SqlUnitOfWork"]


class SqlUnitOfWork(UnitOfWork):
    """The budgeting unit of work over SQLAlchemy."""

    governments: SqlGovernmentRepository
    agencies: SqlAgencyRepository
    nomenclature: SqlNomenclatureRepository
    accounts: SqlAccountCodeRepository
    prices: SqlStandardPriceRepository
    ceilings: SqlCeilingRepository
    plans: SqlBudgetPlanRepository
    planned: SqlPlannedSubActivityRepository
    treasury: SqlTreasuryRepository

    def __enter__(self) -> SqlUnitOfWork:
        super().__enter__()
        return self

    def _open(self, session: Session) -> None:
        self.governments = SqlGovernmentRepository(session)
        self.agencies = SqlAgencyRepository(session)
        self.nomenclature = SqlNomenclatureRepository(session)
        self.accounts = SqlAccountCodeRepository(session)
        self.prices = SqlStandardPriceRepository(session)
        self.ceilings = SqlCeilingRepository(session)
        self.plans = SqlBudgetPlanRepository(session)
        self.planned = SqlPlannedSubActivityRepository(session)
        self.treasury = SqlTreasuryRepository(session)

    def _collect_events(self) -> list[tuple[Message, str]]:
        out: list[tuple[Message, str]] = []
        pending: list[list[DomainEvent]] = [a.events for a in self.governments.seen]
        pending += [a.events for a in self.agencies.seen] + [p.events for p in self.plans.seen]
        pending += [r.events for r in self.treasury.seen]
        for events in pending:
            while events:
                out.append(event_to_message(events.pop(0)))
        return out
