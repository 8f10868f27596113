"""The procurement plan (RUP): packages with the SIRUP fields, the split-package detector, SIRUP CSV."""

from __future__ import annotations

import csv
import datetime as dt
import enum
import io
import re
import uuid
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from grms_kit.errors import FieldViolation, InvalidArgument

from grms_planning.domain.model import DomainEvent, SubActivity, check_month_range

__all__ = [
    "DEFAULT_THRESHOLDS",
    "SIRUP_COLUMNS",
    "DirectProcurementThresholds",
    "MonthRange",
    "ProcurementMode",
    "ProcurementPackage",
    "ProcurementPlanned",
    "ProcurementType",
    "SelectionMethod",
    "SplitFinding",
    "detect_split_packages",
    "sirup_csv",
    "sirup_csv_lines",
]

# Expenditure (belanja, account group 5) in either the Permendagri 90/2019 format
# "5.1.02.01.01.0024" or SIPD-RI's wider "5.1.02.01.001.00024".
_ACCOUNT_CODE = re.compile(r"^5(\.\d{1,5}){2,5}$")


class ProcurementType(enum.StrEnum):
    """Jenis pengadaan (SIRUP/SPSE)."""

    GOODS = "barang"
    WORKS = "pekerjaan_konstruksi"
    CONSULTING = "jasa_konsultansi"
    OTHER_SERVICES = "jasa_lainnya"


class ProcurementMode(enum.StrEnum):
    """Cara pengadaan: through a provider (penyedia) or self-managed (swakelola)."""

    PROVIDER = "penyedia"
    SELF_MANAGED = "swakelola"


class SelectionMethod(enum.StrEnum):
    """Metode pemilihan of a provider."""

    E_PURCHASING = "e_purchasing"
    PENGADAAN_LANGSUNG = "pengadaan_langsung"
    PENUNJUKAN_LANGSUNG = "penunjukan_langsung"
    TENDER_CEPAT = "tender_cepat"
    TENDER = "tender"
    SELEKSI = "seleksi"


DIRECT_METHODS = frozenset({SelectionMethod.PENGADAAN_LANGSUNG, SelectionMethod.E_PURCHASING})


@dataclass(frozen=True)
class DirectProcurementThresholds:
    """The ceilings of pengadaan langsung per procurement type, in whole rupiah.

    Configurable defaults, from memory of Perpres 16/2018 as amended by Perpres 12/2021
    (pengadaan langsung up to Rp 200 juta for goods and other services, Rp 100 juta for
    consulting); works at Rp 400 juta as briefed — verify against the regulation in force
    (the works ceiling has been changed by later amendments) and set through the settings.
    """

    goods: int = 200_000_000
    works: int = 400_000_000
    consulting: int = 100_000_000
    other_services: int = 200_000_000
    # "Just under" means at least this share of the threshold, in basis points (80 %).
    near_basis_points: int = 8_000

    def of(self, kind: ProcurementType) -> int:
        """The threshold for `kind`."""
        return {
            ProcurementType.GOODS: self.goods,
            ProcurementType.WORKS: self.works,
            ProcurementType.CONSULTING: self.consulting,
            ProcurementType.OTHER_SERVICES: self.other_services,
        }[kind]


DEFAULT_THRESHOLDS = DirectProcurementThresholds()


@dataclass(frozen=True)
class MonthRange:
    """An inclusive range of months of the fiscal year."""

    start: int
    end: int


@dataclass
class ProcurementPlanned(DomainEvent):
    package: ProcurementPackage


@dataclass
class ProcurementPackage:
    """A package of the general procurement plan (paket RUP)."""

    id: str
    sub_activity_id: str
    government_code: str
    agency_code: str
    fiscal_year: int
    sub_activity_code: str
    account_code: str
    name: str
    procurement_type: ProcurementType
    mode: ProcurementMode
    method: SelectionMethod | None
    value: int
    domestic_product: bool
    small_business: bool
    selection: MonthRange | None
    contract: MonthRange
    use: MonthRange
    created_at: dt.datetime
    events: list[DomainEvent] = field(default_factory=list, repr=False, compare=False)

    @property
    def mak(self) -> str:
        """MAK (mata anggaran kegiatan): the sub-activity code followed by the account code."""
        return f"{self.sub_activity_code}.{self.account_code}"

    @classmethod
    def plan(
        cls,
        sub_activity: SubActivity,
        *,
        account_code: str,
        name: str,
        procurement_type: ProcurementType,
        mode: ProcurementMode,
        method: SelectionMethod | None,
        value: int,
        domestic_product: bool,
        small_business: bool,
        selection: MonthRange | None,
        contract: MonthRange,
        use: MonthRange,
        thresholds: DirectProcurementThresholds = DEFAULT_THRESHOLDS,
        now: dt.datetime,
    ) -> ProcurementPackage:
        """Validate a package and reserve its value in `sub_activity`'s budget (or refuse, naming it)."""
        violations: list[FieldViolation] = []
        account_code = account_code.strip()
        if not _ACCOUNT_CODE.match(account_code):
            violations.append(FieldViolation("account_code", 'must be an expenditure account like "5.2.02.10.0002"'))
        name = " ".join(name.split())
        if not 3 <= len(name) <= 300:
            violations.append(FieldViolation("name", "must be 3 to 300 characters"))
        if value <= 0:
            violations.append(FieldViolation("value.rupiah", "must be a positive whole rupiah amount"))
        if mode == ProcurementMode.SELF_MANAGED:
            if method is not None:
                violations.append(FieldViolation("method", "a self-managed package (swakelola) has no selection"))
            if selection is not None:
                violations.append(FieldViolation("selection_schedule", "a self-managed package selects no provider"))
        else:
            if method is None:
                violations.append(FieldViolation("method", "a package through a provider needs a selection method"))
            elif method == SelectionMethod.SELEKSI and procurement_type != ProcurementType.CONSULTING:
                violations.append(FieldViolation("method", "seleksi is for consulting services only"))
            elif (
                method in (SelectionMethod.TENDER, SelectionMethod.TENDER_CEPAT)
                and procurement_type == ProcurementType.CONSULTING
            ):
                violations.append(FieldViolation("method", "consulting services are selected by seleksi, not tender"))
            elif method == SelectionMethod.PENGADAAN_LANGSUNG and value > thresholds.of(procurement_type):
                violations.append(
                    FieldViolation(
                        "method",
                        f"pengadaan langsung is for {procurement_type.value} up to "
                        f"Rp {thresholds.of(procurement_type):,}, not Rp {value:,}",
                    )
                )
            if selection is None:
                violations.append(FieldViolation("selection_schedule", "is required for a package through a provider"))
        for path, months in (("selection_schedule", selection), ("contract_schedule", contract), ("use_schedule", use)):
            if months is not None:
                check_month_range(months.start, months.end, path, violations)
        if not violations:
            if selection is not None and selection.end > contract.start:
                violations.append(FieldViolation("contract_schedule", "starts before the selection ends"))
            if use.start < contract.start:
                violations.append(FieldViolation("use_schedule", "starts before the contract"))
        if violations:
            raise InvalidArgument(violations)
        sub_activity.reserve(name, value, now=now)
        package = cls(
            id=str(uuid.uuid4()),
            sub_activity_id=sub_activity.id,
            government_code=sub_activity.government_code,
            agency_code=sub_activity.agency_code,
            fiscal_year=sub_activity.fiscal_year,
            sub_activity_code=sub_activity.code,
            account_code=account_code,
            name=name,
            procurement_type=procurement_type,
            mode=mode,
            method=method,
            value=value,
            domestic_product=domestic_product,
            small_business=small_business,
            selection=selection,
            contract=contract,
            use=use,
            created_at=now,
        )
        package.events.append(ProcurementPlanned(package))
        return package


@dataclass(frozen=True)
class SplitFinding:
    """Suspected pemecahan paket: direct procurements of one agency, sub-activity and account,
    each just under the threshold, that together exceed it."""

    government_code: str
    agency_code: str
    sub_activity_code: str
    account_code: str
    procurement_type: ProcurementType
    threshold: int
    total: int
    packages: tuple[ProcurementPackage, ...]


def detect_split_packages(
    packages: Iterable[ProcurementPackage], thresholds: DirectProcurementThresholds = DEFAULT_THRESHOLDS
) -> list[SplitFinding]:
    """Findings of suspected split packages, in a single pass over `packages` (linear time).

    Packages are grouped by (government, fiscal year, agency, sub-activity, account, type);
    within a group, the direct procurements (pengadaan langsung, e-purchasing) whose value
    lies between `near_basis_points` of the threshold and the threshold are "just under". Two
    or more of them whose sum exceeds the threshold make a finding.
    """
    groups: dict[tuple[str, int, str, str, str, ProcurementType], list[ProcurementPackage]] = defaultdict(list)
    for p in packages:
        if p.method not in DIRECT_METHODS:
            continue
        limit = thresholds.of(p.procurement_type)
        if limit * thresholds.near_basis_points <= p.value * 10_000 and p.value <= limit:
            key = (p.government_code, p.fiscal_year, p.agency_code, p.sub_activity_code, p.account_code)
            groups[(*key, p.procurement_type)].append(p)
    findings: list[SplitFinding] = []
    for (government, _, agency, sub_activity, account, kind), members in sorted(
        groups.items(), key=lambda item: item[0]
    ):
        total = sum(p.value for p in members)
        limit = thresholds.of(kind)
        if len(members) >= 2 and total > limit:
            findings.append(
                SplitFinding(
                    government_code=government,
                    agency_code=agency,
                    sub_activity_code=sub_activity,
                    account_code=account,
                    procurement_type=kind,
                    threshold=limit,
                    total=total,
                    packages=tuple(sorted(members, key=lambda p: (p.name, p.id))),
                )
            )
    return findings


SIRUP_COLUMNS = (
    "Kode Paket",
    "Nama Paket",
    "Tahun Anggaran",
    "Kode K/L/PD",
    "Kode Satuan Kerja",
    "Jenis Pengadaan",
    "Cara Pengadaan",
    "Metode Pemilihan",
    "Sumber Dana",
    "Pagu (Rp)",
    "MAK",
    "Produk Dalam Negeri",
    "Usaha Kecil",
    "Pemilihan Mulai",
    "Pemilihan Akhir",
    "Kontrak Mulai",
    "Kontrak Akhir",
    "Pemanfaatan Mulai",
    "Pemanfaatan Akhir",
)
_TYPE_LABELS = {
    ProcurementType.GOODS: "Barang",
    ProcurementType.WORKS: "Pekerjaan Konstruksi",
    ProcurementType.CONSULTING: "Jasa Konsultansi",
    ProcurementType.OTHER_SERVICES: "Jasa Lainnya",
}
_MODE_LABELS = {ProcurementMode.PROVIDER: "Penyedia", ProcurementMode.SELF_MANAGED: "Swakelola"}
_METHOD_LABELS = {
    SelectionMethod.E_PURCHASING: "E-Purchasing",
    SelectionMethod.PENGADAAN_LANGSUNG: "Pengadaan Langsung",
    SelectionMethod.PENUNJUKAN_LANGSUNG: "Penunjukan Langsung",
    SelectionMethod.TENDER_CEPAT: "Tender Cepat",
    SelectionMethod.TENDER: "Tender",
    SelectionMethod.SELEKSI: "Seleksi",
}


def _month(year: int, month: int | None) -> str:
    return f"{year:04d}-{month:02d}" if month else ""


def sirup_csv_lines(packages: Iterable[ProcurementPackage]) -> Iterator[str]:
    """The SIRUP-compatible CSV, one line at a time (header first), with CRLF line ends."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def take() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow(SIRUP_COLUMNS)
    yield take()
    for p in packages:
        year = p.fiscal_year
        writer.writerow(
            (
                p.id,
                p.name,
                year,
                p.government_code,
                p.agency_code,
                _TYPE_LABELS[p.procurement_type],
                _MODE_LABELS[p.mode],
                _METHOD_LABELS[p.method] if p.method else "",
                "APBD",
                p.value,
                p.mak,
                "Ya" if p.domestic_product else "Tidak",
                "Ya" if p.small_business else "Tidak",
                _month(year, p.selection.start if p.selection else None),
                _month(year, p.selection.end if p.selection else None),
                _month(year, p.contract.start),
                _month(year, p.contract.end),
                _month(year, p.use.start),
                _month(year, p.use.end),
            )
        )
        yield take()


def sirup_csv(packages: Iterable[ProcurementPackage]) -> str:
    """The SIRUP-compatible CSV text of `packages`."""
    return "".join(sirup_csv_lines(packages))
