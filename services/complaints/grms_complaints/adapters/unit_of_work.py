"""Complaints's unit of work: SQL repositories in one transaction, their events to the outbox."""

from __future__ import annotations

from grms_kit.clock import Clock
from grms_kit.db import Database
from grms_kit.tables import MessagingTables
from grms_kit.uow import UnitOfWork
from sqlalchemy.orm import Session

from grms_complaints.adapters.board import SqlComplaintBoard, write_board_delta
from grms_complaints.adapters.report_cache import ReportCache
from grms_complaints.adapters.repository import (
    SqlAgencyDirectory,
    SqlCategoryRepository,
    SqlComplainantRepository,
    SqlComplaintRepository,
    SqlNotificationRepository,
    remember_filed,
)
from grms_complaints.adapters.tables import reference
from grms_complaints.adapters.wire import event_to_message

__all__ = ["SqlUnitOfWork"]


class SqlUnitOfWork(UnitOfWork):
    """The complaints unit of work over SQLAlchemy."""

    complaints: SqlComplaintRepository
    complainants: SqlComplainantRepository
    directory: SqlAgencyDirectory
    categories: SqlCategoryRepository
    notifications: SqlNotificationRepository
    board: SqlComplaintBoard

    def __init__(
        self,
        db: Database,
        tables: MessagingTables,
        *,
        clock: Clock,
        source: str,
        reports: ReportCache | None = None,
    ) -> None:
        super().__init__(db, tables, clock=clock, source=source)
        self.reports = reports

    def __enter__(self) -> SqlUnitOfWork:
        super().__enter__()
        return self

    def _open(self, session: Session) -> None:
        self.complaints = SqlComplaintRepository(session, self.reports, self.writes)
        self.complainants = SqlComplainantRepository(session, self.clock, self.writes)
        self.directory = SqlAgencyDirectory(session, reference)
        self.categories = SqlCategoryRepository(session)
        self.notifications = SqlNotificationRepository(session)
        self.board = SqlComplaintBoard(session)

    def commit(self) -> None:
        """Turn the touched complaints' events into integration events, then commit with them."""
        for complaint in self.complaints.seen:
            while complaint.events:
                message, government, event_id = event_to_message(complaint.events.pop(0))
                self.publish(message, government=government, event_id=event_id)
        self.complaints.seen = []
        filed, self.complaints.filed = self.complaints.filed, []
        super().commit()
        remember_filed(self.session, filed)

    def _before_commit(self) -> None:
        """The board's sums change with the complaints, in the same transaction, as its last write.

        Many transactions add to the same few rows (today's row of the unrouted complaints): the
        upserts' row locks are then held only for the COMMIT itself. Under a group commit the
        batch's deltas are summed and written once, one upsert per key (kit.group_commit).
        """
        self.writes.add(write_board_delta, self.complaints.board_delta)
        self.complaints.board_delta = {}
