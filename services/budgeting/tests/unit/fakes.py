"""In-memory fakes of budgeting's ports: the real handlers run on them with no I/O."""

from __future__ import annotations

import copy

from grms_budgeting.domain.audit import GENESIS_HASH, AuditEntry, chain
from grms_budgeting.domain.budget import BudgetPlan, Ceiling, PlanVersion, StandardPrice
from grms_budgeting.domain.codes import AccountCode, NomenclatureCode
from grms_budgeting.domain.model import Agency, DomainEvent, Government
from grms_kit.clock import ManualClock
from grms_kit.errors import Conflict


class FakeGovernments:
    def __init__(self) -> None:
        self.rows: dict[str, Government] = {}
        self.seen: list[Government] = []

    def add(self, government: Government) -> None:
        self.rows[government.code] = government
        self.seen.append(government)

    def get(self, code: str) -> Government | None:
        return self.rows.get(code)

    def list(self, *, within: str, after: str, limit: int) -> list[Government]:
        codes = sorted(c for c in self.rows if c > after and (not within or c == within or c.startswith(within + ".")))
        return [self.rows[c] for c in codes[:limit]]


class FakeAgencies:
    def __init__(self) -> None:
        self.rows: dict[tuple[str, str], Agency] = {}
        self.seen: list[Agency] = []

    def add(self, agency: Agency) -> None:
        self.rows[(agency.government_code, agency.code)] = copy.deepcopy(agency)
        self.seen.append(agency)

    def get(self, government_code: str, code: str) -> Agency | None:
        found = self.rows.get((government_code, code))
        return copy.deepcopy(found) if found else None

    def save(self, agency: Agency, *, previous_version: int) -> None:
        stored = self.rows[(agency.government_code, agency.code)]
        if stored.version != previous_version:
            raise Conflict("changed by someone else")
        self.rows[(agency.government_code, agency.code)] = copy.deepcopy(agency)
        self.seen.append(agency)

    def list(self, government_code: str, *, after: str, limit: int) -> list[Agency]:
        keys = sorted(k for k in self.rows if k[0] == government_code and k[1] > after)
        return [self.rows[k] for k in keys[:limit]]


class FakeNomenclature:
    def __init__(self) -> None:
        self.rows: dict[tuple[int, str], NomenclatureCode] = {}

    def add_many(self, codes: list[NomenclatureCode]) -> None:
        for c in codes:
            self.rows[(c.fiscal_year, c.code)] = c

    def stored(self, fiscal_year: int, codes: set[str]) -> set[str]:
        return {c for c in codes if (fiscal_year, c) in self.rows}

    def get(self, fiscal_year: int, code: str) -> NomenclatureCode | None:
        return self.rows.get((fiscal_year, code))


class FakeAccounts:
    def __init__(self) -> None:
        self.rows: dict[tuple[int, str], AccountCode] = {}

    def add_many(self, codes: list[AccountCode]) -> None:
        for c in codes:
            self.rows[(c.fiscal_year, c.code)] = c

    def get_many(self, fiscal_year: int, codes: set[str]) -> dict[str, AccountCode]:
        return {c: self.rows[(fiscal_year, c)] for c in codes if (fiscal_year, c) in self.rows}


class FakePrices:
    def __init__(self) -> None:
        self.rows: dict[tuple[str, int, str], StandardPrice] = {}

    def add(self, price: StandardPrice) -> None:
        self.rows[(price.government_code, price.fiscal_year, price.code)] = price

    def get_many(self, government_code: str, fiscal_year: int, codes: set[str]) -> dict[str, StandardPrice]:
        return {
            c: self.rows[(government_code, fiscal_year, c)]
            for c in codes
            if (government_code, fiscal_year, c) in self.rows
        }

    def search(
        self, government_code: str, fiscal_year: int, *, words: list[str], account_code: str, after: str, limit: int
    ) -> list[StandardPrice]:
        found = [
            p
            for (g, y, c), p in sorted(self.rows.items())
            if g == government_code
            and y == fiscal_year
            and c > after
            and all(w in f"{p.code} {p.name} {p.specification}".lower() for w in words)
            and (not account_code or account_code in p.account_codes)
        ]
        return found[:limit]


class FakeCeilings:
    def __init__(self) -> None:
        self.rows: dict[tuple[str, int, str, str], Ceiling] = {}

    def get(self, government_code: str, fiscal_year: int, agency_code: str, sub_activity_code: str) -> Ceiling | None:
        found = self.rows.get((government_code, fiscal_year, agency_code, sub_activity_code))
        return copy.deepcopy(found) if found else None

    def add(self, ceiling: Ceiling) -> None:
        key = (ceiling.government_code, ceiling.fiscal_year, ceiling.agency_code, ceiling.sub_activity_code)
        self.rows[key] = copy.deepcopy(ceiling)

    def save(self, ceiling: Ceiling, *, previous_version: int) -> None:
        key = (ceiling.government_code, ceiling.fiscal_year, ceiling.agency_code, ceiling.sub_activity_code)
        if self.rows[key].version != previous_version:
            raise Conflict("changed by someone else")
        self.rows[key] = copy.deepcopy(ceiling)


class FakePlans:
    """Plans kept as deep copies; snapshots and audit chains linked as the SQL repository does."""

    def __init__(self) -> None:
        self.rows: dict[str, BudgetPlan] = {}
        self.snapshots: dict[tuple[str, int], PlanVersion] = {}
        self.chains: dict[str, list[AuditEntry]] = {}
        self.seen: list[BudgetPlan] = []

    def _store(self, plan: BudgetPlan, request_id: str) -> None:
        for snapshot in plan.snapshots:
            self.snapshots[(plan.id, snapshot.version)] = snapshot
        entries = self.chains.setdefault(plan.id, [])
        head = (entries[-1].seq, entries[-1].hash) if entries else (0, GENESIS_HASH)
        entries.extend(
            chain(plan.id, plan.audit, after_seq=head[0], prev_hash=head[1], at=plan.updated_at, request_id=request_id)
        )
        plan.snapshots.clear()
        plan.audit.clear()
        plan.changed_lines.clear()
        stored = copy.deepcopy(plan)
        stored.events = []
        self.rows[plan.id] = stored
        self.seen.append(plan)

    def add(self, plan: BudgetPlan, *, request_id: str) -> None:
        self._store(plan, request_id)

    def get(self, plan_id: str) -> BudgetPlan | None:
        found = self.rows.get(plan_id)
        return copy.deepcopy(found) if found else None

    def find(self, government_code: str, agency_code: str, sub_activity_code: str, fiscal_year: int) -> str | None:
        for p in self.rows.values():
            if (p.government_code, p.agency_code, p.sub_activity_code, p.fiscal_year) == (
                government_code,
                agency_code,
                sub_activity_code,
                fiscal_year,
            ):
                return p.id
        return None

    def save(self, plan: BudgetPlan, *, previous_version: int, request_id: str) -> None:
        if self.rows[plan.id].version != previous_version:
            raise Conflict("changed by someone else")
        self._store(plan, request_id)

    def agency_total(self, government_code: str, fiscal_year: int, agency_code: str, *, excluding: str) -> int:
        return sum(
            p.total
            for p in self.rows.values()
            if (p.government_code, p.fiscal_year, p.agency_code) == (government_code, fiscal_year, agency_code)
            and p.id != excluding
        )

    def versions(self, plan_id: str) -> list[PlanVersion]:
        return [v for (pid, _), v in sorted(self.snapshots.items()) if pid == plan_id]

    def version(self, plan_id: str, version: int) -> PlanVersion | None:
        return self.snapshots.get((plan_id, version))

    def audit_entries(self, plan_id: str, *, after_seq: int, limit: int) -> list[AuditEntry]:
        return [e for e in self.chains.get(plan_id, []) if e.seq > after_seq][:limit]


class FakeUnitOfWork:
    """Commits by moving raised events to `published`; nothing else happens."""

    def __init__(self) -> None:
        self.governments = FakeGovernments()
        self.agencies = FakeAgencies()
        self.nomenclature = FakeNomenclature()
        self.accounts = FakeAccounts()
        self.prices = FakePrices()
        self.ceilings = FakeCeilings()
        self.plans = FakePlans()
        self.clock = ManualClock()
        self.published: list[DomainEvent] = []
        self.commits = 0

    def __enter__(self) -> FakeUnitOfWork:
        self.governments.seen = []
        self.agencies.seen = []
        self.plans.seen = []
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def commit(self) -> None:
        self.commits += 1
        for aggregate in [*self.governments.seen, *self.agencies.seen, *self.plans.seen]:
            self.published.extend(aggregate.events)
            aggregate.events.clear()
