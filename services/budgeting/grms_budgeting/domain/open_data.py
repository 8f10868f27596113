"""Open data on the approved budget: unit-price anomalies against e-HSB, and the combined audit head.

Two anomaly rules (DOMAIN §1.3, §0.7), over the lines of approved plans that name a standard item:

* bunched at the ceiling — a line whose unit price is at least 98 % of the item's standard price
  (the SSH price is a ceiling, so a price list that is always "just under" it is a red flag);
  summarised per agency as counts and shares of lines and of money;
* the same item priced differently across agencies — for each item budgeted by two or more
  agencies at more than one unit price: the minimum, maximum and spread, and each agency's prices.

Both rules fold an iterable of lines into per-agency and per-item totals, so the memory they
need grows with agencies × items, never with lines.

The combined head: SHA-256 over one line "<plan_id> <seq> <hash>\\n" per plan in plan id order,
so anyone holding the published per-plan heads can recompute it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field

__all__ = [
    "CEILING_THRESHOLD_BP",
    "AgencyPrice",
    "Anomalies",
    "CeilingBunching",
    "PlanHead",
    "PriceSpread",
    "PricedLine",
    "basis_points",
    "combined_head",
    "unit_price_anomalies",
]

#: A line is "at the ceiling" from 98 % of the standard price up, in basis points.
CEILING_THRESHOLD_BP = 9800


def basis_points(part: int, whole: int) -> int:
    """`part / whole` in basis points, rounded half up; 0 when `whole` is 0."""
    if whole <= 0:
        return 0
    return (part * 10_000 * 2 + whole) // (whole * 2)


@dataclass(frozen=True)
class PricedLine:
    """A line of an approved plan that names a standard item, with the item's standard price."""

    agency_code: str
    agency_name: str
    standard_item_code: str
    item_name: str
    unit: str
    standard_price: int
    unit_price: int
    amount: int


@dataclass(frozen=True)
class CeilingBunching:
    """One agency's lines at the ceiling, out of its lines that name a standard item."""

    agency_code: str
    agency_name: str
    priced_lines: int
    lines_at_ceiling: int
    priced_amount: int
    amount_at_ceiling: int

    @property
    def line_share_bp(self) -> int:
        return basis_points(self.lines_at_ceiling, self.priced_lines)

    @property
    def amount_share_bp(self) -> int:
        return basis_points(self.amount_at_ceiling, self.priced_amount)


@dataclass(frozen=True)
class AgencyPrice:
    """How one agency priced one item."""

    agency_code: str
    agency_name: str
    min_unit_price: int
    max_unit_price: int
    line_count: int


@dataclass(frozen=True)
class PriceSpread:
    """A standard item priced differently across agencies."""

    standard_item_code: str
    item_name: str
    unit: str
    standard_price: int
    agencies: tuple[AgencyPrice, ...]

    @property
    def min_unit_price(self) -> int:
        return min(a.min_unit_price for a in self.agencies)

    @property
    def max_unit_price(self) -> int:
        return max(a.max_unit_price for a in self.agencies)

    @property
    def spread(self) -> int:
        return self.max_unit_price - self.min_unit_price

    @property
    def spread_bp(self) -> int:
        return basis_points(self.spread, self.min_unit_price)


@dataclass(frozen=True)
class Anomalies:
    """Both findings of a year."""

    ceiling_bunching: tuple[CeilingBunching, ...]
    price_spreads: tuple[PriceSpread, ...]
    threshold_bp: int = CEILING_THRESHOLD_BP


@dataclass
class _AgencyTally:
    name: str
    priced_lines: int = 0
    lines_at_ceiling: int = 0
    priced_amount: int = 0
    amount_at_ceiling: int = 0


@dataclass
class _ItemTally:
    name: str
    unit: str
    standard_price: int
    by_agency: dict[str, list[int]] = field(default_factory=dict)  # code → [min, max, count]
    agency_names: dict[str, str] = field(default_factory=dict)


def at_ceiling(unit_price: int, standard_price: int, threshold_bp: int = CEILING_THRESHOLD_BP) -> bool:
    """True when `unit_price` is at least `threshold_bp` of `standard_price` (exact integer arithmetic)."""
    return standard_price > 0 and unit_price * 10_000 >= standard_price * threshold_bp


def unit_price_anomalies(lines: Iterable[PricedLine], *, threshold_bp: int = CEILING_THRESHOLD_BP) -> Anomalies:
    """Fold `lines` into both findings; see the module docstring."""
    agencies: dict[str, _AgencyTally] = {}
    items: dict[str, _ItemTally] = {}
    for line in lines:
        tally = agencies.setdefault(line.agency_code, _AgencyTally(line.agency_name))
        tally.priced_lines += 1
        tally.priced_amount += line.amount
        if at_ceiling(line.unit_price, line.standard_price, threshold_bp):
            tally.lines_at_ceiling += 1
            tally.amount_at_ceiling += line.amount
        item = items.setdefault(line.standard_item_code, _ItemTally(line.item_name, line.unit, line.standard_price))
        item.agency_names[line.agency_code] = line.agency_name
        seen = item.by_agency.get(line.agency_code)
        if seen is None:
            item.by_agency[line.agency_code] = [line.unit_price, line.unit_price, 1]
        else:
            seen[0] = min(seen[0], line.unit_price)
            seen[1] = max(seen[1], line.unit_price)
            seen[2] += 1
    bunching = [
        CeilingBunching(code, t.name, t.priced_lines, t.lines_at_ceiling, t.priced_amount, t.amount_at_ceiling)
        for code, t in agencies.items()
        if t.lines_at_ceiling
    ]
    bunching.sort(key=lambda b: (-b.line_share_bp, -b.amount_at_ceiling, b.agency_code))
    spreads: list[PriceSpread] = []
    for code, item in items.items():
        if len(item.by_agency) < 2:
            continue
        prices = tuple(
            AgencyPrice(agency, item.agency_names[agency], low, high, count)
            for agency, (low, high, count) in sorted(item.by_agency.items())
        )
        spread = PriceSpread(code, item.name, item.unit, item.standard_price, prices)
        if spread.spread > 0:
            spreads.append(spread)
    spreads.sort(key=lambda s: (-s.spread_bp, -s.spread, s.standard_item_code))
    return Anomalies(tuple(bunching), tuple(spreads), threshold_bp)


@dataclass(frozen=True)
class PlanHead:
    """The latest link of one plan's audit chain."""

    plan_id: str
    agency_code: str
    fiscal_year: int
    seq: int
    hash: str


def combined_head(heads: Iterable[PlanHead]) -> str:
    """SHA-256 (hex) over "<plan_id> <seq> <hash>\\n" per plan, in plan id order."""
    digest = hashlib.sha256()
    for head in sorted(heads, key=lambda h: h.plan_id):
        digest.update(f"{head.plan_id} {head.seq} {head.hash}\n".encode())
    return digest.hexdigest()
