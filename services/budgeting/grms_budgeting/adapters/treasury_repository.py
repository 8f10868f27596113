"""SQL repository of e-penatausahaan: cash plans, SPDs, payment requests and the DPA's commitments.

Every change of a commitment is one conditional UPDATE (`committed + x <= amount`): the
database decides, so two concurrent requests cannot both take the last rupiah, on SQLite
(one writer) or PostgreSQL (the row lock re-checks the condition after the wait).
"""

from __future__ import annotations

from typing import Any

from grms_kit.errors import Conflict, FailedPrecondition
from sqlalchemy import delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from grms_budgeting.adapters.tables import (
    budget_line,
    budget_plan,
    cash_plan,
    cash_plan_proposal,
    document_counter,
    payment_request,
    spending_allotment,
)
from grms_budgeting.domain.treasury import (
    Beneficiary,
    CashPlan,
    DpaLine,
    PaymentKind,
    PaymentRequest,
    PaymentState,
    SpendingAllotment,
)

__all__ = ["SqlTreasuryRepository"]


class SqlTreasuryRepository:
    """Cash plans, SPDs and payment requests of approved plans."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.seen: list[PaymentRequest] = []

    # ---- serialisation and numbering ----

    def lock_plan(self, plan_id: str) -> None:
        """Hold the plan's row until commit (PostgreSQL); SPDs and cash plans of a plan change one at a time."""
        self.session.execute(select(budget_plan.c.id).where(budget_plan.c.id == plan_id).with_for_update())

    def next_number(self, government_code: str, fiscal_year: int, doc: str) -> int:
        """The next sequence number of a document type, atomically (INSERT … ON CONFLICT DO UPDATE)."""
        return self.next_numbers(government_code, fiscal_year, doc, 1)

    def next_numbers(self, government_code: str, fiscal_year: int, doc: str, count: int) -> int:
        """Reserve `count` consecutive sequence numbers atomically; the first of them."""
        t = document_counter
        dialect = postgresql if self.session.get_bind().dialect.name == "postgresql" else sqlite
        stmt = dialect.insert(t).values(government_code=government_code, fiscal_year=fiscal_year, doc=doc, last=count)
        stmt = stmt.on_conflict_do_update(
            index_elements=[t.c.government_code, t.c.fiscal_year, t.c.doc], set_={"last": t.c.last + count}
        ).returning(t.c.last)
        return int(self.session.execute(stmt).scalar_one()) - count + 1

    # ---- cash plans ----

    def cash_plans(self, plan_id: str) -> list[CashPlan]:
        """The plan's cash plans, by line number (0, the plan's own, first)."""
        t = cash_plan
        rows = self.session.execute(select(t).where(t.c.plan_id == plan_id).order_by(t.c.line_number))
        return [CashPlan(r.plan_id, r.line_number, tuple(r.months)) for r in rows]

    def set_cash_plan(self, value: CashPlan, *, now: Any, proposed: bool = False) -> None:
        """Replace the cash plan of a line (or of the plan): the one in force, or the one proposed with a revision."""
        t = cash_plan_proposal if proposed else cash_plan
        self.session.execute(delete(t).where(t.c.plan_id == value.plan_id, t.c.line_number == value.line_number))
        self.session.execute(
            insert(t).values(
                plan_id=value.plan_id, line_number=value.line_number, months=list(value.months), updated_at=now
            )
        )

    def proposed_cash_plans(self, plan_id: str) -> list[CashPlan]:
        """The cash plans proposed with the plan's open revision, by line number."""
        t = cash_plan_proposal
        rows = self.session.execute(select(t).where(t.c.plan_id == plan_id).order_by(t.c.line_number))
        return [CashPlan(r.plan_id, r.line_number, tuple(r.months)) for r in rows]

    def replace_cash_plans(self, plan_id: str, values: list[CashPlan], *, now: Any) -> None:
        """Put `values` in force as the plan's whole cash plan; the proposals are used up."""
        for t in (cash_plan, cash_plan_proposal):
            self.session.execute(delete(t).where(t.c.plan_id == plan_id))
        if values:
            self.session.execute(
                insert(cash_plan),
                [
                    {"plan_id": plan_id, "line_number": v.line_number, "months": list(v.months), "updated_at": now}
                    for v in values
                ],
            )

    # ---- SPDs ----

    def add_allotment(self, value: SpendingAllotment) -> None:
        """Insert a new SPD."""
        self.session.execute(insert(spending_allotment).values(**_allotment_row(value)))

    def get_allotment(self, allotment_id: str) -> SpendingAllotment | None:
        """One SPD."""
        t = spending_allotment
        row = self.session.execute(select(t).where(t.c.id == allotment_id)).first()
        return _allotment(row._mapping) if row else None

    def allotments(self, plan_id: str) -> list[SpendingAllotment]:
        """The SPDs of a plan, oldest first."""
        t = spending_allotment
        rows = self.session.execute(select(t).where(t.c.plan_id == plan_id).order_by(t.c.created_at, t.c.id))
        return [_allotment(r._mapping) for r in rows]

    # ---- commitments ----

    def dpa_line(self, plan_id: str, line_number: int) -> DpaLine | None:
        """A line of the DPA in force, None when the DPA in force has no such line."""
        t = budget_line
        row = self.session.execute(
            select(*_DPA_COLUMNS).where(t.c.plan_id == plan_id, t.c.number == line_number, t.c.dpa_amount > 0)
        ).first()
        return _dpa_line(row) if row else None

    def dpa_lines(self, plan_id: str) -> list[DpaLine]:
        """Every line of the DPA in force, by number."""
        t = budget_line
        rows = self.session.execute(
            select(*_DPA_COLUMNS).where(t.c.plan_id == plan_id, t.c.dpa_amount > 0).order_by(t.c.number)
        )
        return [_dpa_line(r) for r in rows]

    def adopt_dpa(self, plan_id: str) -> None:
        """The plan's lines become its DPA in force: lines removed by the revision go, the others take their amounts.

        Conditional, like `reserve`: an SPP committed after the caller's check makes this fail, never overspend.
        """
        t = budget_line
        mine = t.c.plan_id == plan_id
        # Write first, check after: the UPDATE and DELETE hold the rows, so an SPP filed meanwhile
        # either committed before (and is seen below) or waits and then meets the new amounts.
        self.session.execute(delete(t).where(mine, t.c.removed, t.c.committed == 0))
        self.session.execute(
            update(t).where(mine, ~t.c.removed).values(dpa_amount=t.c.amount, dpa_account_code=t.c.account_code)
        )
        short = self.session.execute(
            select(t.c.number, t.c.committed, t.c.amount).where(mine, t.c.removed | (t.c.committed > t.c.amount))
        ).first()
        if short is not None:
            raise FailedPrecondition(
                f"line {short[0]} has Rp{short[1]:,} committed on it, more than the revision leaves it; "
                "the revision cannot take effect"
            )

    def disbursements(self, plan_id: str) -> list[tuple[int, int, Any]]:
        """The plan's SP2Ds: (line number, amount, when disbursed)."""
        t = payment_request
        rows = self.session.execute(
            select(t.c.line_number, t.c.amount, t.c.updated_at).where(
                t.c.plan_id == plan_id, t.c.state == PaymentState.DISBURSED.value
            )
        )
        return [(int(r[0]), int(r[1]), r[2]) for r in rows]

    def reserve(self, plan_id: str, line_number: int, allotment_id: str, amount: int) -> None:
        """Commit `amount` on the line and the SPD, or FailedPrecondition naming what is left."""
        line, spd = budget_line, spending_allotment
        taken = self.session.execute(
            update(line)
            .where(
                line.c.plan_id == plan_id, line.c.number == line_number, line.c.committed + amount <= line.c.dpa_amount
            )
            .values(committed=line.c.committed + amount)
        )
        if taken.rowcount != 1:
            found = self.dpa_line(plan_id, line_number)
            total, left = (found.amount, found.remainder) if found else (0, 0)
            raise FailedPrecondition(f"DPA line {line_number} has Rp{left:,} left of Rp{total:,}; Rp{amount:,} is more")
        taken = self.session.execute(
            update(spd)
            .where(spd.c.id == allotment_id, spd.c.committed + amount <= spd.c.amount)
            .values(committed=spd.c.committed + amount)
        )
        if taken.rowcount != 1:
            found = self.get_allotment(allotment_id)
            left = found.remainder if found else 0
            number = found.number if found else allotment_id
            raise FailedPrecondition(f"SPD {number} has Rp{left:,} left; Rp{amount:,} is more")

    def release(self, plan_id: str, line_number: int, allotment_id: str, amount: int) -> None:
        """Give back the commitment of a rejected request."""
        line, spd = budget_line, spending_allotment
        self.session.execute(
            update(line)
            .where(line.c.plan_id == plan_id, line.c.number == line_number)
            .values(committed=line.c.committed - amount)
        )
        self.session.execute(update(spd).where(spd.c.id == allotment_id).values(committed=spd.c.committed - amount))

    def settle(self, plan_id: str, line_number: int, allotment_id: str, amount: int) -> None:
        """Count a committed `amount` as disbursed; never beyond what is committed."""
        line, spd = budget_line, spending_allotment
        for table, condition in (
            (line, (line.c.plan_id == plan_id) & (line.c.number == line_number)),
            (spd, spd.c.id == allotment_id),
        ):
            result = self.session.execute(
                update(table)
                .where(condition, table.c.disbursed + amount <= table.c.committed)
                .values(disbursed=table.c.disbursed + amount)
            )
            if result.rowcount != 1:
                raise FailedPrecondition(f"Rp{amount:,} is more than is committed and not yet disbursed")

    # ---- payment requests ----

    def add_requests(self, values: list[PaymentRequest]) -> None:
        """Insert new payment requests of a bulk load in one statement (fresh ids, no external ids)."""
        if values:
            self.session.execute(insert(payment_request), [_request_row(v) for v in values])
            self.seen.extend(values)

    def add_request(self, value: PaymentRequest) -> None:
        """Insert a new SPP; Conflict when its external request id was taken meanwhile."""
        try:
            with self.session.begin_nested():
                self.session.execute(insert(payment_request).values(**_request_row(value)))
        except IntegrityError:
            raise Conflict(f"payment request {value.number} or its external id was just taken; try again") from None
        self.seen.append(value)

    def get_request(self, request_id: str) -> PaymentRequest | None:
        """One payment request."""
        t = payment_request
        row = self.session.execute(select(t).where(t.c.id == request_id)).first()
        return _request(row._mapping) if row else None

    def find_external(self, government_code: str, external_request_id: str) -> PaymentRequest | None:
        """The request filed under a caller's external id, if any."""
        t = payment_request
        row = self.session.execute(
            select(t).where(t.c.government_code == government_code, t.c.external_request_id == external_request_id)
        ).first()
        return _request(row._mapping) if row else None

    def save_request(self, value: PaymentRequest, *, previous_version: int) -> None:
        """Write a changed request; Conflict when someone else moved it first."""
        t = payment_request
        result = self.session.execute(
            update(t).where(t.c.id == value.id, t.c.version == previous_version).values(**_request_row(value))
        )
        if result.rowcount != 1:
            raise Conflict(f"payment request {value.number} was changed by someone else; reload and try again")
        self.seen.append(value)

    def list_requests(
        self, government_code: str, *, agency_code: str, state: PaymentState | None, after: str, limit: int
    ) -> list[PaymentRequest]:
        """A queue of requests by id, optionally of one agency and one state."""
        t = payment_request
        conditions = [t.c.government_code == government_code, t.c.id > after]
        if agency_code:
            conditions.append(t.c.agency_code == agency_code)
        if state is not None:
            conditions.append(t.c.state == state.value)
        rows = self.session.execute(select(t).where(*conditions).order_by(t.c.id).limit(limit))
        return [_request(r._mapping) for r in rows]

    def count_kind(
        self, government_code: str, agency_code: str, fiscal_year: int, kind: PaymentKind, states: set[PaymentState]
    ) -> int:
        """How many requests of a kind an agency has in the given states that year."""
        t = payment_request
        rows = self.session.execute(
            select(t.c.id).where(
                t.c.government_code == government_code,
                t.c.agency_code == agency_code,
                t.c.fiscal_year == fiscal_year,
                t.c.kind == kind.value,
                t.c.state.in_([s.value for s in states]),
            )
        )
        return len(rows.all())


_DPA_COLUMNS = (
    budget_line.c.number,
    budget_line.c.dpa_account_code,
    budget_line.c.dpa_amount,
    budget_line.c.committed,
    budget_line.c.disbursed,
)


def _dpa_line(r: Any) -> DpaLine:
    return DpaLine(int(r[0]), r[1], int(r[2]), int(r[3]), int(r[4]))


def _allotment_row(v: SpendingAllotment) -> dict[str, Any]:
    return {
        "id": v.id,
        "number": v.number,
        "government_code": v.government_code,
        "agency_code": v.agency_code,
        "plan_id": v.plan_id,
        "fiscal_year": v.fiscal_year,
        "from_month": v.from_month,
        "to_month": v.to_month,
        "amount": v.amount,
        "committed": v.committed,
        "disbursed": v.disbursed,
        "created_by": v.created_by,
        "created_at": v.created_at,
    }


def _allotment(m: Any) -> SpendingAllotment:
    return SpendingAllotment(**{k: m[k] for k in _ALLOTMENT_FIELDS})


_ALLOTMENT_FIELDS = (
    "id",
    "number",
    "government_code",
    "agency_code",
    "plan_id",
    "fiscal_year",
    "from_month",
    "to_month",
    "amount",
    "committed",
    "disbursed",
    "created_by",
    "created_at",
)


def _request_row(v: PaymentRequest) -> dict[str, Any]:
    b = v.beneficiary
    return {
        "id": v.id,
        "number": v.number,
        "government_code": v.government_code,
        "agency_code": v.agency_code,
        "plan_id": v.plan_id,
        "fiscal_year": v.fiscal_year,
        "line_number": v.line_number,
        "allotment_id": v.allotment_id,
        "kind": v.kind.value,
        "amount": v.amount,
        "description": v.description,
        "beneficiary": {"name": b.name, "bank": b.bank, "account_number": b.account_number} if b else None,
        "contract_reference": v.contract_reference,
        "external_request_id": v.external_request_id or None,
        "state": v.state.value,
        "version": v.version,
        "spm_number": v.spm_number,
        "sp2d_number": v.sp2d_number,
        "rejection_reason": v.rejection_reason,
        "history": v.history,
        "created_at": v.created_at,
        "updated_at": v.updated_at,
    }


def _request(m: Any) -> PaymentRequest:
    b = m["beneficiary"]
    return PaymentRequest(
        id=m["id"],
        number=m["number"],
        government_code=m["government_code"],
        agency_code=m["agency_code"],
        plan_id=m["plan_id"],
        fiscal_year=m["fiscal_year"],
        line_number=m["line_number"],
        allotment_id=m["allotment_id"],
        kind=PaymentKind(m["kind"]),
        amount=m["amount"],
        description=m["description"],
        beneficiary=Beneficiary(b["name"], b["bank"], b["account_number"]) if b else None,
        contract_reference=m["contract_reference"],
        external_request_id=m["external_request_id"] or "",
        state=PaymentState(m["state"]),
        version=m["version"],
        spm_number=m["spm_number"],
        sp2d_number=m["sp2d_number"],
        rejection_reason=m["rejection_reason"],
        history=list(m["history"]),
        created_at=m["created_at"],
        updated_at=m["updated_at"],
    )
