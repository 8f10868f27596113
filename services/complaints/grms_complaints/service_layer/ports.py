"""What the complaint use cases need from the outside world, as protocols the adapters implement."""

from __future__ import annotations

import datetime as dt
from typing import Protocol

from grms_kit.clock import Clock

from grms_complaints.domain.model import Complainant, Complaint

__all__ = [
    "AgencyDirectory",
    "ComplainantRepository",
    "ComplaintRepository",
    "UnitOfWork",
]


class ComplaintRepository(Protocol):
    """Complaints by ticket id, saved with optimistic concurrency on `version`."""

    def add(self, complaint: Complaint) -> None: ...
    def get(self, ticket_id: str) -> Complaint | None: ...
    def save(self, complaint: Complaint) -> None: ...
    def due_for_sla(self, now: dt.datetime, limit: int) -> list[str]: ...


class ComplainantRepository(Protocol):
    """The complainants' identities, apart from the complaints; every read is logged."""

    def add(self, complainant: Complainant) -> None: ...
    def get(self, reporter_ref: str) -> Complainant | None: ...
    def log_access(
        self, *, reporter_ref: str, ticket_id: str, actor: str, reason: str, government_code: str, at: dt.datetime
    ) -> None: ...


class AgencyDirectory(Protocol):
    """This service's copy of the governments and agencies (from budgeting's events)."""

    def government_exists(self, code: str) -> bool: ...
    def agency_exists(self, government_code: str, code: str) -> bool: ...


class UnitOfWork(Protocol):
    """One transaction over the repositories; `commit()` also stores the raised events."""

    complaints: ComplaintRepository
    complainants: ComplainantRepository
    directory: AgencyDirectory
    clock: Clock

    def __enter__(self) -> UnitOfWork: ...
    def __exit__(self, *exc: object) -> None: ...
    def commit(self) -> None: ...
