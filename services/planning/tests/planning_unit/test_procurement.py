"""The RUP: package rules, the split-package detector and the SIRUP CSV export."""

from __future__ import annotations

import csv
import datetime as dt
import io
import time

import pytest
from grms_kit.errors import FailedPrecondition, InvalidArgument
from grms_planning.domain.curves import CurveShape, suggest_monthly_plan
from grms_planning.domain.model import Indicator, IndicatorFormula, IndicatorKind, IndicatorLevel, SubActivity
from grms_planning.domain.procurement import (
    SIRUP_COLUMNS,
    DirectProcurementThresholds,
    MonthRange,
    ProcurementMode,
    ProcurementPackage,
    ProcurementPlanned,
    ProcurementType,
    SelectionMethod,
    detect_split_packages,
    sirup_csv,
)

NOW = dt.datetime(2025, 1, 6, 1, 0, tzinfo=dt.UTC)
JUTA = 1_000_000


def planned(budget: int = 2_000 * JUTA, code: str = "1.03.03.2.02.0001", agency: str = "DPU") -> SubActivity:
    s = SubActivity.create(
        government_code="33",
        agency_code=agency,
        fiscal_year=2025,
        code=code,
        name="Rehabilitasi Jalan",
        budget=budget,
        now=NOW,
    )
    s.add_indicator(
        Indicator.create(
            level=IndicatorLevel.SUB_ACTIVITY,
            kind=IndicatorKind.OUTPUT,
            name="Panjang jalan direhabilitasi",
            unit="km",
            target="12.5",
            formula=IndicatorFormula.INCREASING,
        ),
        expected_version=None,
        now=NOW,
    )
    s.set_monthly_plan(suggest_monthly_plan(CurveShape.CONSTRUCTION, budget), expected_version=None, now=NOW)
    s.mark_planned(expected_version=None, now=NOW)
    s.events.clear()
    return s


def package(s: SubActivity, value: int, **overrides: object) -> ProcurementPackage:
    values: dict[str, object] = {
        "account_code": "5.1.02.01.01.0024",
        "name": "Pengadaan alat tulis kantor",
        "procurement_type": ProcurementType.GOODS,
        "mode": ProcurementMode.PROVIDER,
        "method": SelectionMethod.PENGADAAN_LANGSUNG,
        "value": value,
        "domestic_product": True,
        "small_business": True,
        "selection": MonthRange(2, 3),
        "contract": MonthRange(3, 5),
        "use": MonthRange(5, 12),
        "now": NOW,
    }
    values.update(overrides)
    return ProcurementPackage.plan(s, **values)  # type: ignore[arg-type]


def test_a_package_reserves_its_value_and_raises_procurement_planned() -> None:
    s = planned()
    p = package(s, 150 * JUTA)
    assert p.mak == "1.03.03.2.02.0001.5.1.02.01.01.0024"
    assert (s.packaged, s.version) == (150 * JUTA, 5)
    assert [type(e) for e in p.events] == [ProcurementPlanned]


def test_packages_never_exceed_the_budget_and_the_refusal_names_the_package() -> None:
    s = planned(budget=300 * JUTA)
    package(s, 199 * JUTA, name="Paket A")
    with pytest.raises(FailedPrecondition, match=r"package 'Paket B'.*above its budget of Rp 300,000,000"):
        package(s, 102 * JUTA, name="Paket B")
    assert s.packaged == 199 * JUTA
    package(s, 101 * JUTA, name="Paket C")
    assert s.packaged == 300 * JUTA


def test_procurement_waits_until_the_sub_activity_is_planned() -> None:
    draft = SubActivity.create(
        government_code="33",
        agency_code="DPU",
        fiscal_year=2025,
        code="1.03.03.2.02.0001",
        name="Jalan",
        budget=JUTA,
        now=NOW,
    )
    with pytest.raises(FailedPrecondition, match="draft"):
        package(draft, JUTA // 2)


@pytest.mark.parametrize(
    ("overrides", "bad"),
    [
        ({"account_code": "4.1.01.01"}, {"account_code"}),
        ({"name": "x"}, {"name"}),
        ({"value": 0}, {"value.rupiah"}),
        ({"method": None}, {"method"}),
        ({"mode": ProcurementMode.SELF_MANAGED}, {"method", "selection_schedule"}),
        ({"method": SelectionMethod.SELEKSI}, {"method"}),
        ({"procurement_type": ProcurementType.CONSULTING, "method": SelectionMethod.TENDER}, {"method"}),
        ({"value": 200 * JUTA + 1}, {"method"}),
        ({"procurement_type": ProcurementType.CONSULTING, "value": 100 * JUTA + 1}, {"method"}),
        ({"selection": None}, {"selection_schedule"}),
        ({"contract": MonthRange(0, 13)}, {"contract_schedule"}),
        ({"use": MonthRange(9, 4)}, {"use_schedule"}),
        ({"selection": MonthRange(4, 6)}, {"contract_schedule"}),
        ({"use": MonthRange(2, 12)}, {"use_schedule"}),
    ],
)
def test_package_fields_are_checked(overrides: dict[str, object], bad: set[str]) -> None:
    s = planned()
    with pytest.raises(InvalidArgument) as info:
        rest = dict(overrides)
        package(s, int(rest.pop("value", 150 * JUTA)), **rest)  # type: ignore[call-overload]
    assert {v.field for v in info.value.violations} == bad
    assert s.packaged == 0


def test_a_self_managed_package_has_no_method_and_no_selection() -> None:
    p = package(planned(), 500 * JUTA, mode=ProcurementMode.SELF_MANAGED, method=None, selection=None)
    assert (p.method, p.selection) == (None, None)


def test_pengadaan_langsung_limit_for_works_is_the_configurable_default() -> None:
    s = planned()
    package(s, 400 * JUTA, procurement_type=ProcurementType.WORKS, account_code="5.2.04.01.01.0001")
    with pytest.raises(InvalidArgument):
        package(
            s,
            400 * JUTA,
            procurement_type=ProcurementType.WORKS,
            thresholds=DirectProcurementThresholds(works=200 * JUTA),
        )


def test_three_packages_just_under_the_threshold_are_a_split_finding() -> None:
    s = planned()
    a, b, c = (package(s, 195 * JUTA, name=f"ATK tahap {i}") for i in (1, 2, 3))
    findings = detect_split_packages([a, b, c])
    assert len(findings) == 1
    f = findings[0]
    assert (f.agency_code, f.sub_activity_code, f.account_code, f.procurement_type) == (
        "DPU",
        "1.03.03.2.02.0001",
        "5.1.02.01.01.0024",
        ProcurementType.GOODS,
    )
    assert (f.threshold, f.total) == (200 * JUTA, 585 * JUTA)
    assert [p.name for p in f.packages] == ["ATK tahap 1", "ATK tahap 2", "ATK tahap 3"]


def test_e_purchasing_counts_and_consulting_has_its_own_threshold() -> None:
    s = planned()
    goods = [package(s, 190 * JUTA, name="Laptop", method=SelectionMethod.E_PURCHASING) for _ in range(2)]
    consulting = [
        package(
            s,
            90 * JUTA,
            name=f"Konsultan {i}",
            procurement_type=ProcurementType.CONSULTING,
            account_code="5.1.02.02.01.0030",
        )
        for i in range(2)
    ]
    findings = detect_split_packages([*goods, *consulting])
    assert [(f.procurement_type, f.threshold, f.total) for f in findings] == [
        (ProcurementType.GOODS, 200 * JUTA, 380 * JUTA),
        (ProcurementType.CONSULTING, 100 * JUTA, 180 * JUTA),
    ]


def test_no_finding_for_legitimate_packages() -> None:
    s = planned(budget=5_000 * JUTA)
    other = planned(code="1.03.03.2.02.0002")
    cases = [
        # one package just under: nothing was split
        [package(s, 199 * JUTA)],
        # small packages far under the threshold
        [package(s, 50 * JUTA, name=f"Kecil {i}") for i in range(5)],
        # same values, different account codes
        [package(s, 195 * JUTA, account_code=f"5.1.02.01.01.00{i}0") for i in range(1, 4)],
        # same values, different sub-activities
        [package(s, 195 * JUTA), package(other, 195 * JUTA)],
        # a tender of the same size is not a direct procurement
        [package(s, 195 * JUTA, method=SelectionMethod.TENDER), package(s, 195 * JUTA)],
        # same values, different procurement types
        [package(s, 195 * JUTA), package(s, 195 * JUTA, procurement_type=ProcurementType.OTHER_SERVICES)],
    ]
    for packages in cases:
        assert detect_split_packages(packages) == [], packages


def test_two_packages_just_under_whose_sum_stays_under_do_not_count() -> None:
    s = planned()
    thresholds = DirectProcurementThresholds(near_basis_points=4_000)
    assert detect_split_packages([package(s, 90 * JUTA), package(s, 95 * JUTA)], thresholds) == []
    assert len(detect_split_packages([package(s, 90 * JUTA), package(s, 115 * JUTA)], thresholds)) == 1


def test_the_detector_handles_a_year_of_1200_packages_well_under_a_second() -> None:
    packages = []
    for i in range(1_200):
        agency = f"OPD{i % 40:02d}"
        s = planned(budget=10**12, code=f"1.03.03.2.02.{i % 30:04d}", agency=agency)
        method = SelectionMethod.PENGADAAN_LANGSUNG if i % 3 else SelectionMethod.TENDER
        value = 170 * JUTA + (i % 29) * JUTA if i % 3 else 900 * JUTA
        packages.append(package(s, value, name=f"Paket {i}", method=method, account_code=f"5.1.02.01.01.{i % 7:04d}"))
    started = time.perf_counter()
    findings = detect_split_packages(packages)
    elapsed = time.perf_counter() - started
    assert elapsed < 0.1, f"{elapsed:.3f}s"
    assert findings, "the generated year has repeated keys just under the threshold"
    assert all(len(f.packages) >= 2 and f.total > f.threshold for f in findings)
    assert all(len({(p.agency_code, p.sub_activity_code, p.account_code) for p in f.packages}) == 1 for f in findings)
    print(f"split detector: 1,200 packages, {len(findings)} findings in {elapsed * 1000:.2f} ms")


def test_sirup_export_has_the_sirup_columns_and_one_row_per_package() -> None:
    s = planned()
    p = package(s, 150 * JUTA, name='Pengadaan "ATK", tahap 1')
    q = package(
        s, 300 * JUTA, name="Pemeliharaan gedung", mode=ProcurementMode.SELF_MANAGED, method=None, selection=None
    )
    text = sirup_csv([p, q])
    assert text.endswith("\r\n")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert tuple(rows[0]) == SIRUP_COLUMNS
    assert rows[0] | {} == {
        "Kode Paket": p.id,
        "Nama Paket": 'Pengadaan "ATK", tahap 1',
        "Tahun Anggaran": "2025",
        "Kode K/L/PD": "33",
        "Kode Satuan Kerja": "DPU",
        "Jenis Pengadaan": "Barang",
        "Cara Pengadaan": "Penyedia",
        "Metode Pemilihan": "Pengadaan Langsung",
        "Sumber Dana": "APBD",
        "Pagu (Rp)": "150000000",
        "MAK": "1.03.03.2.02.0001.5.1.02.01.01.0024",
        "Produk Dalam Negeri": "Ya",
        "Usaha Kecil": "Ya",
        "Pemilihan Mulai": "2025-02",
        "Pemilihan Akhir": "2025-03",
        "Kontrak Mulai": "2025-03",
        "Kontrak Akhir": "2025-05",
        "Pemanfaatan Mulai": "2025-05",
        "Pemanfaatan Akhir": "2025-12",
    }
    assert (rows[1]["Cara Pengadaan"], rows[1]["Metode Pemilihan"], rows[1]["Pemilihan Mulai"]) == ("Swakelola", "", "")
    assert sirup_csv([]) == ",".join(SIRUP_COLUMNS) + "\r\n"
