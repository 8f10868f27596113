"""What the planning use cases need from the outside world, as protocols the adapters implement."""

from __future__ import annotations

import datetime as dt
from typing import Any, Protocol

from grms_kit.clock import Clock

from grms_planning.domain.budget_link import ApprovedBudget
from grms_planning.domain.model import SubActivity
from grms_planning.domain.procurement import ProcurementPackage
from grms_planning.domain.proposal import Proposal, ProposalStatus
from grms_planning.domain.recurring import ComplaintCluster
from grms_planning.domain.stages import StageBook

__all__ = [
    "ApprovedBudgetRepository",
    "ComplaintClusterRepository",
    "PackageRepository",
    "ProposalRepository",
    "ReferenceData",
    "StageRepository",
    "SubActivityRepository",
    "UnitOfWork",
]


class SubActivityRepository(Protocol):
    """Sub-activities by id, and by (government, fiscal year, agency, code)."""

    def add(self, sub_activity: SubActivity) -> None: ...
    def get(self, sub_activity_id: str) -> SubActivity | None: ...
    def find(self, government_code: str, fiscal_year: int, agency_code: str, code: str) -> SubActivity | None: ...
    def codes(self, government_code: str, fiscal_year: int, agency_code: str) -> set[str]: ...
    def approved_amounts(self, government_code: str, fiscal_year: int, agency_code: str) -> dict[str, int]: ...
    def add_many(self, sub_activities: list[SubActivity]) -> None: ...
    def save(self, sub_activity: SubActivity, *, previous_version: int) -> None: ...
    def list(
        self, government_code: str, fiscal_year: int, *, agency_code: str, after: tuple[str, ...], limit: int | None
    ) -> list[SubActivity]: ...


class StageRepository(Protocol):
    """The stage books of agency-years, with their stages and the snapshots of closed stages."""

    def get(self, government_code: str, agency_code: str, fiscal_year: int) -> StageBook | None: ...
    def add(self, book: StageBook) -> bool: ...
    def save(self, book: StageBook, *, previous_version: int) -> None: ...
    def count_edit(self, government_code: str, agency_code: str, fiscal_year: int) -> bool: ...
    def content(
        self, government_code: str, agency_code: str, fiscal_year: int, number: int
    ) -> dict[str, Any] | None: ...


class PackageRepository(Protocol):
    """Procurement packages (RUP), ordered by agency, sub-activity code, account code and id."""

    def add(self, package: ProcurementPackage) -> None: ...
    def add_many(self, packages: list[ProcurementPackage]) -> None: ...
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


class ApprovedBudgetRepository(Protocol):
    """The amounts budgeting approved, by (government, fiscal year, agency, sub-activity code)."""

    def get(
        self, government_code: str, fiscal_year: int, agency_code: str, sub_activity_code: str
    ) -> ApprovedBudget | None: ...
    def put(self, approval: ApprovedBudget, *, replaces: ApprovedBudget | None) -> None: ...


class ProposalRepository(Protocol):
    """Citizens' proposals by public id, and a government's proposals oldest first."""

    def add(self, proposal: Proposal) -> None: ...
    def get(self, public_id: str) -> Proposal | None: ...
    def save(self, proposal: Proposal, *, previous_version: int) -> None: ...
    def list(
        self, government_code: str, *, status: ProposalStatus | None, after: tuple[dt.datetime, str] | None, limit: int
    ) -> list[Proposal]: ...


class ComplaintClusterRepository(Protocol):
    """Clusters of complaints by (government, year, village, category)."""

    def get(
        self, government_code: str, year: int, village_code: str, category_code: str
    ) -> ComplaintCluster | None: ...
    def add(self, cluster: ComplaintCluster) -> None: ...
    def save(self, cluster: ComplaintCluster, *, previous_version: int) -> None: ...
    def list(self, government_code: str, year: int, *, min_count: int, limit: int) -> list[ComplaintCluster]: ...


class ReferenceData(Protocol):
    """This service's copy of budgeting's governments and agencies."""

    def government_known(self, code: str) -> bool: ...
    def agency_known(self, government_code: str, code: str) -> bool: ...


class UnitOfWork(Protocol):
    """One transaction over the repositories; `commit()` also stores the raised events."""

    sub_activities: SubActivityRepository
    packages: PackageRepository
    proposals: ProposalRepository
    stages: StageRepository
    clusters: ComplaintClusterRepository
    reference: ReferenceData
    clock: Clock

    def __enter__(self) -> UnitOfWork: ...
    def __exit__(self, *exc: object) -> None: ...
    def commit(self) -> None: ...
