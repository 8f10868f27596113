"""What the planning use cases need from the outside world, as protocols the adapters implement."""

from __future__ import annotations

from typing import Protocol

from grms_kit.clock import Clock

from grms_planning.domain.model import SubActivity
from grms_planning.domain.procurement import ProcurementPackage

__all__ = ["PackageRepository", "ReferenceData", "SubActivityRepository", "UnitOfWork"]


class SubActivityRepository(Protocol):
    """Sub-activities by id, and by (government, fiscal year, agency, code)."""

    def add(self, sub_activity: SubActivity) -> None: ...
    def get(self, sub_activity_id: str) -> SubActivity | None: ...
    def find(self, government_code: str, fiscal_year: int, agency_code: str, code: str) -> SubActivity | None: ...
    def save(self, sub_activity: SubActivity, *, previous_version: int) -> None: ...
    def list(
        self, government_code: str, fiscal_year: int, *, agency_code: str, after: tuple[str, ...], limit: int
    ) -> list[SubActivity]: ...


class PackageRepository(Protocol):
    """Procurement packages (RUP), ordered by agency, sub-activity code, account code and id."""

    def add(self, package: ProcurementPackage) -> None: ...
    def list(
        self,
        government_code: str,
        fiscal_year: int,
        *,
        agency_code: str,
        sub_activity_id: str,
        after: tuple[str, ...],
        limit: int | None,
    ) -> list[ProcurementPackage]: ...


class ReferenceData(Protocol):
    """This service's copy of budgeting's governments and agencies."""

    def government_known(self, code: str) -> bool: ...
    def agency_known(self, government_code: str, code: str) -> bool: ...


class UnitOfWork(Protocol):
    """One transaction over the repositories; `commit()` also stores the raised events."""

    sub_activities: SubActivityRepository
    packages: PackageRepository
    reference: ReferenceData
    clock: Clock

    def __enter__(self) -> UnitOfWork: ...
    def __exit__(self, *exc: object) -> None: ...
    def commit(self) -> None: ...
