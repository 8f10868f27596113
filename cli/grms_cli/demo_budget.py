"""Deterministic demo budget of Jawa Tengah for FY2025, as plain data: sub-activities, prices, lines, the curve.

The sub-activity catalogue (agency, nomenclature code, name, ceiling) is what planning's demo
reuses, so both services describe the same 3,000 sub-activities. Everything derives from
fixed tables and SHA-256 of stable keys: the same data on every machine and every run.

Figures (DOMAIN.md §6, §6.1): 48 provincial agencies; about 3,000 sub-activities and 100,000
RKA lines; total spending ≈ Rp 23.1 trillion, of which education and culture Rp 8.81 T and
transfers to regencies and cities (BPKAD) Rp 7.26 T; the monthly cumulative realisation
curve Jan 1 % … Dec 94 %. Sub-activity names and prices are plausible, not official.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache

from grms_cli import demo_data

__all__ = [
    "ACCOUNTS",
    "FISCAL_YEAR",
    "REALISATION_CURVE",
    "SUB_ACTIVITY_COUNT",
    "TOTAL_SPENDING",
    "DemoLine",
    "DemoPrice",
    "DemoSubActivity",
    "agency_ceilings",
    "cash_plan",
    "lines_of",
    "nomenclature",
    "realisation",
    "standard_prices",
    "sub_activities",
]

FISCAL_YEAR = 2025
TOTAL_SPENDING = 23_100_000_000_000
SUB_ACTIVITY_COUNT = 3_000
# Cumulative share of the year's spending disbursed by the end of each month, in percent (§6.1).
REALISATION_CURVE: tuple[int, ...] = (1, 3, 5, 8, 15, 28, 38, 48, 58, 68, 80, 94)

EDUCATION = "1.01.2.22.0.00.01.0000"  # Dinas Pendidikan dan Kebudayaan: Rp 8.81 T
FINANCE = "5.02.0.00.0.00.01.0000"  # BPKAD: transfers to regencies and cities, Rp 7.26 T
_FIXED = {EDUCATION: 8_810_000_000_000, FINANCE: 7_260_000_000_000}

# Six-level expenditure accounts (Kepmendagri 050-5889/2021 form) with their names.
ACCOUNTS: tuple[tuple[str, str], ...] = (
    ("5.1.01.01.01.0001", "Belanja Gaji Pokok PNS"),
    ("5.1.01.01.02.0001", "Belanja Tunjangan Keluarga PNS"),
    ("5.1.02.01.01.0024", "Belanja Alat/Bahan untuk Kegiatan Kantor-Alat Tulis Kantor"),
    ("5.1.02.01.01.0025", "Belanja Alat/Bahan untuk Kegiatan Kantor-Kertas dan Cover"),
    ("5.1.02.01.01.0052", "Belanja Makanan dan Minuman Rapat"),
    ("5.1.02.02.01.0003", "Belanja Honorarium Narasumber atau Pembahas"),
    ("5.1.02.02.01.0026", "Belanja Jasa Tenaga Administrasi"),
    ("5.1.02.03.02.0035", "Belanja Pemeliharaan Bangunan Gedung Kantor"),
    ("5.1.02.04.01.0001", "Belanja Perjalanan Dinas Biasa"),
    ("5.2.02.05.01.0005", "Belanja Modal Alat Kantor Lainnya"),
    ("5.2.03.01.01.0001", "Belanja Modal Bangunan Gedung Kantor"),
    ("5.2.04.01.01.0002", "Belanja Modal Jalan Provinsi"),
    ("5.4.02.01.01.0001", "Belanja Bantuan Keuangan Umum Daerah Provinsi kepada Kabupaten/Kota"),
)
_SALARY, _ALLOWANCE = ACCOUNTS[0][0], ACCOUNTS[1][0]
_TRANSFER = ACCOUNTS[-1][0]

# (price group, name, unit, base price, account) — each group yields 15 items.
_GROUPS: tuple[tuple[str, str, str, int, str], ...] = (
    ("ssh", "Pulpen", "buah", 3_500, "5.1.02.01.01.0024"),
    ("ssh", "Pensil", "buah", 2_500, "5.1.02.01.01.0024"),
    ("ssh", "Map Plastik", "buah", 4_000, "5.1.02.01.01.0024"),
    ("ssh", "Tinta Printer", "botol", 95_000, "5.1.02.01.01.0024"),
    ("ssh", "Toner Printer", "buah", 850_000, "5.1.02.01.01.0024"),
    ("ssh", "Ordner", "buah", 32_000, "5.1.02.01.01.0024"),
    ("ssh", "Stapler", "buah", 45_000, "5.1.02.01.01.0024"),
    ("ssh", "Flashdisk", "buah", 120_000, "5.1.02.01.01.0024"),
    ("ssh", "Kertas HVS", "rim", 55_000, "5.1.02.01.01.0025"),
    ("ssh", "Kertas Cover", "pak", 48_000, "5.1.02.01.01.0025"),
    ("ssh", "Amplop", "pak", 35_000, "5.1.02.01.01.0025"),
    ("ssh", "Kertas Foto", "pak", 75_000, "5.1.02.01.01.0025"),
    ("sbu", "Kudapan Rapat", "OK", 15_000, "5.1.02.01.01.0052"),
    ("sbu", "Makan Rapat", "OK", 40_000, "5.1.02.01.01.0052"),
    ("sbu", "Makan dan Kudapan Rapat Pejabat Eselon", "OK", 65_000, "5.1.02.01.01.0052"),
    ("sbu", "Nasi Kotak Kegiatan Lapangan", "OK", 35_000, "5.1.02.01.01.0052"),
    ("sbu", "Honorarium Narasumber Eselon", "OJ", 1_400_000, "5.1.02.02.01.0003"),
    ("sbu", "Honorarium Narasumber Akademisi", "OJ", 1_000_000, "5.1.02.02.01.0003"),
    ("sbu", "Honorarium Moderator", "OK", 700_000, "5.1.02.02.01.0003"),
    ("sbu", "Honorarium Pembahas", "OK", 500_000, "5.1.02.02.01.0003"),
    ("sbu", "Tenaga Administrasi Kegiatan", "OB", 3_000_000, "5.1.02.02.01.0026"),
    ("sbu", "Tenaga Pendukung Teknis", "OB", 3_500_000, "5.1.02.02.01.0026"),
    ("sbu", "Tenaga Kebersihan", "OB", 2_600_000, "5.1.02.02.01.0026"),
    ("sbu", "Tenaga Keamanan", "OB", 2_800_000, "5.1.02.02.01.0026"),
    ("hspk", "Pengecatan Dinding Gedung", "m2", 48_000, "5.1.02.03.02.0035"),
    ("hspk", "Perbaikan Atap Genteng", "m2", 185_000, "5.1.02.03.02.0035"),
    ("hspk", "Penggantian Keramik Lantai", "m2", 265_000, "5.1.02.03.02.0035"),
    ("hspk", "Perbaikan Instalasi Listrik", "titik", 450_000, "5.1.02.03.02.0035"),
    ("sbu", "Uang Harian Perjalanan Dinas Dalam Provinsi", "OH", 370_000, "5.1.02.04.01.0001"),
    ("sbu", "Uang Harian Perjalanan Dinas Luar Provinsi", "OH", 530_000, "5.1.02.04.01.0001"),
    ("sbu", "Penginapan Perjalanan Dinas Eselon III", "OH", 850_000, "5.1.02.04.01.0001"),
    ("sbu", "Transport Perjalanan Dinas Dalam Provinsi", "OK", 250_000, "5.1.02.04.01.0001"),
    ("ssh", "Laptop", "unit", 15_500_000, "5.2.02.05.01.0005"),
    ("ssh", "Komputer PC", "unit", 12_000_000, "5.2.02.05.01.0005"),
    ("ssh", "Printer Multifungsi", "unit", 4_750_000, "5.2.02.05.01.0005"),
    ("ssh", "Proyektor", "unit", 8_200_000, "5.2.02.05.01.0005"),
    ("hspk", "Pembangunan Gedung Kantor Tidak Bertingkat", "m2", 6_250_000, "5.2.03.01.01.0001"),
    ("hspk", "Pembangunan Gedung Kantor Bertingkat", "m2", 8_900_000, "5.2.03.01.01.0001"),
    ("hspk", "Peningkatan Jalan Hotmix", "m2", 210_000, "5.2.04.01.01.0002"),
    ("hspk", "Rehabilitasi Jalan Rigid Beton", "m2", 1_150_000, "5.2.04.01.01.0002"),
)
_VARIANTS = (
    "standar", "tipe A", "tipe B", "tipe C", "kualitas menengah", "kualitas tinggi", "merek lokal", "TKDN 40%",
    "paket kecil", "paket besar", "ukuran kecil", "ukuran sedang", "ukuran besar", "ramah lingkungan", "premium",
)  # fmt: skip

_SUPPORT_NAMES = (
    "Penyusunan Dokumen Perencanaan Perangkat Daerah",
    "Koordinasi dan Penyusunan Dokumen RKA-SKPD",
    "Koordinasi dan Penyusunan Laporan Capaian Kinerja dan Ikhtisar Realisasi Kinerja SKPD",
    "Penyediaan Gaji dan Tunjangan ASN",
    "Pelaksanaan Penatausahaan dan Pengujian/Verifikasi Keuangan SKPD",
    "Penyediaan Komponen Instalasi Listrik/Penerangan Bangunan Kantor",
    "Penyediaan Peralatan dan Perlengkapan Kantor",
    "Penyediaan Bahan Logistik Kantor",
    "Penyediaan Barang Cetakan dan Penggandaan",
    "Penyelenggaraan Rapat Koordinasi dan Konsultasi SKPD",
    "Penyediaan Jasa Komunikasi, Sumber Daya Air dan Listrik",
    "Penyediaan Jasa Pelayanan Umum Kantor",
    "Pemeliharaan/Rehabilitasi Gedung Kantor dan Bangunan Lainnya",
    "Pengadaan Sarana dan Prasarana Gedung Kantor atau Bangunan Lainnya",
    "Pendidikan dan Pelatihan Pegawai Berdasarkan Tugas dan Fungsi",
)
_TECHNICAL_VERBS = (
    "Penyelenggaraan", "Pembinaan", "Pengembangan", "Pengelolaan", "Fasilitasi", "Peningkatan Kapasitas",
    "Monitoring dan Evaluasi", "Koordinasi", "Penyediaan", "Pembangunan", "Rehabilitasi", "Pengawasan",
)  # fmt: skip
_TECHNICAL_OBJECTS = (
    "Layanan", "Sarana dan Prasarana", "Data dan Informasi", "Kelembagaan", "Sumber Daya Manusia", "Program Prioritas",
    "Kemitraan", "Standar Pelayanan Minimal", "Inovasi Daerah", "Sistem Informasi",
)  # fmt: skip


@dataclass(frozen=True)
class DemoSubActivity:
    """One budgeted sub-activity (sub kegiatan) of an agency: the catalogue planning's demo shares."""

    agency_code: str
    code: str
    name: str
    ceiling: int


@dataclass(frozen=True)
class DemoPrice:
    """One standard price item (e-HSB) of the province."""

    group: str
    code: str
    name: str
    specification: str
    unit: str
    price: int
    account_code: str


@dataclass(frozen=True)
class DemoLine:
    """One RKA line (rincian belanja) as a planner would type it."""

    account_code: str
    standard_item_code: str
    specification: str
    volume: str
    unit: str
    unit_price: int
    funding_source: str

    @property
    def amount(self) -> int:
        """Product of the volume's factors times the unit price."""
        product = 1
        for part in self.volume.split(" x "):
            product *= int(part.split()[0])
        return product * self.unit_price


def _n(key: str) -> int:
    return int.from_bytes(hashlib.sha256(f"demo-budget:{key}".encode()).digest()[:8], "big")


def _bidang(agency_code: str) -> str:
    urusan, bidang = agency_code.split(".")[:2]
    return f"{urusan}.{bidang}"


@cache
def agency_ceilings() -> dict[str, int]:
    """Each provincial agency's ceiling (pagu) of the year; they add up to TOTAL_SPENDING."""
    agencies = [a.code for a in demo_data.provincial_agencies()]
    rest = TOTAL_SPENDING - sum(_FIXED.values())
    others = [code for code in agencies if code not in _FIXED]
    weights = {code: 40 + _n(f"agency:{code}") % 160 for code in others}
    for code in others:
        if code.startswith(("1.03.", "1.02.0.00.0.00.01.000")):  # public works and hospitals spend more
            weights[code] *= 4
    total_weight = sum(weights.values())
    out = dict(_FIXED)
    for code in others:
        out[code] = rest * weights[code] // total_weight // 1_000_000 * 1_000_000
    out[others[0]] += TOTAL_SPENDING - sum(out.values())  # the rounding remainder to the Setda
    return out


@cache
def sub_activities() -> tuple[DemoSubActivity, ...]:
    """The 3,000 sub-activities: about 62 per agency, codes under the agency's bidang, ceilings per agency."""
    agencies = demo_data.provincial_agencies()
    ceilings = agency_ceilings()
    base, extra = divmod(SUB_ACTIVITY_COUNT, len(agencies))
    out: list[DemoSubActivity] = []
    for index, agency in enumerate(agencies):
        count = base + (1 if index < extra else 0)
        bidang = _bidang(agency.code)
        weights = [1 + _n(f"sub:{agency.code}:{i}") % 9 for i in range(count)]
        total_weight = sum(weights)
        budget = ceilings[agency.code]
        given = 0
        for i in range(count):
            program = 1 + i // 16  # program 01 is the agency's own support programme (penunjang urusan)
            kegiatan = 1 + (i % 16) // 4
            code = f"{bidang}.{program:02d}.2.{kegiatan:02d}.{1 + i % 4:04d}"
            if program == 1:
                name = _SUPPORT_NAMES[i % len(_SUPPORT_NAMES)]
            else:
                # The name follows the code alone: agencies of one bidang share the nomenclature.
                verb = _TECHNICAL_VERBS[_n(f"verb:{code}") % len(_TECHNICAL_VERBS)]
                thing = _TECHNICAL_OBJECTS[_n(f"object:{code}") % len(_TECHNICAL_OBJECTS)]
                name = f"{verb} {thing} Bidang {bidang}"
            ceiling = budget - given if i == count - 1 else budget * weights[i] // total_weight // 1000 * 1000
            given += ceiling
            out.append(DemoSubActivity(agency.code, code, name, ceiling))
    return tuple(out)


def nomenclature() -> list[tuple[str, str]]:
    """Every nomenclature code the catalogue uses, parents first (urusan, bidang, program, kegiatan, sub)."""
    names: dict[str, str] = {}
    for s in sub_activities():
        parts = s.code.split(".")
        urusan, bidang, program, kegiatan = parts[0], ".".join(parts[:2]), ".".join(parts[:3]), ".".join(parts[:5])
        names.setdefault(urusan, f"URUSAN {urusan}")
        names.setdefault(bidang, f"BIDANG URUSAN {bidang}")
        names.setdefault(program, "PROGRAM PENUNJANG URUSAN PEMERINTAHAN DAERAH PROVINSI" if parts[2] == "01"
                         else f"PROGRAM {program}")  # fmt: skip
        names.setdefault(kegiatan, f"Kegiatan {kegiatan}")
        names.setdefault(s.code, s.name)
    return sorted(names.items(), key=lambda kv: (kv[0].count("."), kv[0]))


@cache
def standard_prices() -> tuple[DemoPrice, ...]:
    """600 items in 40 groups: each group's base price, varied by ±20 %, rounded to Rp 100."""
    out: list[DemoPrice] = []
    for g, (group, name, unit, base, account) in enumerate(_GROUPS, start=1):
        for v, variant in enumerate(_VARIANTS, start=1):
            price = base * (80 + _n(f"price:{g}:{v}") % 41) // 100 // 100 * 100 or 100
            out.append(DemoPrice(group, f"1.1.12.{g:02d}.{v:02d}.0001", name, variant, unit, price, account))
    return tuple(out)


def _items_by_account() -> dict[str, list[DemoPrice]]:
    out: dict[str, list[DemoPrice]] = {}
    for p in standard_prices():
        out.setdefault(p.account_code, []).append(p)
    return out


def lines_of(sub: DemoSubActivity) -> list[DemoLine]:
    """The RKA lines of one sub-activity: priced items of the e-HSB, then the large line that fills the plan.

    The plan totals 99–99.9 % of the ceiling. Goods, services and capital lines cite a
    standard item and stay at or below its price; the filling line is salaries (support
    programme), transfers (BPKAD) or grants of the sub-activity, which need no standard item.
    """
    key = f"{sub.agency_code}:{sub.code}"
    target = sub.ceiling * (990 + _n(f"target:{key}") % 10) // 1000
    count = 20 + _n(f"count:{key}") % 27  # 20..46 lines, about 33 on average
    items = _items_by_account()
    accounts = sorted(items)
    lines: list[DemoLine] = []
    spent = 0
    allowance = max(target // 3 // max(count - 1, 1), 1)  # a third of the plan in priced items
    cheapest = min(standard_prices(), key=lambda p: p.price)
    for j in range(count - 1):
        account = accounts[_n(f"account:{key}:{j}") % len(accounts)]
        item = items[account][_n(f"item:{key}:{j}") % len(items[account])]
        if item.price > allowance:
            item = cheapest
        price = item.price * (85 + _n(f"discount:{key}:{j}") % 16) // 100 // 100 * 100 or item.price
        times = min(1 + _n(f"times:{key}:{j}") % 12, max(allowance // price, 1))
        quantity = min(1 + _n(f"qty:{key}:{j}") % 200, max(allowance // (price * times), 1))
        if spent + quantity * times * price > target // 2:
            continue
        spent += quantity * times * price
        lines.append(
            DemoLine(
                item.account_code,
                item.code,
                f"{item.name} {item.specification}",
                f"{quantity} {item.unit} x {times} kali",
                item.unit,
                price,
                "PAD" if j % 3 else "DAU",
            )
        )
    rest = target - spent
    if sub.agency_code == FINANCE:
        account, spec, unit = _TRANSFER, f"Bantuan keuangan kabupaten/kota — {sub.name}", "paket"
    elif sub.code.split(".")[2] == "01":
        account, spec, unit = _SALARY, f"Gaji dan tunjangan ASN — {sub.name}", "bulan"
    else:
        account = _ALLOWANCE if count % 2 else _SALARY
        spec, unit = f"Belanja pegawai pelaksana — {sub.name}", "bulan"
    if rest >= 12:
        lines.append(DemoLine(account, "", spec, "12 bulan", unit, rest // 12, "PAD"))
    return lines


def cash_plan(total: int) -> list[int]:
    """The year's monthly cash plan (anggaran kas) of `total`, following REALISATION_CURVE, December taking the rest."""
    cumulative = [total * share // 100 for share in REALISATION_CURVE[:-1]] + [total]
    return [cumulative[0]] + [cumulative[m] - cumulative[m - 1] for m in range(1, 12)]


def realisation(total: int) -> list[int]:
    """What SP2Ds paid of `total` in each month: REALISATION_CURVE, cumulative, ending at 94 % in December."""
    cumulative = [total * share // 100 for share in REALISATION_CURVE]
    return [cumulative[0]] + [cumulative[m] - cumulative[m - 1] for m in range(1, 12)]


def iter_lines() -> Iterator[tuple[DemoSubActivity, list[DemoLine]]]:
    """Every sub-activity with its lines, in catalogue order."""
    for sub in sub_activities():
        yield sub, lines_of(sub)
