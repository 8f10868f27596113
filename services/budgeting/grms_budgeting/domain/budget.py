"""The standard price list (e-HSB), ceilings (pagu) and budget plans (RKA → DPA) with their lines and workflow.

Money is whole rupiah in Python ints throughout: a line's amount is the product of its
volume factors times its unit price, never a float.
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from grms_kit.errors import Conflict, FailedPrecondition, FieldViolation, InvalidArgument

from grms_budgeting.domain.audit import AuditRecord, lines_digest
from grms_budgeting.domain.codes import AccountCode, check_fiscal_year, normalize_account_code
from grms_budgeting.domain.model import DomainEvent

__all__ = [
    "EDITABLE_STATES",
    "INT64_MAX",
    "TRANSITIONS",
    "BudgetLine",
    "BudgetPlan",
    "BudgetPlanApproved",
    "BudgetPlanReturned",
    "BudgetPlanSubmitted",
    "BudgetRevised",
    "Ceiling",
    "FieldChange",
    "LineDiff",
    "LineInput",
    "PlanListing",
    "PlanState",
    "PlanSummary",
    "PlanVersion",
    "PriceGroup",
    "RevisionKind",
    "StandardPrice",
    "VolumeFactor",
    "diff_snapshots",
    "needs_standard_item",
    "parse_volume",
]

INT64_MAX = 2**63 - 1
_MAX_FACTORS = 4  # SIPD keeps volum1..volum4


class PriceGroup(enum.StrEnum):
    """The four standard price lists of e-HSB."""

    SSH = "ssh"  # Standar Satuan Harga: smallest components
    SBU = "sbu"  # Standar Biaya Umum: per-diems, honoraria
    HSPK = "hspk"  # Harga Satuan Pokok Kegiatan: unit cost of works
    ASB = "asb"  # Analisa Standar Belanja


def _text(value: str, path: str, violations: list[FieldViolation], *, low: int, high: int) -> str:
    value = " ".join(value.split())
    if not low <= len(value) <= high:
        violations.append(FieldViolation(path, f"must be {low} to {high} characters"))
    return value


@dataclass(frozen=True)
class StandardPrice:
    """One item of a government's standard price list for a fiscal year: a ceiling price including tax."""

    government_code: str
    fiscal_year: int
    group: PriceGroup
    code: str
    name: str
    specification: str
    unit: str
    price: int
    account_codes: tuple[str, ...]

    @classmethod
    def create(
        cls,
        government_code: str,
        fiscal_year: int,
        group: PriceGroup,
        code: str,
        name: str,
        specification: str,
        unit: str,
        price: int,
        account_codes: list[str],
        *,
        known_accounts: Mapping[str, AccountCode],
    ) -> StandardPrice:
        """Validate a new item; `known_accounts` are the fiscal year's account codes by canonical code."""
        check_fiscal_year(fiscal_year)
        violations: list[FieldViolation] = []
        code = code.strip()
        if not re.match(r"^[0-9A-Za-z][0-9A-Za-z.\-]{0,59}$", code):
            violations.append(FieldViolation("code", "must be 1 to 60 letters, digits, dots or dashes"))
        name = _text(name, "name", violations, low=2, high=500)
        specification = _text(specification, "specification", violations, low=0, high=1000)
        unit = _text(unit, "unit", violations, low=1, high=50)
        if not 0 < price <= INT64_MAX:
            violations.append(FieldViolation("price", "must be a positive amount of whole rupiah"))
        canonical: list[str] = []
        if not account_codes:
            violations.append(
                FieldViolation("account_codes", "must list at least one account the item may be used with")
            )
        for i, raw in enumerate(account_codes):
            try:
                code_i, _ = normalize_account_code(raw)
            except ValueError as exc:
                violations.append(FieldViolation(f"account_codes[{i}]", str(exc)))
                continue
            account = known_accounts.get(code_i)
            if account is None or not account.is_expenditure_item:
                violations.append(
                    FieldViolation(
                        f"account_codes[{i}]", f"{code_i} is not a six-level expenditure account of {fiscal_year}"
                    )
                )
            elif code_i not in canonical:
                canonical.append(code_i)
        if violations:
            raise InvalidArgument(violations)
        return cls(
            government_code, fiscal_year, group, code, name, specification, unit, price, tuple(sorted(canonical))
        )


@dataclass
class Ceiling:
    """A budget ceiling (pagu) of an agency (sub_activity_code "") or of one of its sub-activities.

    A locked ceiling (kunci) keeps its amount, and the lines of the plan under it cannot change.
    """

    government_code: str
    fiscal_year: int
    agency_code: str
    sub_activity_code: str
    amount: int
    locked: bool
    version: int
    updated_at: dt.datetime

    @classmethod
    def create(
        cls,
        government_code: str,
        fiscal_year: int,
        agency_code: str,
        sub_activity_code: str,
        amount: int,
        locked: bool,
        *,
        now: dt.datetime,
    ) -> Ceiling:
        """Validate a new ceiling at version 1."""
        check_fiscal_year(fiscal_year)
        if not 0 <= amount <= INT64_MAX:
            raise InvalidArgument.field("amount", "must be zero or a positive amount of whole rupiah")
        return cls(government_code, fiscal_year, agency_code, sub_activity_code, amount, locked, 1, now)

    def change(self, amount: int, locked: bool, *, now: dt.datetime) -> bool:
        """Set amount and lock; a locked ceiling is unlocked (same amount, locked=False) before its amount moves."""
        if not 0 <= amount <= INT64_MAX:
            raise InvalidArgument.field("amount", "must be zero or a positive amount of whole rupiah")
        if self.locked and amount != self.amount:
            raise FailedPrecondition(f"ceiling {self.label()} is locked; unlock it before changing its amount")
        if (amount, locked) == (self.amount, self.locked):
            return False
        self.amount, self.locked = amount, locked
        self.version += 1
        self.updated_at = now
        return True

    def label(self) -> str:
        """Human name of the ceiling, for messages."""
        scope = f"sub-activity {self.sub_activity_code}" if self.sub_activity_code else "the agency"
        return f"of agency {self.agency_code}, {scope}, {self.fiscal_year}"


@dataclass(frozen=True)
class VolumeFactor:
    """One factor of a line's volume, such as "10 orang"."""

    quantity: int
    unit: str


_SEPARATOR = re.compile(r"\s+[xX]\s+|\s*[×*]\s*")
_FACTOR = re.compile(r"^(\d{1,3}(?:\.\d{3})+|\d+)\s*([^\W\d_].*)?$")


def parse_volume(text: str, path: str) -> tuple[VolumeFactor, ...]:
    """Parse a volume breakdown like "10 orang × 2 kali" (also "x", "*"; "1.000" is a thousand).

    Decision: factors are whole numbers. SIPD allows decimals, but every decimal volume we
    found ("1,5 m3") is expressible in a smaller unit, and whole factors keep the amount an
    exact integer with no rounding rule to argue about.
    """
    parsed = _parse_volume(text)
    if isinstance(parsed, str):
        raise InvalidArgument.field(path, parsed)
    return parsed


@functools.lru_cache(maxsize=8192)
def _parse_volume(text: str) -> tuple[VolumeFactor, ...] | str:
    """The factors, or what is wrong with them; memoised (an import repeats the same few volumes)."""
    text = " ".join(text.split())
    if not text:
        return 'must say the volume, like "10 orang × 2 kali"'
    parts = _SEPARATOR.split(text)
    if len(parts) > _MAX_FACTORS:
        return f"has {len(parts)} factors; at most {_MAX_FACTORS}"
    factors: list[VolumeFactor] = []
    for i, part in enumerate(parts):
        match = _FACTOR.match(part.strip())
        if not match:
            return f'factor {i + 1} "{part.strip()}" must be a positive whole number followed by its unit'
        quantity = int(match.group(1).replace(".", ""))
        if quantity <= 0:
            return f'factor {i + 1} "{part.strip()}" must be positive, not zero'
        factors.append(VolumeFactor(quantity, (match.group(2) or "").strip()))
    return tuple(factors)


def needs_standard_item(account_code: str) -> bool:
    """True when a line on this account must name a standard price item.

    Decision: goods and services (5.1.02) and capital spending (5.2) are what the price
    lists cover, so their lines must cite an item. Salaries, interest, subsidies, grants,
    social aid and unexpected spending have no price list; a standard item is optional there.
    """
    return account_code.startswith(("5.1.02.", "5.2."))


@dataclass(frozen=True)
class LineInput:
    """A budget line as a caller writes it (rincian belanja)."""

    account_code: str
    standard_item_code: str
    specification: str
    volume: str
    unit: str
    unit_price: int
    funding_source: str
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class BudgetLine:
    """A checked budget line; `number` is stable within its plan and names it in messages (`lines[3]`)."""

    number: int
    account_code: str
    standard_item_code: str
    specification: str
    volume: str
    factors: tuple[VolumeFactor, ...]
    unit: str
    unit_price: int
    funding_source: str
    tags: tuple[str, ...]

    @functools.cached_property
    def amount(self) -> int:
        """Product of the volume factors times the unit price, in whole rupiah (computed once per line)."""
        return math.prod(f.quantity for f in self.factors) * self.unit_price

    def to_json(self) -> dict[str, Any]:
        """The line as plain JSON (snapshots, audit)."""
        return {
            "number": self.number,
            "account_code": self.account_code,
            "standard_item_code": self.standard_item_code,
            "specification": self.specification,
            "volume": self.volume,
            "factors": [[f.quantity, f.unit] for f in self.factors],
            "unit": self.unit,
            "unit_price": self.unit_price,
            "amount": self.amount,
            "funding_source": self.funding_source,
            "tags": list(self.tags),
        }

    @classmethod
    def check(
        cls,
        number: int,
        given: LineInput,
        *,
        accounts: Mapping[str, AccountCode],
        prices: Mapping[str, StandardPrice],
    ) -> BudgetLine:
        """Validate a line against the fiscal year's accounts and the government's price list."""
        violations = line_violations(number, given, accounts=accounts, prices=prices)
        if violations:
            raise InvalidArgument(violations)
        return cls.checked(number, given)

    @classmethod
    def checked(cls, number: int, given: LineInput) -> BudgetLine:
        """The line of an input `line_violations` found nothing wrong with (bulk paths check each line once)."""
        path = f"lines[{number}]"
        account, _ = normalize_account_code(given.account_code)
        return cls(
            number=number,
            account_code=account,
            standard_item_code=given.standard_item_code.strip(),
            specification=" ".join(given.specification.split()),
            volume=" ".join(given.volume.split()),
            factors=parse_volume(given.volume, f"{path}.volume"),
            unit=" ".join(given.unit.split()),
            unit_price=given.unit_price,
            funding_source=" ".join(given.funding_source.split()),
            tags=tuple(dict.fromkeys(" ".join(t.split()) for t in given.tags)),
        )


def line_violations(
    number: int, given: LineInput, *, accounts: Mapping[str, AccountCode], prices: Mapping[str, StandardPrice]
) -> list[FieldViolation]:
    """Every rule a line breaks, each naming `lines[<number>].<field>`."""
    path = f"lines[{number}]"
    violations: list[FieldViolation] = []
    account = ""
    try:
        account, _ = normalize_account_code(given.account_code)
    except ValueError as exc:
        violations.append(FieldViolation(f"{path}.account_code", str(exc)))
    if account:
        known = accounts.get(account)
        if known is None or not known.is_expenditure_item:
            violations.append(
                FieldViolation(f"{path}.account_code", f"{account} is not a six-level expenditure account of the year")
            )
            account = ""
    item_code = given.standard_item_code.strip()
    item = prices.get(item_code) if item_code else None
    if item_code and item is None:
        violations.append(
            FieldViolation(f"{path}.standard_item_code", f"{item_code} is not in the standard price list of the year")
        )
    if not item_code and account and needs_standard_item(account):
        violations.append(
            FieldViolation(f"{path}.standard_item_code", f"account {account} needs an item of the standard price list")
        )
    if item is not None and account and account not in item.account_codes:
        violations.append(
            FieldViolation(f"{path}.account_code", f"standard item {item.code} may not be used with account {account}")
        )
    _text(given.specification, f"{path}.specification", violations, low=2, high=1000)
    _text(given.unit, f"{path}.unit", violations, low=1, high=50)
    _text(given.funding_source, f"{path}.funding_source", violations, low=2, high=100)
    if len(given.tags) > 20:
        violations.append(FieldViolation(f"{path}.tags", "at most 20 tags"))
    for i, tag in enumerate(given.tags):
        _text(tag, f"{path}.tags[{i}]", violations, low=1, high=50)
    factors: tuple[VolumeFactor, ...] = ()
    try:
        factors = parse_volume(given.volume, f"{path}.volume")
    except InvalidArgument as exc:
        violations.extend(exc.violations)
    if given.unit_price <= 0:
        violations.append(FieldViolation(f"{path}.unit_price", "must be a positive amount of whole rupiah"))
    elif item is not None and given.unit_price > item.price:
        violations.append(
            FieldViolation(
                f"{path}.unit_price",
                f"Rp{given.unit_price:,} is above the standard price Rp{item.price:,} of item {item.code}",
            )
        )
    elif factors and math.prod(f.quantity for f in factors) * given.unit_price > INT64_MAX:
        violations.append(FieldViolation(f"{path}.volume", "the amount is too large"))
    return violations


class PlanState(enum.StrEnum):
    """Where a budget plan is in its workflow; APPROVED is the DPA."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    VERIFIED = "verified"
    RETURNED = "returned"
    APPROVED = "approved"


class RevisionKind(enum.StrEnum):
    """How an approved plan (DPA) changes (Permendagri 77/2020)."""

    SHIFT = "shift"  # pergeseran: between lines within the DPA; the total may not grow
    AMENDMENT = "amendment"  # perubahan (APBD-P): the total may change within the ceilings


EDITABLE_STATES = frozenset({PlanState.DRAFT, PlanState.RETURNED})
# action -> (states it may start from, state it leads to)
TRANSITIONS: dict[str, tuple[frozenset[PlanState], PlanState]] = {
    "submit": (frozenset({PlanState.DRAFT, PlanState.RETURNED}), PlanState.SUBMITTED),
    "verify": (frozenset({PlanState.SUBMITTED}), PlanState.VERIFIED),
    "return": (frozenset({PlanState.SUBMITTED, PlanState.VERIFIED}), PlanState.RETURNED),
    "approve": (frozenset({PlanState.VERIFIED}), PlanState.APPROVED),
    # A revision re-opens the DPA as a draft that runs the same workflow again.
    "revise": (frozenset({PlanState.APPROVED}), PlanState.DRAFT),
}


@dataclass(frozen=True)
class PlanSummary:
    """What the integration events of a plan carry."""

    plan_id: str
    government_code: str
    agency_code: str
    sub_activity_code: str
    fiscal_year: int
    version: int
    total: int
    line_count: int


@dataclass
class BudgetPlanSubmitted(DomainEvent):
    plan: PlanSummary


@dataclass
class BudgetPlanReturned(DomainEvent):
    plan: PlanSummary
    notes: dict[int, str]


@dataclass
class BudgetPlanApproved(DomainEvent):
    plan: PlanSummary


@dataclass
class BudgetRevised(DomainEvent):
    plan: PlanSummary
    revision: int
    kind: RevisionKind
    previous_total: int


@dataclass(frozen=True)
class PlanListing:
    """A plan without its lines, as lists show it."""

    id: str
    government_code: str
    agency_code: str
    sub_activity_code: str
    fiscal_year: int
    state: PlanState
    version: int
    total: int
    line_count: int
    revision: int
    revision_kind: RevisionKind | None
    approved_total: int
    created_at: dt.datetime
    updated_at: dt.datetime


@dataclass(frozen=True)
class PlanVersion:
    """An immutable snapshot of a whole plan, taken at every stage change."""

    plan_id: str
    version: int
    state: PlanState
    action: str
    actor: str
    created_at: dt.datetime
    total: int
    line_count: int
    content: dict[str, Any]


@dataclass
class BudgetPlan:
    """A budget plan (RKA-SKPD) of one agency for one sub-activity and fiscal year.

    Every edit and every stage change bumps `version`; an edit that carries a stale
    expected version is a Conflict. Each change leaves an AuditRecord in `audit`; each stage
    change also leaves a PlanVersion snapshot in `snapshots`.
    """

    id: str
    government_code: str
    agency_code: str
    sub_activity_code: str
    fiscal_year: int
    state: PlanState
    version: int
    lines: dict[int, BudgetLine]
    next_line_number: int
    review_note: str
    line_notes: dict[int, str]
    created_at: dt.datetime
    updated_at: dt.datetime
    revision: int = 0
    revision_kind: RevisionKind | None = None
    approved_total: int = 0  # the total of the DPA in force; 0 before the first approval
    events: list[DomainEvent] = field(default_factory=list, repr=False, compare=False)
    audit: list[AuditRecord] = field(default_factory=list, repr=False, compare=False)
    snapshots: list[PlanVersion] = field(default_factory=list, repr=False, compare=False)
    changed_lines: set[int] = field(default_factory=set, repr=False, compare=False)
    new_lines: set[int] = field(default_factory=set, repr=False, compare=False)  # the subset never stored

    @classmethod
    def create(
        cls,
        plan_id: str,
        government_code: str,
        agency_code: str,
        sub_activity_code: str,
        fiscal_year: int,
        *,
        actor: str,
        now: dt.datetime,
    ) -> BudgetPlan:
        """A new, empty draft at version 1."""
        check_fiscal_year(fiscal_year)
        plan = cls(
            plan_id,
            government_code,
            agency_code,
            sub_activity_code,
            fiscal_year,
            PlanState.DRAFT,
            1,
            {},
            1,
            "",
            {},
            now,
            now,
        )
        plan.audit.append(AuditRecord(actor, agency_code, "create", None, plan.header()))
        return plan

    @property
    def total(self) -> int:
        """Sum of the line amounts in whole rupiah."""
        return sum(line.amount for line in self.lines.values())

    def header(self) -> dict[str, Any]:
        """The plan's own fields as JSON, without lines."""
        return {
            "id": self.id,
            "government_code": self.government_code,
            "agency_code": self.agency_code,
            "sub_activity_code": self.sub_activity_code,
            "fiscal_year": self.fiscal_year,
            "state": self.state.value,
            "version": self.version,
            "revision": self.revision,
            "revision_kind": self.revision_kind.value if self.revision_kind else None,
        }

    def to_json(self) -> dict[str, Any]:
        """The whole plan as JSON: what a snapshot stores."""
        return {
            **self.header(),
            "total": self.total,
            "approved_total": self.approved_total,
            "review_note": self.review_note,
            "line_notes": {str(k): v for k, v in sorted(self.line_notes.items())},
            "lines": [self.lines[n].to_json() for n in sorted(self.lines)],
        }

    def summary(self) -> PlanSummary:
        """The plan as its events describe it."""
        return PlanSummary(
            self.id,
            self.government_code,
            self.agency_code,
            self.sub_activity_code,
            self.fiscal_year,
            self.version,
            self.total,
            len(self.lines),
        )

    def _check_version(self, expected_version: int | None) -> None:
        if expected_version is not None and expected_version != self.version:
            raise Conflict(f"budget plan {self.id} is at version {self.version}, not {expected_version}")

    def _editable(self, expected_version: int | None) -> None:
        self._check_version(expected_version)
        if self.state not in EDITABLE_STATES:
            raise FailedPrecondition(
                f"budget plan {self.id} is {self.state.value}; only draft or returned plans change"
            )

    def _touch(self, now: dt.datetime) -> None:
        if self.state is PlanState.RETURNED:
            self.state = PlanState.DRAFT  # the agency is working on it again
        self.version += 1
        self.updated_at = now

    def add_line(self, line: BudgetLine, *, expected_version: int | None, actor: str, now: dt.datetime) -> BudgetLine:
        """Append a checked line (numbered with `next_line_number`)."""
        self._editable(expected_version)
        if line.number != self.next_line_number:
            raise ValueError("a new line must carry the plan's next line number")
        self.lines[line.number] = line
        self.next_line_number += 1
        self.changed_lines.add(line.number)
        self.new_lines.add(line.number)
        self._touch(now)
        self.audit.append(AuditRecord(actor, self.agency_code, "add_line", None, line.to_json()))
        return line

    def add_lines(self, lines: list[BudgetLine], *, expected_version: int | None, actor: str, now: dt.datetime) -> None:
        """Append checked lines (numbered from `next_line_number`) as one change: one version, one audit record.

        The record (`import_lines`) holds the old and new totals and line counts, the numbers
        given and the `lines_digest` of every added line as JSON, so the chain still covers each
        line's content without one entry per line (a 150,000-line import is one link).
        """
        self._editable(expected_version)
        for offset, line in enumerate(lines):
            if line.number != self.next_line_number + offset:
                raise ValueError("imported lines must carry the plan's next line numbers in order")
        old = {"total": self.total, "line_count": len(self.lines)}
        for line in lines:
            self.lines[line.number] = line
            self.changed_lines.add(line.number)
            self.new_lines.add(line.number)
        self.next_line_number += len(lines)
        self._touch(now)
        new = {
            "total": self.total,
            "line_count": len(self.lines),
            "lines": len(lines),
            "first_number": lines[0].number if lines else None,
            "last_number": lines[-1].number if lines else None,
            "sha256": lines_digest(line.to_json() for line in lines),
        }
        self.audit.append(AuditRecord(actor, self.agency_code, "import_lines", old, new))

    def update_line(self, line: BudgetLine, *, expected_version: int | None, actor: str, now: dt.datetime) -> bool:
        """Replace line `line.number`; False (and nothing recorded) when nothing changed."""
        self._editable(expected_version)
        old = self.lines.get(line.number)
        if old is None:
            raise InvalidArgument.field("line_number", f"plan {self.id} has no line {line.number}")
        if old == line:
            return False
        self.lines[line.number] = line
        self.changed_lines.add(line.number)
        self._touch(now)
        self.audit.append(AuditRecord(actor, self.agency_code, "update_line", old.to_json(), line.to_json()))
        return True

    def remove_line(self, number: int, *, expected_version: int | None, actor: str, now: dt.datetime) -> None:
        """Remove line `number`; its number is never reused."""
        self._editable(expected_version)
        old = self.lines.pop(number, None)
        if old is None:
            raise InvalidArgument.field("line_number", f"plan {self.id} has no line {number}")
        self.line_notes.pop(number, None)
        self.changed_lines.add(number)
        self._touch(now)
        self.audit.append(AuditRecord(actor, self.agency_code, "remove_line", old.to_json(), None))

    def _transition(
        self,
        action: str,
        *,
        expected_version: int | None,
        actor: str,
        now: dt.datetime,
        detail: dict[str, Any],
        apply: Callable[[], None] | None = None,
    ) -> None:
        self._check_version(expected_version)
        sources, target = TRANSITIONS[action]
        if self.state not in sources:
            allowed = " or ".join(sorted(s.value for s in sources))
            raise FailedPrecondition(
                f"budget plan {self.id} is {self.state.value}; {action} is allowed only when it is {allowed}"
            )
        if apply is not None:
            apply()
        old_state = self.state
        self.state = target
        self.version += 1
        self.updated_at = now
        self.audit.append(
            AuditRecord(actor, self.agency_code, action, {"state": old_state.value}, {"state": target.value, **detail})
        )
        self.snapshots.append(
            PlanVersion(self.id, self.version, target, action, actor, now, self.total, len(self.lines), self.to_json())
        )

    def check_shift(self) -> None:
        """A shift (pergeseran) may move money between lines but not grow the DPA's total."""
        if self.revision_kind is RevisionKind.SHIFT and self.total > self.approved_total:
            raise FailedPrecondition(
                f"budget plan {self.id} is in a shift (pergeseran) of its DPA: it totals Rp{self.total:,}, "
                f"above the DPA's Rp{self.approved_total:,} by Rp{self.total - self.approved_total:,}; "
                "a larger total needs an amendment (perubahan)"
            )

    def submit(self, *, expected_version: int | None, actor: str, now: dt.datetime) -> None:
        """Hand the plan to TAPD (by the head of the agency); the caller has checked the ceilings."""
        if not self.lines:
            raise FailedPrecondition(f"budget plan {self.id} has no lines to submit")
        self.check_shift()

        def clear_review() -> None:
            self.review_note, self.line_notes = "", {}

        self._transition(
            "submit", expected_version=expected_version, actor=actor, now=now, detail={}, apply=clear_review
        )
        self.events.append(BudgetPlanSubmitted(self.summary()))

    def verify(self, *, expected_version: int | None, actor: str, now: dt.datetime) -> None:
        """TAPD found the plan in order."""
        self._transition("verify", expected_version=expected_version, actor=actor, now=now, detail={})

    def return_for_rework(
        self, note: str, line_notes: dict[int, str], *, expected_version: int | None, actor: str, now: dt.datetime
    ) -> None:
        """TAPD sends the plan back with a note and notes on single lines (`notes[<line number>]`)."""
        violations: list[FieldViolation] = []
        clean: dict[int, str] = {}
        for number, text in line_notes.items():
            if number not in self.lines:
                violations.append(
                    FieldViolation(f"notes[{number}].line_number", f"plan {self.id} has no line {number}")
                )
            clean[number] = _text(text, f"notes[{number}].note", violations, low=2, high=2000)
        note = _text(note, "note", violations, low=0, high=2000)
        if not note and not clean:
            violations.append(FieldViolation("note", "say why the plan goes back: a note or notes on lines"))
        if violations:
            raise InvalidArgument(violations)
        detail = {"note": note, "line_notes": {str(k): v for k, v in sorted(clean.items())}}

        def keep_notes() -> None:
            self.review_note, self.line_notes = note, clean

        self._transition(
            "return", expected_version=expected_version, actor=actor, now=now, detail=detail, apply=keep_notes
        )
        self.events.append(BudgetPlanReturned(self.summary(), dict(clean)))

    def approve(self, *, expected_version: int | None, actor: str, now: dt.datetime) -> None:
        """TAPD approves: the plan becomes the executable DPA (again, after a revision).

        An approved revision raises BudgetRevised and also BudgetPlanApproved, so consumers
        that keep the DPA in force (planning's approved budget) need no second handler.
        """
        self.check_shift()
        previous_total = self.approved_total
        self._transition(
            "approve",
            expected_version=expected_version,
            actor=actor,
            now=now,
            detail={},
            apply=lambda: setattr(self, "approved_total", self.total),
        )
        self.events.append(BudgetPlanApproved(self.summary()))
        if self.revision and self.revision_kind is not None:
            self.events.append(BudgetRevised(self.summary(), self.revision, self.revision_kind, previous_total))

    def revise(
        self, kind: RevisionKind, reason: str, *, expected_version: int | None, actor: str, now: dt.datetime
    ) -> None:
        """Open revision `revision + 1` of the approved plan: a draft again, under the same rules."""
        violations: list[FieldViolation] = []
        reason = _text(reason, "reason", violations, low=2, high=2000)
        if violations:
            raise InvalidArgument(violations)

        def open_revision() -> None:
            self.revision += 1
            self.revision_kind = kind
            self.review_note, self.line_notes = "", {}

        self._transition(
            "revise",
            expected_version=expected_version,
            actor=actor,
            now=now,
            detail={"revision": self.revision + 1, "kind": kind.value, "reason": reason},
            apply=open_revision,
        )


@dataclass(frozen=True)
class FieldChange:
    """One field of a line, before and after."""

    field: str
    old: Any
    new: Any


@dataclass(frozen=True)
class LineDiff:
    """How one line differs between two versions: "added", "removed" or "changed"."""

    kind: str
    number: int
    changes: tuple[FieldChange, ...]


def diff_snapshots(old: dict[str, Any], new: dict[str, Any]) -> list[LineDiff]:
    """Lines added, removed and changed from snapshot `old` to snapshot `new`, by line number."""
    before = {line["number"]: line for line in old["lines"]}
    after = {line["number"]: line for line in new["lines"]}
    out: list[LineDiff] = []
    for number in sorted(before.keys() | after.keys()):
        a, b = before.get(number), after.get(number)
        if a is None and b is not None:
            out.append(LineDiff("added", number, tuple(FieldChange(k, None, v) for k, v in sorted(b.items()))))
        elif b is None and a is not None:
            out.append(LineDiff("removed", number, tuple(FieldChange(k, v, None) for k, v in sorted(a.items()))))
        elif a is not None and b is not None and a != b:
            keys = sorted(a.keys() | b.keys())
            out.append(
                LineDiff(
                    "changed", number, tuple(FieldChange(k, a.get(k), b.get(k)) for k in keys if a.get(k) != b.get(k))
                )
            )
    return out
