"""What the use cases need from the outside world, as protocols the adapters implement."""

from __future__ import annotations

from typing import Protocol

from grms_kit.clock import Clock

from grms_budgeting.domain.audit import AuditEntry
from grms_budgeting.domain.budget import BudgetPlan, Ceiling, PlanVersion, StandardPrice
from grms_budgeting.domain.codes import AccountCode, NomenclatureCode
from grms_budgeting.domain.model import Agency, Government

__all__ = [
    "AccountCodeRepository",
    "AgencyRepository",
    "BudgetPlanRepository",
    "CeilingRepository",
    "GovernmentRepository",
    "NomenclatureRepository",
    "StandardPriceRepository",
    "UnitOfWork",
]


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


class NomenclatureRepository(Protocol):
    """Nomenclature codes by (fiscal year, code)."""

    def add_many(self, codes: list[NomenclatureCode]) -> None: ...
    def stored(self, fiscal_year: int, codes: set[str]) -> set[str]: ...
    def get(self, fiscal_year: int, code: str) -> NomenclatureCode | None: ...


class AccountCodeRepository(Protocol):
    """Account codes by (fiscal year, canonical code)."""

    def add_many(self, codes: list[AccountCode]) -> None: ...
    def get_many(self, fiscal_year: int, codes: set[str]) -> dict[str, AccountCode]: ...


class StandardPriceRepository(Protocol):
    """A government's standard price list by (government, fiscal year, item code)."""

    def add(self, price: StandardPrice) -> None: ...
    def get_many(self, government_code: str, fiscal_year: int, codes: set[str]) -> dict[str, StandardPrice]: ...
    def search(
        self, government_code: str, fiscal_year: int, *, words: list[str], account_code: str, after: str, limit: int
    ) -> list[StandardPrice]: ...


class CeilingRepository(Protocol):
    """Ceilings by (government, fiscal year, agency, sub-activity or "")."""

    def get(
        self, government_code: str, fiscal_year: int, agency_code: str, sub_activity_code: str
    ) -> Ceiling | None: ...
    def add(self, ceiling: Ceiling) -> None: ...
    def save(self, ceiling: Ceiling, *, previous_version: int) -> None: ...


class BudgetPlanRepository(Protocol):
    """Budget plans with their lines, snapshots and audit chains.

    `add` and `save` also store the plan's pending snapshots and link its pending audit
    records onto its chain, stamped with `request_id`; `save` raises Conflict when the plan
    is no longer at `previous_version`.
    """

    def add(self, plan: BudgetPlan, *, request_id: str) -> None: ...
    def get(self, plan_id: str) -> BudgetPlan | None: ...
    def find(self, government_code: str, agency_code: str, sub_activity_code: str, fiscal_year: int) -> str | None: ...
    def save(self, plan: BudgetPlan, *, previous_version: int, request_id: str) -> None: ...
    def agency_total(self, government_code: str, fiscal_year: int, agency_code: str, *, excluding: str) -> int: ...
    def versions(self, plan_id: str) -> list[PlanVersion]: ...
    def version(self, plan_id: str, version: int) -> PlanVersion | None: ...
    def audit_entries(self, plan_id: str, *, after_seq: int, limit: int) -> list[AuditEntry]: ...


class UnitOfWork(Protocol):
    """One transaction over the repositories; `commit()` also stores the raised events."""

    governments: GovernmentRepository
    agencies: AgencyRepository
    nomenclature: NomenclatureRepository
    accounts: AccountCodeRepository
    prices: StandardPriceRepository
    ceilings: CeilingRepository
    plans: BudgetPlanRepository
    clock: Clock

    def __enter__(self) -> UnitOfWork: ...
    def __exit__(self, *exc: object) -> None: ...
    def commit(self) -> None: ...
