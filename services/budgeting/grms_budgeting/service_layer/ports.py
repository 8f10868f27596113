"""What the use cases need from the outside world, as protocols the adapters implement."""

from __future__ import annotations

from typing import Protocol

from grms_kit.clock import Clock

from grms_budgeting.domain.model import Agency, Government

__all__ = ["AgencyRepository", "GovernmentRepository", "UnitOfWork"]


class GovernmentRepository(Protocol):
    """Governments by code."""

    def add(self, government: Government) -> None: ...
    def get(self, code: str) -> Government | None: ...
    def list(self, *, within: str, after: str, limit: int) -> list[Government]: ...


class AgencyRepository(Protocol):
    """Agencies by (government code, agency code)."""

    def add(self, agency: Agency) -> None: ...
    def get(self, government_code: str, code: str) -> Agency | None: ...
    def save(self, agency: Agency, *, previous_version: int) -> None: ...
    def list(self, government_code: str, *, after: str, limit: int) -> list[Agency]: ...


class UnitOfWork(Protocol):
    """One transaction over the repositories; `commit()` also stores the raised events."""

    governments: GovernmentRepository
    agencies: AgencyRepository
    clock: Clock

    def __enter__(self) -> UnitOfWork: ...
    def __exit__(self, *exc: object) -> None: ...
    def commit(self) -> None: ...
