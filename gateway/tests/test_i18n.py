"""Translations, language negotiation, rupiah and WIB formatting."""

from __future__ import annotations

import datetime as dt

import pytest
from grms_gateway.i18n import MESSAGES, format_rupiah, format_wib, negotiate, translate


def test_both_languages_have_the_same_keys() -> None:
    assert set(MESSAGES["id"]) == set(MESSAGES["en"])
    assert all(MESSAGES["id"].values()) and all(MESSAGES["en"].values())


def test_translate_defaults_to_indonesian_and_formats() -> None:
    assert translate("home.health") == "Keadaan layanan"
    assert translate("home.health", "en") == "Service health"
    assert translate("problem.unavailable_detail", "en", service="monev").startswith("The monev service")
    assert translate("no.such.key", "en") == "no.such.key"


@pytest.mark.parametrize(
    ("query", "cookie", "header", "expected"),
    [
        (None, None, None, "id"),
        (None, None, "en-US,en;q=0.9", "en"),
        (None, None, "id-ID,id;q=0.9,en;q=0.8", "id"),
        (None, None, "fr-FR, en;q=0.5", "en"),
        (None, None, "en;q=0.2, id;q=0.9", "id"),
        (None, "en", "id", "en"),
        ("id", "en", "en", "id"),
        ("xx", None, None, "id"),
    ],
)
def test_negotiate(query: str | None, cookie: str | None, header: str | None, expected: str) -> None:
    cookies = {"lang": cookie} if cookie else {}
    assert negotiate(query=query, cookies=cookies, accept_language=header) == expected


@pytest.mark.parametrize(
    ("amount", "text"),
    [(0, "Rp 0"), (999, "Rp 999"), (1_000, "Rp 1.000"), (1_234_567, "Rp 1.234.567"), (-5_000, "-Rp 5.000"),
     (12_500_000_000_000, "Rp 12.500.000.000.000")],
)  # fmt: skip
def test_format_rupiah(amount: int, text: str) -> None:
    assert format_rupiah(amount) == text


def test_format_rupiah_refuses_fractions() -> None:
    with pytest.raises(TypeError):
        format_rupiah(1.5)  # type: ignore[arg-type]


def test_format_wib_shows_jakarta_time() -> None:
    moment = dt.datetime(2026, 11, 24, 17, 30, tzinfo=dt.UTC)
    assert format_wib(moment) == "25-11-2026 00:30 WIB"
    assert format_wib(moment, with_seconds=True) == "25-11-2026 00:30:00 WIB"
    with pytest.raises(ValueError, match="naive"):
        format_wib(dt.datetime(2026, 1, 1))
