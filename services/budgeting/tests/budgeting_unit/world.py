"""A small, consistent e-budgeting world for the unit tests: Central Java, one agency, fiscal year 2026."""

from __future__ import annotations

import datetime as dt

from grms_budgeting.domain.budget import LineInput, PriceGroup
from grms_budgeting.domain.codes import NomenclatureRow
from grms_budgeting.domain.indicators import OutputIndicator, PlannedSubActivity
from grms_budgeting.service_layer import budget, handlers
from grms_budgeting.service_layer.indicators import record_planned_sub_activity
from grms_kit.identity import Identity, Role

from .fakes import FakeUnitOfWork

YEAR = 2026
AGENCY = "1.02.0.00.0.00.01.0000"
OTHER_AGENCY = "1.03.0.00.0.00.01.0000"
SUB = "1.02.02.2.01.0001"
SUB_2 = "1.02.02.2.01.0003"
ATK = "5.1.02.01.01.0024"
SNACK = "5.1.02.01.01.0052"
SALARY = "5.1.01.01.01.0001"

ADMIN = Identity(sub="admin-33", roles=frozenset({Role.ADMIN}), government="33")
PLANNER = Identity(sub="planner", roles=frozenset({Role.PLANNER}), government="33", agencies=frozenset({AGENCY}))
HEAD = Identity(sub="kepala", roles=frozenset({Role.AGENCY_HEAD}), government="33", agencies=frozenset({AGENCY}))
OTHER_HEAD = Identity(
    sub="kepala-lain", roles=frozenset({Role.AGENCY_HEAD}), government="33", agencies=frozenset({OTHER_AGENCY})
)
TAPD = Identity(sub="tapd", roles=frozenset({Role.TAPD}), government="33")

NOMENCLATURE = [
    ("1", "URUSAN PEMERINTAHAN WAJIB YANG BERKAITAN DENGAN PELAYANAN DASAR", True, True),
    ("1.02", "URUSAN PEMERINTAHAN BIDANG KESEHATAN", True, True),
    ("1.02.02", "PROGRAM PEMENUHAN UPAYA KESEHATAN PERORANGAN DAN UPAYA KESEHATAN MASYARAKAT", True, True),
    ("1.02.02.2.01", "Penyediaan Fasilitas Pelayanan Kesehatan", True, True),
    (SUB, "Pembangunan Rumah Sakit beserta Sarana dan Prasarana Pendukungnya", True, True),
    ("1.02.02.2.01.0002", "Pembangunan Puskesmas", False, True),
    (SUB_2, "Pembangunan Fasilitas Kesehatan Lainnya", True, True),
]
ACCOUNTS = [
    ("5", "BELANJA DAERAH"),
    ("5.1", "BELANJA OPERASI"),
    ("5.1.01", "Belanja Pegawai"),
    ("5.1.01.01", "Belanja Gaji dan Tunjangan ASN"),
    ("5.1.01.01.01", "Belanja Gaji Pokok ASN"),
    (SALARY, "Belanja Gaji Pokok PNS"),
    ("5.1.02", "Belanja Barang dan Jasa"),
    ("5.1.02.01", "Belanja Barang"),
    ("5.1.02.01.001", "Belanja Barang Pakai Habis"),  # the wide form is accepted too
    (ATK, "Belanja Alat/Bahan untuk Kegiatan Kantor-Alat Tulis Kantor"),
    (SNACK, "Belanja Makanan dan Minuman Rapat"),
]


def nomenclature_rows() -> list[NomenclatureRow]:
    return [NomenclatureRow(c, n, p, k) for c, n, p, k in NOMENCLATURE]


def build() -> FakeUnitOfWork:
    """Government 33, two agencies, the 2026 codes, two standard prices."""
    uow = FakeUnitOfWork()
    handlers.register_government(handlers.RegisterGovernment("33", "Provinsi Jawa Tengah"), uow=uow, actor=ADMIN)
    for code, name in ((AGENCY, "Dinas Kesehatan"), (OTHER_AGENCY, "Dinas Pekerjaan Umum")):
        handlers.register_agency(handlers.RegisterAgency("33", code, name), uow=uow, actor=ADMIN)
    budget.import_nomenclature(YEAR, nomenclature_rows(), uow=uow, actor=ADMIN)
    budget.import_account_codes(YEAR, ACCOUNTS, uow=uow, actor=ADMIN)
    budget.create_standard_price(
        budget.CreateStandardPrice(
            "33", YEAR, PriceGroup.SSH, "1.1.12.01.03.0005", "Kertas HVS", "A4 70 gram", "rim", 55_000, [ATK]
        ),
        uow=uow,
        actor=TAPD,
    )
    budget.create_standard_price(
        budget.CreateStandardPrice(
            "33", YEAR, PriceGroup.SBU, "SBU-MAMIN-01", "Kudapan rapat", "per orang per kali", "OK", 15_000, [SNACK]
        ),
        uow=uow,
        actor=TAPD,
    )
    for agency in (AGENCY, OTHER_AGENCY):
        for sub in (SUB, SUB_2):
            planned(uow, agency, sub)
    uow.published.clear()
    return uow


def planned(
    uow: FakeUnitOfWork,
    agency: str,
    sub: str,
    outputs: tuple[OutputIndicator, ...] = (OutputIndicator("Jumlah rumah sakit yang dibangun", "1", "unit"),),
    *,
    version: int = 1,
) -> bool:
    """What planning's SubActivityPlanned would leave in budgeting's copy."""
    value = PlannedSubActivity("33", YEAR, agency, sub, f"sa-{agency}-{sub}", outputs, version, dt.datetime.now(dt.UTC))
    return record_planned_sub_activity(value, planned=uow.planned)


def paper(volume: str = "10 rim", price: int = 50_000, **changes: object) -> LineInput:
    values: dict[str, object] = {
        "account_code": ATK,
        "standard_item_code": "1.1.12.01.03.0005",
        "specification": "Kertas HVS A4 70 gram",
        "volume": volume,
        "unit": "rim",
        "unit_price": price,
        "funding_source": "PAD",
        "tags": ("ATK",),
    }
    values.update(changes)
    return LineInput(**values)  # type: ignore[arg-type]


def snack(volume: str = "10 orang x 2 kali", price: int = 15_000) -> LineInput:
    return LineInput(SNACK, "SBU-MAMIN-01", "Kudapan rapat koordinasi", volume, "OK", price, "PAD")


def ceilings(uow: FakeUnitOfWork, *, sub: int = 10_000_000, agency: int = 50_000_000) -> None:
    budget.set_ceiling(budget.SetCeiling("33", YEAR, AGENCY, SUB, sub, False), uow=uow, actor=TAPD)
    budget.set_ceiling(budget.SetCeiling("33", YEAR, AGENCY, "", agency, False), uow=uow, actor=TAPD)


def new_plan(uow: FakeUnitOfWork, sub: str = SUB):  # type: ignore[no-untyped-def]
    return budget.create_budget_plan(
        budget.CreateBudgetPlan("33", AGENCY, sub, YEAR), uow=uow, actor=PLANNER, request_id="req-create"
    )


def add(uow: FakeUnitOfWork, plan_id: str, line: LineInput, version: int | None = None):  # type: ignore[no-untyped-def]
    return budget.add_budget_line(
        budget.AddBudgetLine(plan_id, version, line), uow=uow, actor=PLANNER, request_id="req-add"
    )
