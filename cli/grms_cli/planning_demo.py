"""Deterministic FY2025 planning demo of Jawa Tengah, derived from budgeting's demo (grms_cli.demo_budget).

One catalogue for both services: the same 3,000 sub-activities of the 48 provincial agencies
with budgeting's codes, names and ceilings. What planning adds to each:

- its budget (pagu) is budgeting's ceiling; the amount planning plans against is the total of
  the sub-activity's RKA lines, which budgeting approves and announces (BudgetPlanApproved);
- an output indicator, a place (a real Kemendagri village code of Jawa Tengah, Kepmendagri
  300.2.2-2138/2025), the funding sources of its lines, sometimes a thematic tag;
- the monthly plan (form F1): each month's planned disbursement is budgeting's cash plan
  (anggaran kas) of the approved amount, so the twelve months add up to it exactly, and the
  physical progress follows it to 100 % in December;
- about 1,200 procurement packages (RUP) over the accounts of its lines, each package no more
  than its account's lines (so the packages never exceed the sub-activity's budget): 70 % direct
  procurement / e-purchasing, 25 % tender, 5 % self-managed (DOMAIN.md §6.1), with six
  deliberate split-package cases (three pengadaan langsung of one account, each just under
  the Rp 200 juta threshold) for the detector to find.

Everything derives from the budget catalogue and SHA-256 of stable keys: the same data on
every machine and every run.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from functools import cache

from grms_cli import demo_budget

__all__ = [
    "DIRECT_LIMIT",
    "FISCAL_YEAR",
    "PACKAGE_COUNT",
    "SPLIT_CASES",
    "VILLAGES",
    "DemoPackage",
    "DemoSubActivity",
    "catalogue",
    "packages",
]

FISCAL_YEAR = demo_budget.FISCAL_YEAR
PACKAGE_COUNT = 1_200
TENDERS = PACKAGE_COUNT * 25 // 100  # 300
DIRECT = PACKAGE_COUNT * 70 // 100  # 840, the split cases included
SELF_MANAGED = PACKAGE_COUNT * 5 // 100  # 60
SPLIT_CASES = 6
# Pengadaan langsung ceilings (grms_planning.domain.procurement.DEFAULT_THRESHOLDS).
DIRECT_LIMIT = {
    "barang": 200_000_000,
    "pekerjaan_konstruksi": 400_000_000,
    "jasa_konsultansi": 100_000_000,
    "jasa_lainnya": 200_000_000,
}
# What is procured on each account of the budget catalogue (demo_budget.ACCOUNTS). Salaries,
# allowances, transfers and official travel are paid, not procured; honoraria of speakers are
# spent by the agency itself (swakelola).
PROCURED = {
    "5.1.02.01.01.0024": "barang",
    "5.1.02.01.01.0025": "barang",
    "5.1.02.01.01.0052": "barang",
    "5.1.02.02.01.0026": "jasa_lainnya",
    "5.1.02.03.02.0035": "pekerjaan_konstruksi",
    "5.2.02.05.01.0005": "barang",
    "5.2.03.01.01.0001": "pekerjaan_konstruksi",
    "5.2.04.01.01.0002": "pekerjaan_konstruksi",
}
SELF_MANAGED_ACCOUNTS = ("5.1.02.02.01.0003", "5.1.02.01.01.0052")
# Packages below this are bought without a package of their own.
_MIN_PACKAGE = 10_000_000

# Real desa/kelurahan of Jawa Tengah (Kepmendagri 300.2.2-2138/2025), by kecamatan:
# Kedungreja, Kesugihan (Cilacap); Masaran, Sragen, Tanon (Sragen); Purwodadi, Godong
# (Grobogan); Jati (Blora).
_VILLAGES_BY_DISTRICT: dict[str, str] = {
    "33.01.01": "2001 Tambakreja|2002 Bumireja|2003 Ciklapa|2004 Kedungreja|2005 Tambaksari|2006 Rejamulya|"
    "2007 Sidanegara|2008 Kaliwungu|2009 Jatisari|2010 Bangunreja|2011 Bojongsari",
    "33.01.02": "2001 Menganti|2002 Slarang|2003 Kesugihan|2004 Kalisabuk|2005 Karangkandri|2006 Kuripan|"
    "2007 Dondong|2008 Planjan|2009 Ciwuni|2010 Karangjengkol|2011 Keleng|2012 Pesanggrahan|2013 Bulupayung|"
    "2014 Kuripan Kidul|2015 Jangrana|2016 Kesugihan Kidul",
    "33.14.03": "2001 Sidodadi|2002 Karangmalang|2003 Krebet|2004 Sepat|2005 Jirapan|2006 Gebang|2007 Dawungan|"
    "2008 Masaran|2009 Jati|2010 Kliwonan|2011 Pilang|2012 Pringanom|2013 Krikilan",
    "33.14.10": "1001 Sine|1002 Sragen Kulon|1003 Sragen Tengah|1004 Sragen Wetan|1005 Nglorog|1006 Karang Tengah|"
    "2007 Tangkil|2008 Kedungupit",
    "33.14.12": "2001 Karangasem|2002 Slogo|2003 Jono|2004 Gawan|2005 Kecik|2006 Pengkol|2007 Suwatu|2008 Ketro|"
    "2009 Padas|2010 Tanon|2011 Gabugan|2012 Sambiduwur|2013 Karangtalun|2014 Bonagung|2015 Kalikobok|2016 Gading",
    "33.15.13": "1003 Danyang|1004 Kalongan|1012 Purwodadi|1013 Kuripan|2001 Candisari|2002 Genuksuran|2005 Ngraji|"
    "2006 Kandangan|2007 Nambuhan|2008 Warukaranganyar|2009 Nglobar|2010 Kedungrejo|2011 Karanganyar|"
    "2014 Ngembak|2015 Cingkrong|2016 Pulorejo|2017 Putat",
    "33.15.16": "2001 Guyangan|2002 Werdoyo|2003 Guci|2004 Anggaswangi|2005 Ketangirejo|2006 Sambung|"
    "2007 Sumurgede|2008 Latak|2009 Tungu|2010 Pahesan|2011 Wanutunggal|2012 Karanggeneng|2013 Manggarwetan|"
    "2014 Tinanding|2015 Manggarmas|2016 Harjowinangun|2017 Rajek|2018 Dorolegi|2019 Kopek|2020 Kemloko|"
    "2021 Sumberagung|2022 Gundi|2023 Jatilor|2024 Bringin|2025 Klampok|2026 Godong|2027 Ketitang|2028 Bugel",
    "33.16.01": "2001 Bangkleyan|2002 Gempol|2003 Kepoh|2004 Pelem|2005 Jegong|2006 Jati|2007 Singget|2008 Gabusan|"
    "2009 Doplang|2010 Randulawang|2011 Tobo|2012 Pengkoljagong",
}
VILLAGES: tuple[tuple[str, str], ...] = tuple(
    (f"{district}.{entry[:4]}", entry[5:])
    for district, entries in _VILLAGES_BY_DISTRICT.items()
    for entry in entries.split("|")
)

_TAGS = ("stunting", "kemiskinan", "inflasi", "pengangguran", "infrastruktur", "pendidikan", "kesehatan", "spbe")
_UNITS = ("dokumen", "unit", "paket", "orang", "kegiatan", "laporan", "lokasi")


def _n(key: str, modulo: int) -> int:
    """A stable number in [0, modulo) from `key`."""
    return int.from_bytes(hashlib.sha256(f"demo-planning:{key}".encode()).digest()[:8], "big") % modulo


@dataclass(frozen=True)
class DemoSubActivity:
    """A sub-activity of the budget catalogue as planning plans it."""

    agency_code: str
    code: str
    name: str
    budget: int  # budgeting's ceiling (pagu)
    approved: int  # the total of its RKA lines: what budgeting approves and the F1 adds up to
    village_code: str
    funding_sources: tuple[str, ...]
    tags: tuple[str, ...]
    indicator_name: str
    indicator_unit: str
    indicator_target: str
    months: tuple[tuple[str, int], ...]  # twelve (cumulative physical %, planned disbursement)
    accounts: tuple[tuple[str, int], ...]  # the lines' total per account, by account code


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


def monthly_plan(approved: int) -> tuple[tuple[str, int], ...]:
    """The F1 of `approved`: budgeting's cash plan month by month, physical progress following it to 100 %."""
    money = demo_budget.cash_plan(approved)
    out: list[tuple[str, int]] = []
    running = 0
    for month, amount in enumerate(money, start=1):
        running += amount
        share = Decimal(100) if month == 12 else (Decimal(running * 100) / approved).quantize(Decimal("0.01"))
        out.append((str(share), amount))
    return tuple(out)


def _indicator_object(name: str) -> str:
    return name.split(" ", 1)[1].lower() if " " in name else name.lower()


@cache
def catalogue() -> tuple[DemoSubActivity, ...]:
    """The budget catalogue's 3,000 sub-activities as planned, in its order (agency, then code)."""
    out: list[DemoSubActivity] = []
    for sub, lines in demo_budget.iter_lines():
        key = f"{sub.agency_code}/{sub.code}"
        approved = sum(line.amount for line in lines)
        by_account: dict[str, int] = defaultdict(int)
        for line in lines:
            by_account[line.account_code] += line.amount
        tag = _TAGS[_n(key + "/tag", len(_TAGS))] if _n(key + "/tagged", 3) == 0 else ""
        out.append(
            DemoSubActivity(
                agency_code=sub.agency_code,
                code=sub.code,
                name=sub.name,
                budget=sub.ceiling,
                approved=approved,
                village_code=VILLAGES[_n(key + "/village", len(VILLAGES))][0],
                funding_sources=tuple(sorted({line.funding_source for line in lines})),
                tags=(tag,) if tag else (),
                indicator_name=f"Jumlah {_indicator_object(sub.name)} yang terlaksana",
                indicator_unit=_UNITS[_n(key + "/unit", len(_UNITS))],
                indicator_target=str(1 + _n(key + "/target", 250)),
                months=monthly_plan(approved),
                accounts=tuple(sorted(by_account.items())),
            )
        )
    return tuple(out)


@cache
def packages() -> tuple[DemoPackage, ...]:
    """The 1,200 RUP packages, at most one per sub-activity and account (the split cases: three).

    Tenders go to the largest procurable accounts above the direct-procurement threshold; the
    split cases to six goods accounts that can hold three packages just under Rp 200 juta;
    direct procurement and self-management to accounts picked by hash among the rest.
    """
    subs = catalogue()
    pairs = [
        (s, account, amount, PROCURED[account])
        for s in subs
        for account, amount in s.accounts
        if account in PROCURED and amount >= _MIN_PACKAGE
    ]
    used: set[tuple[str, str, str]] = set()
    out: list[DemoPackage] = []

    def take(s: DemoSubActivity, account: str) -> None:
        used.add((s.agency_code, s.code, account))

    def free(s: DemoSubActivity, account: str) -> bool:
        return (s.agency_code, s.code, account) not in used

    # Tenders: the largest accounts that exceed their threshold (a tender cannot be direct).
    above = sorted(
        (p for p in pairs if p[2] > DIRECT_LIMIT[p[3]] * 3 // 2),
        key=lambda p: (-p[2], p[0].agency_code, p[0].code, p[1]),
    )
    for s, account, amount, kind in above[:TENDERS]:
        value = max(DIRECT_LIMIT[kind] + 1_000_000, amount * (60 + _n(f"{s.code}/{account}/tv", 36)) // 100)
        value = min(value, amount) // 1000 * 1000
        method = "tender" if value > 10_000_000_000 else "tender_cepat"
        out.append(_package(s, account, kind, "penyedia", method, value, (2, 3), (4, 10), (5, 12)))
        take(s, account)
    # The split cases: a goods purchase cut into three pengadaan langsung, each just under the threshold.
    goods = sorted(
        (p for p in pairs if p[3] == "barang" and p[2] >= 3 * DIRECT_LIMIT["barang"] and free(p[0], p[1])),
        key=lambda p: _n(f"split/{p[0].agency_code}/{p[0].code}/{p[1]}", 1 << 30),
    )
    for s, account, _amount, kind in goods[:SPLIT_CASES]:
        for n in range(3):
            value = (180 + _n(f"{s.code}/{account}/split/{n}", 20)) * 1_000_000
            out.append(_package(s, account, kind, "penyedia", "pengadaan_langsung", value, (2, 2), (3, 4), (4, 12),
                                part=n + 1))  # fmt: skip
        take(s, account)
    # Direct procurement, one package of each picked account, at most the threshold; never
    # "just under" it, so the detector only finds the deliberate cases.
    rest = sorted(
        (p for p in pairs if free(p[0], p[1])),
        key=lambda p: _n(f"direct/{p[0].agency_code}/{p[0].code}/{p[1]}", 1 << 30),
    )
    for s, account, amount, kind in rest[: DIRECT - 3 * SPLIT_CASES]:
        limit = min(DIRECT_LIMIT[kind] * 3 // 4, amount)
        value = max(_MIN_PACKAGE // 2, limit * (50 + _n(f"{s.code}/{account}/dv", 50)) // 100 // 1000 * 1000)
        method = "e_purchasing" if kind == "barang" and _n(f"{s.code}/{account}/m", 10) < 5 else "pengadaan_langsung"
        out.append(_package(s, account, kind, "penyedia", method, value, (2, 2), (3, 4), (4, 12)))
        take(s, account)
    # Self-management (swakelola): speakers' honoraria and meeting meals the agency spends itself.
    own = sorted(
        (
            (s, account, amount)
            for s in subs
            for account, amount in s.accounts
            if account in SELF_MANAGED_ACCOUNTS and amount >= _MIN_PACKAGE and free(s, account)
        ),
        key=lambda p: _n(f"self/{p[0].agency_code}/{p[0].code}/{p[1]}", 1 << 30),
    )
    for s, account, amount in own[:SELF_MANAGED]:
        value = amount * (50 + _n(f"{s.code}/{account}/sv", 50)) // 100 // 1000 * 1000
        out.append(_package(s, account, "jasa_lainnya", "swakelola", "", value, None, (2, 11), (2, 12)))
        take(s, account)
    return tuple(out)


_WORK = {
    "barang": "Pengadaan",
    "pekerjaan_konstruksi": "Pekerjaan",
    "jasa_konsultansi": "Jasa Konsultansi",
    "jasa_lainnya": "Jasa",
}


def _package(
    s: DemoSubActivity,
    account: str,
    kind: str,
    mode: str,
    method: str,
    value: int,
    selection: tuple[int, int] | None,
    contract: tuple[int, int],
    use: tuple[int, int],
    *,
    part: int = 0,
) -> DemoPackage:
    account_name = dict(demo_budget.ACCOUNTS)[account].removeprefix("Belanja ").removeprefix("Modal ")
    name = f"{_WORK[kind] if mode == 'penyedia' else 'Swakelola'} {account_name} — {s.name}"
    if part:
        name += f" (tahap {part})"
    return DemoPackage(
        agency_code=s.agency_code,
        sub_activity_code=s.code,
        account_code=account,
        name=name[:300],
        procurement_type=kind,
        mode=mode,
        method=method,
        value=value,
        domestic_product=_n(f"{s.code}/{account}/{part}/pdn", 10) < 8,
        small_business=mode == "penyedia" and method in ("pengadaan_langsung", "e_purchasing"),
        selection=selection,
        contract=contract,
        use=use,
    )
