"""Planning's unit of work: SQL repositories in one transaction, their events to the outbox."""

from __future__ import annotations

from google.protobuf.message import Message
from grms_kit.uow import UnitOfWork
from sqlalchemy.orm import Session

from grms_planning.adapters.repository import (
    SqlComplaintClusterRepository,
    SqlPackageRepository,
    SqlProposalRepository,
    SqlReferenceData,
    SqlStageRepository,
    SqlSubActivityRepository,
)
from grms_planning.adapters.wire import event_to_message
from grms_planning.domain.model import SubActivity
from grms_planning.domain.procurement import ProcurementPackage
from grms_planning.domain.proposal import Proposal

__all__ = ["SqlUnitOfWork"]


class SqlUnitOfWork(UnitOfWork):
    """The planning unit of work over SQLAlchemy."""

    sub_activities: SqlSubActivityRepository
    packages: SqlPackageRepository
    proposals: SqlProposalRepository
    stages: SqlStageRepository
    clusters: SqlComplaintClusterRepository
    reference: SqlReferenceData

    def __enter__(self) -> SqlUnitOfWork:
        super().__enter__()
        return self

    def _open(self, session: Session) -> None:
        self.sub_activities = SqlSubActivityRepository(session)
        self.packages = SqlPackageRepository(session)
        self.proposals = SqlProposalRepository(session)
        self.stages = SqlStageRepository(session)
        self.clusters = SqlComplaintClusterRepository(session)
        self.reference = SqlReferenceData(session)

    def _collect_events(self) -> list[tuple[Message, str]]:
        out: list[tuple[Message, str]] = []
        aggregates: list[SubActivity | ProcurementPackage | Proposal] = [
            *self.sub_activities.seen,
            *self.packages.seen,
            *self.proposals.seen,
        ]
        for aggregate in aggregates:
            while aggregate.events:
                out.append(event_to_message(aggregate.events.pop(0)))
        return out
