"""Redaction of NIK, Indonesian phone numbers and e-mail addresses from public text."""

from __future__ import annotations

import pytest
from grms_complaints.domain.redaction import REDACTED_EMAIL, REDACTED_NIK, REDACTED_PHONE, redact


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("NIK saya 3374015512900003, mohon dibantu", f"NIK saya {REDACTED_NIK}, mohon dibantu"),
        ("NIK 3374 0155 1290 0003.", f"NIK {REDACTED_NIK}."),
        ("WA 081225550101 ya", f"WA {REDACTED_PHONE} ya"),
        ("hubungi +62 812-2555-0101", f"hubungi {REDACTED_PHONE}"),
        ("atau 6281225550101", f"atau {REDACTED_PHONE}"),
        ("kantor (024) 8441256", f"kantor {REDACTED_PHONE}"),
        ("SMS 0811-2920-200 LaporGub", f"SMS {REDACTED_PHONE} LaporGub"),
        ("surel siti.rahayu@example.id", f"surel {REDACTED_EMAIL}"),
        ("x: a.b+c@mail.co.id dan 0812 2555 0101", f"x: {REDACTED_EMAIL} dan {REDACTED_PHONE}"),
    ],
)
def test_personal_data_is_removed(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Jalan rusak 200 meter dari km 12, RT 03/RW 05, sejak 2024",
        "Anggaran Rp 1.500.000 untuk 3 titik lampu",
        "Kode kegiatan 1.03.02.2.01.0001",
    ],
)
def test_ordinary_numbers_stay(text: str) -> None:
    assert redact(text) == text
