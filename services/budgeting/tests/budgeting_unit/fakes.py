"""In-memory fakes of budgeting's ports: the real handlers run on them with no I/O."""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt

from grms_budgeting.domain.audit import GENESIS_HASH, AuditEntry, chain
from grms_budgeting.domain.budget import BudgetPlan, Ceiling, PlanListing, PlanState, PlanVersion, StandardPrice
from grms_budgeting.domain.codes import AccountCode, NomenclatureCode
from grms_budgeting.domain.indicators import PlannedSubActivity
from grms_budgeting.domain.model import Agency, DomainEvent, Government
from grms_budgeting.domain.treasury import (
    CashPlan,
    DpaLine,
    PaymentKind,
    PaymentRequest,
    PaymentState,
    SpendingAllotment,
)
from grms_kit.clock import ManualClock
from grms_kit.errors import Conflict, FailedPrecondition


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
        plan.new_lines.clear()
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

    def list(
        self,
        government_code: str,
        *,
        agency_codes: frozenset[str],
        fiscal_year: int,
        state: PlanState | None,
        after: tuple[str, str, str] | None,
        limit: int,
    ) -> list[PlanListing]:
        found = sorted(
            (
                p
                for p in self.rows.values()
                if p.government_code == government_code
                and (not agency_codes or p.agency_code in agency_codes)
                and (not fiscal_year or p.fiscal_year == fiscal_year)
                and (state is None or p.state is state)
                and (after is None or (p.agency_code, p.sub_activity_code, p.id) > after)
            ),
            key=lambda p: (p.agency_code, p.sub_activity_code, p.id),
        )
        return [
            PlanListing(
                p.id,
                p.government_code,
                p.agency_code,
                p.sub_activity_code,
                p.fiscal_year,
                p.state,
                p.version,
                p.total,
                len(p.lines),
                p.revision,
                p.revision_kind,
                p.approved_total,
                p.created_at,
                p.updated_at,
            )
            for p in found[:limit]
        ]


class FakePlanned:
    """Planning's sub-activities as the consumer would have stored them."""

    def __init__(self) -> None:
        self.rows: dict[tuple[str, int, str, str], PlannedSubActivity] = {}

    def get(
        self, government_code: str, fiscal_year: int, agency_code: str, sub_activity_code: str
    ) -> PlannedSubActivity | None:
        return self.rows.get((government_code, fiscal_year, agency_code, sub_activity_code))

    def put(self, value: PlannedSubActivity) -> None:
        key = (value.government_code, value.fiscal_year, value.agency_code, value.sub_activity_code)
        self.rows[key] = value


class FakeTreasury:
    """Cash plans, SPDs, requests and the line commitments, with the SQL repository's rules."""

    def __init__(self, plans: FakePlans) -> None:
        self.plans = plans
        self.cash: dict[tuple[str, int], CashPlan] = {}
        self.spds: dict[str, SpendingAllotment] = {}
        self.requests: dict[str, PaymentRequest] = {}
        self.lines: dict[tuple[str, int], list[int]] = {}  # (plan, line) -> [committed, disbursed]
        self.dpa: dict[tuple[str, int], tuple[str, int]] = {}  # (plan, line) -> (account, amount) in force
        self.proposals: dict[tuple[str, int], CashPlan] = {}
        self.counters: dict[tuple[str, int, str], int] = {}
        self.seen: list[PaymentRequest] = []

    def lock_plan(self, plan_id: str) -> None:
        return None

    def next_number(self, government_code: str, fiscal_year: int, doc: str) -> int:
        return self.next_numbers(government_code, fiscal_year, doc, 1)

    def next_numbers(self, government_code: str, fiscal_year: int, doc: str, count: int) -> int:
        key = (government_code, fiscal_year, doc)
        self.counters[key] = self.counters.get(key, 0) + count
        return self.counters[key] - count + 1

    def cash_plans(self, plan_id: str) -> list[CashPlan]:
        return [c for (p, _), c in sorted(self.cash.items()) if p == plan_id]

    def set_cash_plan(self, value: CashPlan, *, now: object, proposed: bool = False) -> None:
        (self.proposals if proposed else self.cash)[(value.plan_id, value.line_number)] = value

    def proposed_cash_plans(self, plan_id: str) -> list[CashPlan]:
        return [c for (p, _), c in sorted(self.proposals.items()) if p == plan_id]

    def replace_cash_plans(self, plan_id: str, values: list[CashPlan], *, now: object) -> None:
        for store in (self.cash, self.proposals):
            for key in [k for k in store if k[0] == plan_id]:
                del store[key]
        for value in values:
            self.cash[(plan_id, value.line_number)] = value

    def dpa_line(self, plan_id: str, line_number: int) -> DpaLine | None:
        found = self.dpa.get((plan_id, line_number))
        if found is None:
            return None
        committed, disbursed = self.lines.get((plan_id, line_number), [0, 0])
        return DpaLine(line_number, found[0], found[1], committed, disbursed)

    def dpa_lines(self, plan_id: str) -> list[DpaLine]:
        return [line for (p, n) in sorted(self.dpa) if p == plan_id and (line := self.dpa_line(p, n))]

    def adopt_dpa(self, plan_id: str) -> None:
        plan = self.plans.rows[plan_id]
        for p, n in [k for k in self.dpa if k[0] == plan_id]:
            committed = self.lines.get((p, n), [0, 0])[0]
            amount = plan.lines[n].amount if n in plan.lines else 0
            if committed > amount:
                raise FailedPrecondition(f"line {n} has Rp{committed:,} committed on it")
            if n not in plan.lines:
                del self.dpa[(p, n)]
        for n, line in plan.lines.items():
            self.dpa[(plan_id, n)] = (line.account_code, line.amount)

    def disbursements(self, plan_id: str) -> list[tuple[int, int, dt.datetime]]:
        return [
            (r.line_number, r.amount, r.updated_at)
            for r in self.requests.values()
            if r.plan_id == plan_id and r.state is PaymentState.DISBURSED
        ]

    def add_allotment(self, value: SpendingAllotment) -> None:
        self.spds[value.id] = value

    def get_allotment(self, allotment_id: str) -> SpendingAllotment | None:
        return self.spds.get(allotment_id)

    def allotments(self, plan_id: str) -> list[SpendingAllotment]:
        return [a for a in self.spds.values() if a.plan_id == plan_id]

    def reserve(self, plan_id: str, line_number: int, allotment_id: str, amount: int) -> None:
        line = self.dpa_line(plan_id, line_number)
        total, committed = (line.amount, line.committed) if line else (0, 0)
        if committed + amount > total:
            raise FailedPrecondition(f"DPA line {line_number} has Rp{total - committed:,} left of Rp{total:,}")
        spd = self.spds[allotment_id]
        if spd.committed + amount > spd.amount:
            raise FailedPrecondition(f"SPD {spd.number} has Rp{spd.remainder:,} left")
        self.lines.setdefault((plan_id, line_number), [0, 0])[0] += amount
        self.spds[allotment_id] = dataclasses.replace(spd, committed=spd.committed + amount)

    def release(self, plan_id: str, line_number: int, allotment_id: str, amount: int) -> None:
        self.lines[(plan_id, line_number)][0] -= amount
        spd = self.spds[allotment_id]
        self.spds[allotment_id] = dataclasses.replace(spd, committed=spd.committed - amount)

    def settle(self, plan_id: str, line_number: int, allotment_id: str, amount: int) -> None:
        balance = self.lines[(plan_id, line_number)]
        spd = self.spds[allotment_id]
        if balance[1] + amount > balance[0] or spd.disbursed + amount > spd.committed:
            raise FailedPrecondition("more than is committed")
        balance[1] += amount
        self.spds[allotment_id] = dataclasses.replace(spd, disbursed=spd.disbursed + amount)

    def add_request(self, value: PaymentRequest) -> None:
        self.requests[value.id] = copy.deepcopy(value)
        self.seen.append(value)

    def add_requests(self, values: list[PaymentRequest]) -> None:
        for value in values:
            self.add_request(value)

    def get_request(self, request_id: str) -> PaymentRequest | None:
        found = self.requests.get(request_id)
        return copy.deepcopy(found) if found else None

    def find_external(self, government_code: str, external_request_id: str) -> PaymentRequest | None:
        for r in self.requests.values():
            if (r.government_code, r.external_request_id) == (government_code, external_request_id):
                return copy.deepcopy(r)
        return None

    def save_request(self, value: PaymentRequest, *, previous_version: int) -> None:
        if self.requests[value.id].version != previous_version:
            raise Conflict("changed by someone else")
        stored = copy.deepcopy(value)
        stored.events = []
        self.requests[value.id] = stored
        self.seen.append(value)

    def list_requests(
        self, government_code: str, *, agency_code: str, state: PaymentState | None, after: str, limit: int
    ) -> list[PaymentRequest]:
        found = [
            r
            for _, r in sorted(self.requests.items())
            if r.government_code == government_code
            and r.id > after
            and (not agency_code or r.agency_code == agency_code)
            and (state is None or r.state is state)
        ]
        return found[:limit]

    def count_kind(
        self, government_code: str, agency_code: str, fiscal_year: int, kind: PaymentKind, states: set[PaymentState]
    ) -> int:
        return sum(
            1
            for r in self.requests.values()
            if (r.government_code, r.agency_code, r.fiscal_year, r.kind)
            == (government_code, agency_code, fiscal_year, kind)
            and r.state in states
        )


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
        self.planned = FakePlanned()
        self.treasury = FakeTreasury(self.plans)
        self.clock = ManualClock()
        self.published: list[DomainEvent] = []
        self.commits = 0

    def __enter__(self) -> FakeUnitOfWork:
        self.governments.seen = []
        self.agencies.seen = []
        self.plans.seen = []
        self.treasury.seen = []
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def commit(self) -> None:
        self.commits += 1
        for aggregate in [*self.governments.seen, *self.agencies.seen, *self.plans.seen, *self.treasury.seen]:
            self.published.extend(aggregate.events)
            aggregate.events.clear()
