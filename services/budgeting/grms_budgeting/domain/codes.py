"""Versioned reference codes: the activity nomenclature and the account codes (kode rekening) per fiscal year.

Both are national lists (Permendagri 90/2019, Kepmendagri 050-5889/2021) that change from
year to year, so every code is keyed by its fiscal year: a plan of 2026 uses the 2026 lists.
"""

from __future__ import annotations

import enum
import functools
import re
from dataclasses import dataclass

from grms_kit.errors import FieldViolation, InvalidArgument

__all__ = [
    "AccountCode",
    "NomenclatureCode",
    "NomenclatureLevel",
    "NomenclatureRow",
    "account_parts",
    "check_fiscal_year",
    "normalize_account_code",
    "parent_account_code",
    "parse_nomenclature_code",
    "validate_account_batch",
    "validate_nomenclature_batch",
]


class NomenclatureLevel(enum.StrEnum):
    """The five levels of the nomenclature tree: urusan · bidang · program · kegiatan · sub-kegiatan."""

    AFFAIR = "affair"
    SECTOR = "sector"
    PROGRAM = "program"
    ACTIVITY = "activity"
    SUB_ACTIVITY = "sub_activity"


# Segment shapes per level; the kegiatan level adds two segments ("2.01": type digit + number).
_NOMENCLATURE = [
    (NomenclatureLevel.AFFAIR, re.compile(r"^\d$")),
    (NomenclatureLevel.SECTOR, re.compile(r"^\d\.\d{2}$")),
    (NomenclatureLevel.PROGRAM, re.compile(r"^\d\.\d{2}\.\d{2}$")),
    (NomenclatureLevel.ACTIVITY, re.compile(r"^\d\.\d{2}\.\d{2}\.\d\.\d{2}$")),
    (NomenclatureLevel.SUB_ACTIVITY, re.compile(r"^\d\.\d{2}\.\d{2}\.\d\.\d{2}\.\d{4}$")),
]
_PARENT_SEGMENTS = {
    NomenclatureLevel.SECTOR: 1,
    NomenclatureLevel.PROGRAM: 2,
    NomenclatureLevel.ACTIVITY: 3,
    NomenclatureLevel.SUB_ACTIVITY: 5,
}
_NOMENCLATURE_HINT = 'must be a nomenclature code like "1", "1.02", "1.02.02", "1.02.02.2.01" or "1.02.02.2.01.0001"'


def check_fiscal_year(year: int, path: str = "fiscal_year") -> None:
    """Raise InvalidArgument unless `year` is a plausible fiscal year (tahun anggaran)."""
    if not 2000 <= year <= 2100:
        raise InvalidArgument.field(path, "must be a fiscal year between 2000 and 2100")


def parse_nomenclature_code(code: str) -> tuple[NomenclatureLevel, str]:
    """The level of a nomenclature code and its parent's code ("" for an urusan); ValueError if malformed."""
    code = code.strip()
    for level, pattern in _NOMENCLATURE:
        if pattern.match(code):
            if level is NomenclatureLevel.AFFAIR:
                return level, ""
            return level, ".".join(code.split(".")[: _PARENT_SEGMENTS[level]])
    raise ValueError(_NOMENCLATURE_HINT)


@dataclass(frozen=True)
class NomenclatureCode:
    """One node of the nomenclature of one fiscal year; only sub-activities carry budget lines.

    `for_province` / `for_regency_city` copy SIPD's `set_prov` / `set_kab_kota`: which tier of
    government may budget on the code.
    """

    fiscal_year: int
    code: str
    name: str
    level: NomenclatureLevel
    parent_code: str
    for_province: bool = True
    for_regency_city: bool = True

    @property
    def carries_budget_lines(self) -> bool:
        """True for sub-activities (sub kegiatan), the only level budget plans are made on."""
        return self.level is NomenclatureLevel.SUB_ACTIVITY


@dataclass(frozen=True)
class NomenclatureRow:
    """A nomenclature code as an import lists it; level and parent follow from the code."""

    code: str
    name: str
    for_province: bool = True
    for_regency_city: bool = True


def _name_ok(name: str) -> str:
    name = " ".join(name.split())
    return name if 2 <= len(name) <= 500 else ""


def validate_nomenclature_batch(
    fiscal_year: int, rows: list[NomenclatureRow], *, existing: set[str]
) -> list[NomenclatureCode]:
    """Check an import of nomenclature rows all at once; every bad row is named (`codes[i].code`).

    `existing` holds the stored codes among the rows and their parents: a row's parent must
    be in the batch or stored, and a stored code cannot be imported again. All or nothing.
    """
    check_fiscal_year(fiscal_year)
    violations: list[FieldViolation] = []
    out: list[NomenclatureCode] = []
    batch = {r.code.strip() for r in rows}
    seen: set[str] = set()
    if not rows:
        raise InvalidArgument.field("codes", "must list at least one code")
    for i, row in enumerate(rows):
        code = row.code.strip()
        try:
            level, parent = parse_nomenclature_code(code)
        except ValueError as exc:
            violations.append(FieldViolation(f"codes[{i}].code", str(exc)))
            continue
        if code in seen:
            violations.append(FieldViolation(f"codes[{i}].code", f"{code} is listed twice"))
        elif code in existing:
            violations.append(FieldViolation(f"codes[{i}].code", f"{code} is already imported for {fiscal_year}"))
        seen.add(code)
        if parent and parent not in batch and parent not in existing:
            violations.append(FieldViolation(f"codes[{i}].code", f"parent {parent} is neither stored nor imported"))
        name = _name_ok(row.name)
        if not name:
            violations.append(FieldViolation(f"codes[{i}].name", "must be 2 to 500 characters"))
        if not (row.for_province or row.for_regency_city):
            violations.append(FieldViolation(f"codes[{i}]", "must be usable by provinces, regencies/cities or both"))
        out.append(NomenclatureCode(fiscal_year, code, name, level, parent, row.for_province, row.for_regency_city))
    if violations:
        raise InvalidArgument(violations)
    return out


# Account codes: akun . kelompok . jenis . objek . rincian objek . sub-rincian objek.
_ACCOUNT = re.compile(r"^(\d)(?:\.(\d))?(?:\.(\d{2}))?(?:\.(\d{2}))?(?:\.(\d{2,3}))?(?:\.(\d{4,5}))?$")
_ACCOUNT_HINT = 'must be an account code like "5.1.02.01.01.0024" or "5.1.02.01.001.00024"'
ACCOUNT_LEVELS = 6


def account_parts(code: str) -> list[int]:
    """The numeric segments of an account code in either circulating form; ValueError if malformed."""
    match = _ACCOUNT.match(code.strip())
    if not match:
        raise ValueError(_ACCOUNT_HINT)
    groups = list(match.groups())
    filled = [g for g in groups if g is not None]
    # Segments may only be left off at the end ("5.1.02" yes, a gap never).
    if groups[: len(filled)] != filled:
        raise ValueError(_ACCOUNT_HINT)
    return [int(g) for g in filled]


@functools.lru_cache(maxsize=8192)
def normalize_account_code(code: str) -> tuple[str, str]:
    """The canonical and the display form of an account code (memoised: an import asks for the same few codes).

    Canonical is the wide SIPD-RI form `5.1.02.01.001.00024` (3-digit rincian objek, 5-digit
    sub-rincian): every narrow code widens losslessly, while a wide code such as `…101.…`
    has no narrow form, so the wide one is the key. Display is the familiar RKA form
    `5.1.02.01.01.0024` whenever the numbers fit, else the canonical form.
    """
    parts = account_parts(code)
    widths_canonical = [1, 1, 2, 2, 3, 5]
    widths_display = [1, 1, 2, 2, 2, 4]
    canonical = ".".join(str(p).zfill(w) for p, w in zip(parts, widths_canonical, strict=False))
    if all(len(str(p)) <= w for p, w in zip(parts, widths_display, strict=False)):
        display = ".".join(str(p).zfill(w) for p, w in zip(parts, widths_display, strict=False))
    else:
        display = canonical
    return canonical, display


def parent_account_code(canonical: str) -> str:
    """The canonical code one level up ("" for an akun)."""
    return canonical.rsplit(".", 1)[0] if "." in canonical else ""


@dataclass(frozen=True)
class AccountCode:
    """One account code (kode rekening) of one fiscal year, at one of six levels."""

    fiscal_year: int
    code: str
    display_code: str
    name: str
    level: int
    parent_code: str

    @property
    def is_expenditure_item(self) -> bool:
        """True for a full six-level expenditure code (belanja, akun 5): what a budget line uses."""
        return self.level == ACCOUNT_LEVELS and self.code.startswith("5.")


def validate_account_batch(fiscal_year: int, rows: list[tuple[str, str]], *, existing: set[str]) -> list[AccountCode]:
    """Check an import of (code, name) rows all at once, naming every bad row (`accounts[i].code`)."""
    check_fiscal_year(fiscal_year)
    if not rows:
        raise InvalidArgument.field("accounts", "must list at least one account code")
    violations: list[FieldViolation] = []
    parsed: list[tuple[int, str, str, str]] = []
    for i, (raw, name) in enumerate(rows):
        try:
            canonical, display = normalize_account_code(raw)
        except ValueError as exc:
            violations.append(FieldViolation(f"accounts[{i}].code", str(exc)))
            continue
        clean = _name_ok(name)
        if not clean:
            violations.append(FieldViolation(f"accounts[{i}].name", "must be 2 to 500 characters"))
        parsed.append((i, canonical, display, clean))
    batch = [p[1] for p in parsed]
    seen: set[str] = set()
    out: list[AccountCode] = []
    for i, canonical, display, name in parsed:
        if canonical in seen:
            violations.append(FieldViolation(f"accounts[{i}].code", f"{canonical} is listed twice"))
        elif canonical in existing:
            violations.append(
                FieldViolation(f"accounts[{i}].code", f"{canonical} is already imported for {fiscal_year}")
            )
        seen.add(canonical)
        parent = parent_account_code(canonical)
        if parent and parent not in batch and parent not in existing:
            violations.append(FieldViolation(f"accounts[{i}].code", f"parent {parent} is neither stored nor imported"))
        level = canonical.count(".") + 1
        out.append(AccountCode(fiscal_year, canonical, display, name, level, parent))
    if violations:
        raise InvalidArgument(violations)
    return out
