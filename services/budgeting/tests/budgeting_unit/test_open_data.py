"""The open-data rules: unit prices bunched at the ceiling, one item priced apart, the combined audit head."""

from __future__ import annotations

import hashlib

from grms_budgeting.domain.open_data import (
    PlanHead,
    PricedLine,
    at_ceiling,
    basis_points,
    combined_head,
    unit_price_anomalies,
)

PAPER = ("1.1.12.01.03.0005", "Kertas HVS", "rim", 55_000)
PEN = ("1.1.12.01.03.0009", "Pulpen", "buah", 5_000)


def line(agency: str, item: tuple[str, str, str, int], price: int, volume: int = 10) -> PricedLine:
    code, name, unit, standard = item
    return PricedLine(agency, f"Dinas {agency}", code, name, unit, standard, price, price * volume)


def test_the_ceiling_starts_at_98_percent_of_the_standard_price_exactly() -> None:
    assert at_ceiling(53_900, 55_000)  # exactly 98 %
    assert not at_ceiling(53_899, 55_000)
    assert at_ceiling(55_000, 55_000)
    assert not at_ceiling(0, 0)


def test_bunching_is_summarised_per_agency_with_counts_and_shares_most_bunched_first() -> None:
    found = unit_price_anomalies(
        [
            line("A", PAPER, 55_000),  # at the ceiling
            line("A", PAPER, 54_000),  # 98.2 %: at the ceiling
            line("A", PEN, 4_000),  # 80 %: not
            line("B", PEN, 5_000, volume=4),  # at the ceiling
            line("B", PAPER, 40_000),
            line("C", PAPER, 30_000),  # never at the ceiling: not listed
        ]
    )
    assert [b.agency_code for b in found.ceiling_bunching] == ["A", "B"]
    a, b = found.ceiling_bunching
    assert (a.priced_lines, a.lines_at_ceiling, a.line_share_bp) == (3, 2, 6667)
    assert (a.priced_amount, a.amount_at_ceiling) == (1_130_000, 1_090_000)
    assert a.amount_share_bp == basis_points(1_090_000, 1_130_000) == 9646
    assert (b.priced_lines, b.lines_at_ceiling, b.line_share_bp, b.amount_share_bp) == (2, 1, 5000, 476)


def test_an_item_priced_differently_across_agencies_is_reported_with_min_max_and_spread() -> None:
    found = unit_price_anomalies(
        [
            line("B", PAPER, 50_000),
            line("A", PAPER, 40_000),
            line("A", PAPER, 45_000),
            line("A", PEN, 5_000),
            line("B", PEN, 5_000),  # the same price everywhere: no finding
            line("C", ("9.9", "Kursi", "unit", 900_000), 800_000),  # one agency only: no finding
        ]
    )
    assert [s.standard_item_code for s in found.price_spreads] == [PAPER[0]]
    spread = found.price_spreads[0]
    assert (spread.min_unit_price, spread.max_unit_price, spread.spread, spread.spread_bp) == (
        40_000,
        50_000,
        10_000,
        2500,
    )
    assert (spread.item_name, spread.unit, spread.standard_price) == ("Kertas HVS", "rim", 55_000)
    assert [(p.agency_code, p.min_unit_price, p.max_unit_price, p.line_count) for p in spread.agencies] == [
        ("A", 40_000, 45_000, 2),
        ("B", 50_000, 50_000, 1),
    ]


def test_spreads_are_ordered_widest_first_and_no_lines_means_no_findings() -> None:
    found = unit_price_anomalies(
        [line("A", PAPER, 50_000), line("B", PAPER, 55_000), line("A", PEN, 2_500), line("B", PEN, 5_000)]
    )
    assert [(s.standard_item_code, s.spread_bp) for s in found.price_spreads] == [(PEN[0], 10_000), (PAPER[0], 1000)]
    empty = unit_price_anomalies([])
    assert (empty.ceiling_bunching, empty.price_spreads, empty.threshold_bp) == ((), (), 9800)


def test_the_combined_head_is_sha256_over_the_heads_in_plan_id_order() -> None:
    heads = [PlanHead("p-2", "A", 2026, 3, "b" * 64), PlanHead("p-1", "B", 2026, 7, "a" * 64)]
    text = f"p-1 7 {'a' * 64}\np-2 3 {'b' * 64}\n"
    assert combined_head(heads) == hashlib.sha256(text.encode()).hexdigest()
    assert combined_head(reversed(heads)) == combined_head(heads)
    moved = [PlanHead("p-2", "A", 2026, 4, "c" * 64), heads[1]]
    assert combined_head(moved) != combined_head(heads)
    assert combined_head([]) == hashlib.sha256(b"").hexdigest()
