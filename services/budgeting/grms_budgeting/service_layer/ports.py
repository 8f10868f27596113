"""What the use cases need from the outside world, as protocols the adapters implement."""

from __future__ import annotations

from typing import Protocol

from grms_kit.clock import Clock

from grms_budgeting.domain.audit import AuditEntry
from grms_budgeting.domain.budget import BudgetPlan, Ceiling, PlanListing, PlanState, PlanVersion, StandardPrice
from grms_budgeting.domain.codes import AccountCode, NomenclatureCode
from grms_budgeting.domain.indicators import PlannedSubActivity
from grms_budgeting.domain.model import Agency, Government
from grms_budgeting.domain.treasury import CashPlan, PaymentKind, PaymentRequest, PaymentState, SpendingAllotment

__all__ = [
    "AccountCodeRepository",
    "AgencyRepository",
    "BudgetPlanRepository",
    "CeilingRepository",
    "GovernmentRepository",
    "NomenclatureRepository",
    "PlannedSubActivityRepository",
    "StandardPriceRepository",
    "TreasuryRepository",
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
    def list(
        self,
        government_code: str,
        *,
        agency_codes: frozenset[str],
        fiscal_year: int,
        state: PlanState | None,
        after: tuple[str, str, str] | None,
        limit: int,
    ) -> list[PlanListing]: ...


class PlannedSubActivityRepository(Protocol):
    """Planning's sub-activities and their output indicators by (government, year, agency, code)."""

    def get(
        self, government_code: str, fiscal_year: int, agency_code: str, sub_activity_code: str
    ) -> PlannedSubActivity | None: ...
    def put(self, value: PlannedSubActivity) -> None: ...


class TreasuryRepository(Protocol):
    """e-penatausahaan: cash plans, SPDs, payment requests and the DPA lines' commitments.

    `reserve` commits an amount on a DPA line and an SPD, or raises FailedPrecondition when
    either has less left — atomically, whatever runs at the same time; `settle` counts a
    committed amount as disbursed; `release` gives a commitment back.
    """

    def lock_plan(self, plan_id: str) -> None: ...
    def next_number(self, government_code: str, fiscal_year: int, doc: str) -> int: ...
    def cash_plans(self, plan_id: str) -> list[CashPlan]: ...
    def set_cash_plan(self, value: CashPlan, *, now: object) -> None: ...
    def add_allotment(self, value: SpendingAllotment) -> None: ...
    def get_allotment(self, allotment_id: str) -> SpendingAllotment | None: ...
    def allotments(self, plan_id: str) -> list[SpendingAllotment]: ...
    def line_balance(self, plan_id: str, line_number: int) -> tuple[int, int, int]: ...
    def reserve(self, plan_id: str, line_number: int, allotment_id: str, amount: int) -> None: ...
    def release(self, plan_id: str, line_number: int, allotment_id: str, amount: int) -> None: ...
    def settle(self, plan_id: str, line_number: int, allotment_id: str, amount: int) -> None: ...
    def add_request(self, value: PaymentRequest) -> None: ...
    def get_request(self, request_id: str) -> PaymentRequest | None: ...
    def find_external(self, government_code: str, external_request_id: str) -> PaymentRequest | None: ...
    def save_request(self, value: PaymentRequest, *, previous_version: int) -> None: ...
    def list_requests(
        self, government_code: str, *, agency_code: str, state: PaymentState | None, after: str, limit: int
    ) -> list[PaymentRequest]: ...
    def count_kind(
        self, government_code: str, agency_code: str, fiscal_year: int, kind: PaymentKind, states: set[PaymentState]
    ) -> int: ...


class UnitOfWork(Protocol):
    """One transaction over the repositories; `commit()` also stores the raised events."""

    governments: GovernmentRepository
    agencies: AgencyRepository
    nomenclature: NomenclatureRepository
    accounts: AccountCodeRepository
    prices: StandardPriceRepository
    ceilings: CeilingRepository
    plans: BudgetPlanRepository
    planned: PlannedSubActivityRepository
    treasury: TreasuryRepository
    clock: Clock

    def __enter__(self) -> UnitOfWork: ...
    def __exit__(self, *exc: object) -> None: ...
    def commit(self) -> None: ...
