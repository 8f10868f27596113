"""Deterministic FY2025 planning demo for the province, as plain data: sub-activities and RUP packages.

About 3,000 sub-activities of the 48 provincial agencies (codes U.BB.PP.K.KK.SSSS under each
agency's urusan and bidang), each with an output indicator, a place, a funding source and the
default monthly-plan (F1) curve of its kind of work; and about 1,200 procurement packages: ≈ 70 %
direct procurement (pengadaan langsung / e-purchasing, under the thresholds), ≈ 25 % tender or
seleksi, ≈ 5 % self-managed (swakelola) — DOMAIN.md §6.1. Amounts are whole rupiah, the total
belanja ≈ Rp 16.5 T (belanja operasi + modal of the 2025 RAPBD, without transfers).

The budgeting engineer is writing a sub-activity catalogue of budgeting's own demo; once it
lands, this module should take its codes and amounts from there (one catalogue for both),
keeping the package and F1 generation below. Everything is derived from SHA-256 of stable
keys, so two runs (and two machines) produce the same data.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from grms_cli import demo_data

__all__ = [
    "FISCAL_YEAR",
    "TOTAL_BELANJA",
    "DemoPackage",
    "DemoSubActivity",
    "catalogue",
    "packages",
]

FISCAL_YEAR = 2025
TOTAL_BELANJA = 16_500_000_000_000
SUB_ACTIVITIES_PER_AGENCY = 62  # 48 × 62 = 2,976
PACKAGE_COUNT = 1_200
SPLIT_CASES = 6
# Pengadaan langsung ceilings (grms_planning.domain.procurement.DEFAULT_THRESHOLDS).
DIRECT_LIMIT = {
    "barang": 200_000_000,
    "pekerjaan_konstruksi": 400_000_000,
    "jasa_konsultansi": 100_000_000,
    "jasa_lainnya": 200_000_000,
}

_ACTIONS = (
    ("Penyediaan", "services", "barang"),
    ("Pengadaan", "goods", "barang"),
    ("Pembangunan", "construction", "pekerjaan_konstruksi"),
    ("Rehabilitasi", "construction", "pekerjaan_konstruksi"),
    ("Pemeliharaan", "services", "jasa_lainnya"),
    ("Penyusunan Kajian", "services", "jasa_konsultansi"),
    ("Fasilitasi", "services", "jasa_lainnya"),
    ("Koordinasi dan Sinkronisasi", "services", "jasa_lainnya"),
    ("Monitoring dan Evaluasi", "services", "jasa_lainnya"),
    ("Peningkatan Kapasitas", "services", "jasa_lainnya"),
)
_OBJECTS = (
    "Sarana dan Prasarana Pelayanan",
    "Peralatan dan Mesin",
    "Gedung Kantor",
    "Sistem Informasi",
    "Data dan Statistik",
    "Layanan Publik",
    "Jaringan dan Infrastruktur",
    "Sumber Daya Manusia",
    "Kelembagaan Masyarakat",
    "Kawasan Prioritas",
    "Kemitraan Daerah",
    "Dokumen Perencanaan",
)
_TAGS = ("stunting", "kemiskinan", "inflasi", "pengangguran", "infrastruktur", "pendidikan", "kesehatan", "spbe")
_SOURCES = ("PAD", "DAU", "DAK Fisik", "DAK Non Fisik", "DBH")
_UNITS = ("dokumen", "unit", "paket", "orang", "kegiatan", "laporan", "lokasi")
# Accounts (kode rekening belanja) by procurement type.
_ACCOUNTS = {
    "barang": ("5.1.02.01.01.0024", "5.1.02.01.01.0026", "5.2.02.05.01.0001"),
    "pekerjaan_konstruksi": ("5.2.03.01.01.0001", "5.2.04.01.01.0001", "5.2.03.03.01.0001"),
    "jasa_konsultansi": ("5.1.02.02.01.0033", "5.1.02.02.01.0034"),
    "jasa_lainnya": ("5.1.02.02.01.0013", "5.1.02.02.01.0026", "5.1.02.02.01.0049"),
}


def _n(key: str, modulo: int) -> int:
    """A stable number in [0, modulo) from `key`."""
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big") % modulo


@dataclass(frozen=True)
class DemoSubActivity:
    """A sub-activity of the demo, with its output indicator, place and default F1 curve."""

    agency_code: str
    code: str
    name: str
    budget: int
    village_code: str
    funding_source: str
    tags: tuple[str, ...]
    indicator_name: str
    indicator_unit: str
    indicator_target: str
    curve: str  # construction, goods or services (grms_planning.domain.curves.CurveShape)
    procurement_type: str


@dataclass(frozen=True)
class DemoPackage:
    """An RUP package of a demo sub-activity (by the sub-activity's agency and code)."""

    agency_code: str
    sub_activity_code: str
    account_code: str
    name: str
    procurement_type: str
    mode: str  # penyedia or swakelola
    method: str  # "" for swakelola
    value: int
    domestic_product: bool
    small_business: bool
    selection: tuple[int, int] | None
    contract: tuple[int, int]
    use: tuple[int, int]


def _village(key: str) -> str:
    regions = [g.code for g in demo_data.governments() if g.code != demo_data.PROVINCE_CODE]
    region = regions[_n(key + "/region", len(regions))]
    return f"{region}.{1 + _n(key + '/district', 20):02d}.{2001 + _n(key + '/village', 15):04d}"


def catalogue() -> list[DemoSubActivity]:
    """The ~3,000 sub-activities, by agency then code; their budgets add up to TOTAL_BELANJA."""
    drafts: list[tuple[str, str, str, int, tuple[str, str, str]]] = []
    for agency in demo_data.provincial_agencies():
        urusan, bidang = agency.code.split(".")[:2]
        for i in range(SUB_ACTIVITIES_PER_AGENCY):
            key = f"{agency.code}/{i}"
            # Program 01 is the support programme (kegiatan type 1); the others are substantive (type 2).
            program = 1 if i < 12 else 2 + (i - 12) // 10
            kind = 1 if program == 1 else 2
            activity = 1 + (i % 12) // 4 if program == 1 else 1 + ((i - 12) % 10) // 4
            code = f"{urusan}.{bidang}.{program:02d}.{kind}.{activity:02d}.{1 + i:04d}"
            action = _ACTIONS[_n(key + "/action", len(_ACTIONS))]
            thing = _OBJECTS[_n(key + "/object", len(_OBJECTS))]
            name = f"{action[0]} {thing} {agency.short_name}"
            # A heavy-tailed weight (1 … ~400) so a few sub-activities carry most of the money.
            weight = 1 + (_n(key + "/w", 1000) ** 3) // 2_500_000
            drafts.append((agency.code, code, name, weight, action))
    total_weight = sum(d[3] for d in drafts)
    out: list[DemoSubActivity] = []
    assigned = 0
    for i, (agency_code, code, name, weight, action) in enumerate(drafts):
        if i == len(drafts) - 1:
            budget = TOTAL_BELANJA - assigned
        else:
            budget = TOTAL_BELANJA * weight // total_weight // 1000 * 1000
        assigned += budget
        key = f"{agency_code}/{code}"
        tag = _TAGS[_n(key + "/tag", len(_TAGS))] if _n(key + "/tagged", 3) == 0 else ""
        out.append(
            DemoSubActivity(
                agency_code=agency_code,
                code=code,
                name=name,
                budget=budget,
                village_code=_village(key),
                funding_source=_SOURCES[_n(key + "/source", len(_SOURCES))],
                tags=(tag,) if tag else (),
                indicator_name=f"Jumlah {name.split(' ', 1)[1].lower()} yang terlaksana",
                indicator_unit=_UNITS[_n(key + "/unit", len(_UNITS))],
                indicator_target=str(1 + _n(key + "/target", 250)),
                curve=action[1],
                procurement_type=action[2],
            )
        )
    return out


def packages(subs: list[DemoSubActivity] | None = None) -> list[DemoPackage]:
    """The ~1,200 RUP packages: 70 % direct, 25 % tender/seleksi, 5 % swakelola, each within its budget."""
    subs = subs if subs is not None else catalogue()
    # Tenders go to the largest sub-activities, direct procurement to the rest.
    by_budget = sorted(subs, key=lambda s: (-s.budget, s.agency_code, s.code))
    tenders, direct, swakelola = PACKAGE_COUNT * 25 // 100, PACKAGE_COUNT * 70 // 100, PACKAGE_COUNT * 5 // 100
    out: list[DemoPackage] = []
    for s in by_budget[:tenders]:
        kind = s.procurement_type
        method = "seleksi" if kind == "jasa_konsultansi" else ("tender" if s.budget > 2 * 10**10 else "tender_cepat")
        value = max(DIRECT_LIMIT[kind] + 1_000_000, s.budget * 6 // 10 // 1000 * 1000)
        out.append(_package(s, 1, kind, "penyedia", method, min(value, s.budget), (2, 4), (5, 11), (6, 12)))
    rest = by_budget[tenders:]
    # Six sub-activities where a goods purchase was cut into three pengadaan langsung packages,
    # each just under the Rp 200 juta ceiling: the cases the split-package detector should find.
    split_cases = SPLIT_CASES
    for case in range(split_cases):
        s = rest[case * 11]
        for n in range(3):
            value = (170 + _n(f"{s.code}/split/{n}", 26)) * 1_000_000
            out.append(
                _package(s, 20 + n, "barang", "penyedia", "pengadaan_langsung", value, (2, 2), (3, 4), (4, 12),
                         account=_ACCOUNTS["barang"][0])
            )  # fmt: skip
    for i in range(direct - 3 * split_cases):
        s = rest[(i * 7) % len(rest)]
        kind = s.procurement_type if s.procurement_type != "pekerjaan_konstruksi" else "barang"
        method = "e_purchasing" if _n(f"{s.code}/{i}/m", 10) < 4 else "pengadaan_langsung"
        limit = min(DIRECT_LIMIT[kind], s.budget // 2)
        value = max(5_000_000, limit * (40 + _n(f"{s.code}/{i}/v", 55)) // 100 // 1000 * 1000)
        out.append(_package(s, 2 + i // len(rest), kind, "penyedia", method, value, (2, 2), (3, 4), (4, 12)))
    for i in range(swakelola):
        s = rest[(i * 13 + 5) % len(rest)]
        value = max(5_000_000, s.budget // 5 // 1000 * 1000)
        out.append(_package(s, 9, "jasa_lainnya", "swakelola", "", value, None, (2, 11), (2, 12)))
    return out


def _package(
    s: DemoSubActivity,
    n: int,
    kind: str,
    mode: str,
    method: str,
    value: int,
    selection: tuple[int, int] | None,
    contract: tuple[int, int],
    use: tuple[int, int],
    *,
    account: str = "",
) -> DemoPackage:
    accounts = _ACCOUNTS[kind]
    account = account or accounts[_n(f"{s.agency_code}/{s.code}/{n}/acc", len(accounts))]
    return DemoPackage(
        agency_code=s.agency_code,
        sub_activity_code=s.code,
        account_code=account,
        name=f"{s.name} — paket {n}",
        procurement_type=kind,
        mode=mode,
        method=method,
        value=value,
        domestic_product=_n(f"{s.code}/{n}/pdn", 10) < 8,
        small_business=mode == "penyedia" and method in ("pengadaan_langsung", "e_purchasing"),
        selection=selection,
        contract=contract,
        use=use,
    )
