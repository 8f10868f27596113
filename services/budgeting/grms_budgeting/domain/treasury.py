"""e-Penatausahaan on an approved plan (the DPA): cash plan, SPD allotments and SPP → SPM → SP2D.

Roles (Permendagri 77/2020 names → GRMS roles, no new role):
bendahara pengeluaran — a `treasurer` scoped to the agency (Identity.agencies lists it);
PA/KPA — the `agency_head` of the agency (also signs for PPK-SKPD's verification, see below);
BUD / Kuasa BUD — a `treasurer` of the government with no agency scope (BPKAD).

Decisions of this slice:
* Every SPP charges one DPA line and one SPD, whatever its kind: the line's commitment is
  reserved when the SPP is filed, moved to "disbursed" by the SP2D, and released when the
  SPP is rejected. UP/GU/TU thus also spend a line; the imprest cycle (NPD, TBP, LPJ) is not
  modelled yet.
* PPK-SKPD's verification is folded into the SPM: the PA/KPA orders the payment after it.
* UP (uang persediaan) is filed at most once per agency and year while not rejected; a GU
  (replenishment) needs a disbursed UP of the agency that year.
* While a revision (pergeseran / perubahan) of a DPA is prepared, the DPA in force — the
  lines as last approved (`DpaLine`) and their cash plan — stays executable: SPPs, SPDs
  and SP2Ds spend against it. Approving the revision makes the revised lines the DPA in
  force only if no line falls below what was committed on it meanwhile (`check_commitments`)
  and the cash plan, revised alongside, adds up to the revised amounts
  (`revised_cash_plans`) without cutting a month below its SP2Ds (`check_disbursed_months`).
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from grms_kit.errors import FailedPrecondition, FieldViolation, InvalidArgument

from grms_budgeting.domain.budget import INT64_MAX
from grms_budgeting.domain.model import DomainEvent

__all__ = [
    "MONTHS",
    "WIB",
    "Beneficiary",
    "CashPlan",
    "DpaLine",
    "FundsDisbursed",
    "PaymentKind",
    "PaymentRequest",
    "PaymentState",
    "SpendingAllotment",
    "check_allotments",
    "check_commitments",
    "check_disbursed_months",
    "cumulative",
    "document_number",
    "monthly_disbursements",
    "revised_cash_plans",
]

MONTHS = 12
WIB = dt.timezone(dt.timedelta(hours=7), "WIB")  # months of SP2Ds are counted in Jakarta time


def _text(value: str, path: str, violations: list[FieldViolation], *, low: int, high: int) -> str:
    value = " ".join(value.split())
    if not low <= len(value) <= high:
        violations.append(FieldViolation(path, f"must be {low} to {high} characters"))
    return value


@dataclass(frozen=True)
class CashPlan:
    """The monthly cash plan (anggaran kas) of a DPA line, or of the whole plan (line_number 0)."""

    plan_id: str
    line_number: int
    months: tuple[int, ...]

    @classmethod
    def create(cls, plan_id: str, line_number: int, months: list[int], *, amount: int) -> CashPlan:
        """Twelve whole-rupiah amounts, none negative, adding up to `amount` (the line's or the plan's)."""
        violations: list[FieldViolation] = []
        if len(months) != MONTHS:
            raise InvalidArgument.field("months", f"must list {MONTHS} monthly amounts, not {len(months)}")
        for i, value in enumerate(months):
            if not 0 <= value <= INT64_MAX:
                violations.append(FieldViolation(f"months[{i}]", "must be zero or a positive amount of whole rupiah"))
        if not violations and sum(months) != amount:
            what = f"line {line_number}" if line_number else "the plan"
            violations.append(FieldViolation("months", f"add up to Rp{sum(months):,}, not the Rp{amount:,} of {what}"))
        if violations:
            raise InvalidArgument(violations)
        return cls(plan_id, line_number, tuple(months))


@dataclass(frozen=True)
class DpaLine:
    """A line of the DPA in force (as last approved) with what SPPs committed and SP2Ds disbursed on it."""

    number: int
    account_code: str
    amount: int
    committed: int
    disbursed: int

    @property
    def remainder(self) -> int:
        """What SPPs may still commit on the line."""
        return self.amount - self.committed


def check_commitments(amounts: Mapping[int, int], lines: Iterable[DpaLine]) -> None:
    """Refuse revised line amounts (number → amount; a removed line is absent) below what SPPs committed."""
    short = [
        f"line {line.number} would be "
        + (f"Rp{amounts[line.number]:,}" if line.number in amounts else "removed")
        + f" but SPPs have committed Rp{line.committed:,} on it (Rp{line.disbursed:,} disbursed)"
        for line in sorted(lines, key=lambda x: x.number)
        if line.committed > amounts.get(line.number, 0)
    ]
    if short:
        raise FailedPrecondition("the revision cannot take effect: " + "; ".join(short))


def revised_cash_plans(
    in_force: Iterable[CashPlan], proposed: Iterable[CashPlan], amounts: Mapping[int, int], *, plan_id: str
) -> list[CashPlan]:
    """The cash plans a revision puts in force: the proposed ones over those in force, each adding up to its amount.

    `amounts` are the revised lines' amounts by number; a line the revision removed loses
    its cash plan. FailedPrecondition names every cash plan that does not add up, and by how much.
    """
    merged = {c.line_number: c for c in in_force}
    merged.update({c.line_number: c for c in proposed})
    total = sum(amounts.values())
    kept = [c for n, c in sorted(merged.items()) if n == 0 or n in amounts]
    wrong = []
    for cash in kept:
        want = amounts[cash.line_number] if cash.line_number else total
        got = sum(cash.months)
        if got != want:
            what = f"line {cash.line_number}" if cash.line_number else "the plan"
            gap = f"Rp{want - got:,} short" if got < want else f"Rp{got - want:,} over"
            wrong.append(f"the cash plan of {what} adds up to Rp{got:,}, not the revised Rp{want:,} ({gap})")
    if wrong:
        raise FailedPrecondition(f"revise the cash plan (anggaran kas) of plan {plan_id} alongside: {'; '.join(wrong)}")
    return kept


def monthly_disbursements(items: Iterable[tuple[int, int, dt.datetime]]) -> dict[int, tuple[int, ...]]:
    """SP2Ds (line number, amount, when) summed per line and month (WIB)."""
    out: dict[int, list[int]] = {}
    for number, amount, at in items:
        out.setdefault(number, [0] * MONTHS)[at.astimezone(WIB).month - 1] += amount
    return {n: tuple(months) for n, months in out.items()}


def check_disbursed_months(plans: Iterable[CashPlan], disbursed: Mapping[int, tuple[int, ...]]) -> None:
    """Refuse a cash plan that puts less in a month than SP2Ds already paid out then (the plan's own: all lines)."""
    everything = [sum(m[i] for m in disbursed.values()) for i in range(MONTHS)]
    cut = []
    for cash in plans:
        paid = everything if cash.line_number == 0 else disbursed.get(cash.line_number, (0,) * MONTHS)
        what = f"line {cash.line_number}" if cash.line_number else "the plan"
        cut.extend(
            f"month {i + 1} of {what}: Rp{planned:,} is below the Rp{paid[i]:,} its SP2Ds disbursed"
            for i, planned in enumerate(cash.months)
            if planned < paid[i]
        )
    if cut:
        raise FailedPrecondition("a cash plan cannot undo disbursements: " + "; ".join(cut))


def cumulative(plans: Iterable[CashPlan]) -> tuple[int, ...]:
    """Cash available through each month: the running sum of the given cash plans, month by month."""
    totals = [0] * MONTHS
    for plan in plans:
        for i, value in enumerate(plan.months):
            totals[i] += value
    running, out = 0, []
    for value in totals:
        running += value
        out.append(running)
    return tuple(out)


@dataclass(frozen=True)
class SpendingAllotment:
    """An SPD (Surat Penyediaan Dana): BUD makes part of a DPA spendable for months from_month..to_month."""

    id: str
    number: str
    government_code: str
    agency_code: str
    plan_id: str
    fiscal_year: int
    from_month: int
    to_month: int
    amount: int
    committed: int
    disbursed: int
    created_by: str
    created_at: dt.datetime

    @property
    def remainder(self) -> int:
        """What the SPD still allows: amount − committed (committed includes what was disbursed)."""
        return self.amount - self.committed


def check_allotments(
    cash_through: tuple[int, ...], existing: Iterable[tuple[int, int]], new: tuple[int, int], *, plan_total: int
) -> None:
    """Refuse an SPD (to_month, amount) that makes the SPDs through some month exceed the cash plan through it."""
    to_month, amount = new
    if not 1 <= to_month <= MONTHS:
        raise InvalidArgument.field("to_month", "must be a month from 1 to 12")
    if not 0 < amount <= INT64_MAX:
        raise InvalidArgument.field("amount", "must be a positive amount of whole rupiah")
    spds = [*existing, new]
    for month in range(1, MONTHS + 1):
        through = sum(a for m, a in spds if m <= month)
        if through > cash_through[month - 1]:
            raise FailedPrecondition(
                f"SPDs through month {month} would total Rp{through:,}, above the cash plan's "
                f"Rp{cash_through[month - 1]:,} by Rp{through - cash_through[month - 1]:,}"
            )
    if sum(a for _, a in spds) > plan_total:
        raise FailedPrecondition(f"SPDs would exceed the DPA total of Rp{plan_total:,}")


class PaymentKind(enum.StrEnum):
    """Kinds of SPP (DOMAIN §7.1 jenis_spp)."""

    UP = "up"
    GU = "gu"
    TU = "tu"
    LS_GAJI = "ls_gaji"
    LS_BARANG_JASA = "ls_barang_jasa"
    LS_PIHAK_KETIGA = "ls_pihak_ketiga"

    @property
    def is_direct(self) -> bool:
        """LS (langsung) payments go straight to a beneficiary's bank account."""
        return self.value.startswith("ls_")


class PaymentState(enum.StrEnum):
    """SPP filed (requested) → SPM ordered by PA/KPA (ordered) → SP2D by BUD (disbursed); or rejected."""

    REQUESTED = "requested"
    ORDERED = "ordered"
    DISBURSED = "disbursed"
    REJECTED = "rejected"


@dataclass(frozen=True)
class Beneficiary:
    """Who an LS payment goes to: name, bank and account number."""

    name: str
    bank: str
    account_number: str


@dataclass
class FundsDisbursed(DomainEvent):
    payment_request_id: str
    government_code: str
    agency_code: str
    plan_id: str
    fiscal_year: int
    line_number: int
    sub_activity_code: str
    account_code: str
    kind: PaymentKind
    amount: int
    sp2d_number: str
    disbursed_at: dt.datetime


_ACCOUNT_NUMBER = re.compile(r"^[0-9][0-9\-. ]{4,39}$")


@dataclass
class PaymentRequest:
    """An SPP and what became of it: its SPM and SP2D numbers, who did what and when."""

    id: str
    number: str
    government_code: str
    agency_code: str
    plan_id: str
    fiscal_year: int
    line_number: int
    allotment_id: str
    kind: PaymentKind
    amount: int
    description: str
    beneficiary: Beneficiary | None
    contract_reference: str
    external_request_id: str
    state: PaymentState
    version: int
    spm_number: str
    sp2d_number: str
    rejection_reason: str
    history: list[dict[str, Any]]
    created_at: dt.datetime
    updated_at: dt.datetime
    events: list[DomainEvent] = field(default_factory=list, repr=False, compare=False)

    @classmethod
    def create(
        cls,
        request_id: str,
        number: str,
        *,
        government_code: str,
        agency_code: str,
        plan_id: str,
        fiscal_year: int,
        line_number: int,
        allotment_id: str,
        kind: PaymentKind,
        amount: int,
        description: str,
        beneficiary: Beneficiary | None,
        contract_reference: str = "",
        external_request_id: str = "",
        actor: str,
        now: dt.datetime,
    ) -> PaymentRequest:
        """Validate a new SPP; LS payments need a beneficiary's bank account, LS goods/services a contract."""
        violations: list[FieldViolation] = []
        if not 0 < amount <= INT64_MAX:
            violations.append(FieldViolation("amount", "must be a positive amount of whole rupiah"))
        description = _text(description, "description", violations, low=2, high=1000)
        if kind.is_direct:
            if beneficiary is None:
                violations.append(FieldViolation("beneficiary", f"an SPP-{kind.value.upper()} pays a beneficiary"))
            else:
                _text(beneficiary.name, "beneficiary.name", violations, low=2, high=200)
                _text(beneficiary.bank, "beneficiary.bank", violations, low=2, high=100)
                if not _ACCOUNT_NUMBER.match(beneficiary.account_number.strip()):
                    violations.append(FieldViolation("beneficiary.account_number", "must be a bank account number"))
        elif beneficiary is not None:
            violations.append(FieldViolation("beneficiary", f"an SPP-{kind.value.upper()} pays the agency's treasurer"))
        if kind is PaymentKind.LS_BARANG_JASA and not contract_reference.strip():
            violations.append(
                FieldViolation("contract_reference", "an SPP-LS for goods and services names its contract")
            )
        if violations:
            raise InvalidArgument(violations)
        return cls(
            request_id,
            number,
            government_code,
            agency_code,
            plan_id,
            fiscal_year,
            line_number,
            allotment_id,
            kind,
            amount,
            description,
            beneficiary,
            contract_reference.strip(),
            external_request_id,
            PaymentState.REQUESTED,
            1,
            "",
            "",
            "",
            [{"state": PaymentState.REQUESTED.value, "actor": actor, "at": now.isoformat(), "note": ""}],
            now,
            now,
        )

    def ensure(self, *allowed: PaymentState) -> None:
        """FailedPrecondition unless the request is in one of `allowed`."""
        if self.state not in allowed:
            names = " or ".join(sorted(s.value for s in allowed))
            raise FailedPrecondition(f"payment request {self.number} is {self.state.value}; it must be {names}")

    def _move(
        self, allowed: set[PaymentState], target: PaymentState, *, actor: str, now: dt.datetime, note: str
    ) -> None:
        self.ensure(*allowed)
        self.state = target
        self.version += 1
        self.updated_at = now
        self.history.append({"state": target.value, "actor": actor, "at": now.isoformat(), "note": note})

    def order(self, spm_number: str, *, actor: str, now: dt.datetime) -> None:
        """The PA/KPA signs the SPM (after PPK-SKPD's verification)."""
        self._move({PaymentState.REQUESTED}, PaymentState.ORDERED, actor=actor, now=now, note=spm_number)
        self.spm_number = spm_number

    def disburse(
        self, sp2d_number: str, *, sub_activity_code: str, account_code: str, actor: str, now: dt.datetime
    ) -> None:
        """BUD issues the SP2D: the money leaves the regional treasury."""
        self._move({PaymentState.ORDERED}, PaymentState.DISBURSED, actor=actor, now=now, note=sp2d_number)
        self.sp2d_number = sp2d_number
        self.events.append(
            FundsDisbursed(
                self.id,
                self.government_code,
                self.agency_code,
                self.plan_id,
                self.fiscal_year,
                self.line_number,
                sub_activity_code,
                account_code,
                self.kind,
                self.amount,
                sp2d_number,
                now,
            )
        )

    def reject(self, reason: str, *, actor: str, now: dt.datetime) -> None:
        """Turn down an SPP or an SPM (with a reason); its commitment is released by the caller."""
        violations: list[FieldViolation] = []
        reason = _text(reason, "reason", violations, low=2, high=1000)
        if violations:
            raise InvalidArgument(violations)
        self._move(
            {PaymentState.REQUESTED, PaymentState.ORDERED}, PaymentState.REJECTED, actor=actor, now=now, note=reason
        )
        self.rejection_reason = reason


def document_number(sequence: int, doc: str, kind: PaymentKind | None, agency_code: str, month: int, year: int) -> str:
    """A number like `0005/SPP/LS/1.02.0.00.0.00.01.0000/02/2026` (sequence/doc/mechanism/SKPD/month/year)."""
    mechanism = "" if kind is None else ("LS" if kind.is_direct else kind.value.upper()) + "/"
    return f"{sequence:04d}/{doc}/{mechanism}{agency_code}/{month:02d}/{year}"
