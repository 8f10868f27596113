"""RKA workbooks: reading and writing XLSX, and the all-or-nothing import with errors by row and column."""

from __future__ import annotations

import dataclasses
import hashlib
import io

import pytest
from grms_budgeting.adapters.xlsx import read_rka, write_rka
from grms_budgeting.domain.audit import canonical_json, lines_digest, verify_chain
from grms_budgeting.domain.rka_sheet import column_letter, sheet_path
from grms_budgeting.service_layer import budget
from grms_kit.errors import FailedPrecondition, InvalidArgument
from openpyxl import Workbook, load_workbook

from . import world
from .fakes import FakeUnitOfWork

HEADER = ["Kode Rekening", "Kode Standar Harga", "Uraian", "Volume", "Satuan", "Harga Satuan", "Sumber Dana", "Label"]
GOOD = [
    [world.ATK, "1.1.12.01.03.0005", "Kertas HVS A4", "10 rim", "rim", 50_000, "PAD", "ATK, rutin"],
    [world.SNACK, "SBU-MAMIN-01", "Kudapan rapat", "10 orang x 2 kali", "OK", "15.000", "PAD", None],
    [None, None, None, None, None, None, None, None],  # blank rows are skipped
    [world.SALARY, "", "Honor narasumber", "2 orang", "OJ", 900_000.0, "DAU", ""],
]


@pytest.fixture
def uow() -> FakeUnitOfWork:
    return world.build()


def workbook(rows: list[list[object]], header: list[str] = HEADER) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _import(uow: FakeUnitOfWork, plan_id: str, data: bytes, version: int | None = None):  # type: ignore[no-untyped-def]
    rows, letters = read_rka(data)
    cmd = budget.ImportBudgetLines(plan_id, version, rows, letters)
    return budget.import_budget_lines(cmd, uow=uow, actor=world.PLANNER, request_id="req-import")


def test_columns_are_lettered_and_line_paths_become_cells() -> None:
    assert [column_letter(i) for i in (1, 6, 26, 27, 52)] == ["A", "F", "Z", "AA", "AZ"]
    assert sheet_path(7, "lines[7].unit_price", {"unit_price": "F"}) == "rows[7].F"
    assert sheet_path(3, "lines[3].tags[0]", {"tags": "H"}) == "rows[3].H"


def test_the_reader_takes_rows_by_header_and_names_bad_cells() -> None:
    rows, letters = read_rka(workbook(GOOD))
    assert [r for r, _ in rows] == [2, 3, 5]
    assert rows[0][1].tags == ("ATK", "rutin") and rows[1][1].unit_price == 15_000 and rows[2][1].unit_price == 900_000
    assert letters["unit_price"] == "F"
    shuffled = workbook([[50_000, world.ATK, "10 rim"]], header=["Harga Satuan", "Kode Rekening", "Volume"])
    with pytest.raises(InvalidArgument) as missing:
        read_rka(shuffled)
    assert "Uraian" in missing.value.violations[0].description
    with pytest.raises(InvalidArgument) as bad:
        read_rka(workbook([[*GOOD[0][:5], "lima puluh ribu", "PAD", ""], [*GOOD[0][:5], 1.5, "PAD", ""]]))
    assert [v.field for v in bad.value.violations] == ["rows[2].F", "rows[3].F"]
    with pytest.raises(InvalidArgument) as junk:
        read_rka(b"not a workbook")
    assert junk.value.violations[0].field == "workbook"


def test_a_good_workbook_is_imported_as_one_change(uow: FakeUnitOfWork) -> None:
    plan = world.new_plan(uow)
    plan, count = _import(uow, plan.id, workbook(GOOD), version=1)
    assert count == 3 and plan.version == 2 and sorted(plan.lines) == [1, 2, 3]
    assert plan.total == 500_000 + 300_000 + 1_800_000
    entries = uow.plans.audit_entries(plan.id, after_seq=0, limit=10)
    assert [e.action for e in entries] == ["create", "import_lines"]  # one entry for the whole import
    entry = entries[1]
    assert entry.request_id == "req-import" and entry.actor == world.PLANNER.sub
    assert entry.old == {"total": 0, "line_count": 0}
    assert entry.new == {
        "total": 2_600_000,
        "line_count": 3,
        "lines": 3,
        "first_number": 1,
        "last_number": 3,
        "sha256": lines_digest(plan.lines[n].to_json() for n in (1, 2, 3)),
    }
    assert verify_chain(entries) is None


def test_the_import_digest_covers_every_line_so_a_forged_line_or_entry_is_caught(uow: FakeUnitOfWork) -> None:
    plan = world.new_plan(uow)
    plan, _ = _import(uow, plan.id, workbook(GOOD))
    lines = [plan.lines[n].to_json() for n in (1, 2, 3)]
    digest = lines_digest(lines)
    assert digest == hashlib.sha256("".join(canonical_json(v) + "\n" for v in lines).encode()).hexdigest()
    forged = [*lines[:2], {**lines[2], "unit_price": 1}]
    assert lines_digest(forged) != digest and lines_digest(lines[:2]) != digest
    assert lines_digest([lines[1], lines[0], lines[2]]) != digest
    entries = uow.plans.audit_entries(plan.id, after_seq=0, limit=10)
    tampered = dataclasses.replace(entries[1], new={**entries[1].new, "sha256": lines_digest(forged)})
    assert verify_chain([entries[0], tampered]) == 2


def test_a_workbook_with_errors_stores_nothing_and_names_row_and_column(uow: FakeUnitOfWork) -> None:
    plan = world.new_plan(uow)
    rows = [
        GOOD[0],
        [world.ATK, "1.1.12.01.03.0005", "Kertas HVS A4", "10 rim", "rim", 60_000, "PAD", ""],  # above the price
        [world.ATK, "", "Map plastik", "nol rim", "rim", 5_000, "PAD", ""],  # no item, bad volume
        ["9.9.9", "SBU-MAMIN-01", "Kudapan", "1 OK", "OK", 15_000, "PAD", ""],  # unknown account
    ]
    with pytest.raises(InvalidArgument) as refused:
        _import(uow, plan.id, workbook(rows))
    fields = [v.field for v in refused.value.violations]
    assert fields == ["rows[3].F", "rows[4].B", "rows[4].D", "rows[5].A"]
    assert "above the standard price Rp55,000" in refused.value.violations[0].description
    stored = uow.plans.get(plan.id)
    assert stored is not None and stored.lines == {} and stored.version == 1


def test_import_needs_an_editable_plan_and_lines(uow: FakeUnitOfWork) -> None:
    plan = world.new_plan(uow)
    with pytest.raises(InvalidArgument):
        _import(uow, plan.id, workbook([]))
    world.ceilings(uow)
    world.add(uow, plan.id, world.paper())
    budget.submit_budget_plan(budget.PlanTransition(plan.id), uow=uow, actor=world.HEAD, request_id="r")
    with pytest.raises(FailedPrecondition):
        _import(uow, plan.id, workbook(GOOD[:1]))


def test_an_exported_plan_imports_back(uow: FakeUnitOfWork) -> None:
    plan = world.new_plan(uow)
    plan, _ = _import(uow, plan.id, workbook(GOOD))
    data = write_rka(plan)
    sheet = load_workbook(io.BytesIO(data)).worksheets[0]
    assert [c.value for c in sheet[1]] == [*HEADER, "Jumlah"]
    assert sheet["I2"].value == 500_000 and sheet["H2"].value == "ATK, rutin"
    other = budget.create_budget_plan(
        budget.CreateBudgetPlan("33", world.AGENCY, world.SUB_2, world.YEAR),
        uow=uow,
        actor=world.PLANNER,
        request_id="r",
    )
    again, count = _import(uow, other.id, data)
    assert count == 3 and again.total == plan.total
    assert [line.to_json() for line in again.lines.values()] == [line.to_json() for line in plan.lines.values()]


def _csv(rows: list[list[object]], *, delimiter: str = ",", header: list[str] = HEADER) -> bytes:
    import csv

    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter)
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if v is None else int(v) if isinstance(v, float) else v for v in row])
    return ("\ufeff" + out.getvalue()).encode()


@pytest.mark.parametrize("delimiter", [",", ";"])
def test_a_csv_file_reads_like_the_workbook(delimiter: str) -> None:
    from grms_budgeting.adapters.xlsx import read_rka_csv

    from_csv, letters = read_rka_csv(_csv(GOOD, delimiter=delimiter))
    from_xlsx, xlsx_letters = read_rka(workbook(GOOD))
    assert from_csv == from_xlsx and letters == xlsx_letters
    assert [(row, line.unit_price) for row, line in from_csv] == [(2, 50_000), (3, 15_000), (5, 900_000)]


def test_a_bad_csv_names_its_cells_and_encoding() -> None:
    from grms_budgeting.adapters.xlsx import read_rka_csv

    bad = [
        [world.ATK, "1.1.12.01.03.0005", "Kertas", "10 rim", "rim", "lima puluh ribu", "PAD", ""],
        [world.ATK, "1.1.12.01.03.0005", "Kertas", "10 rim", "rim", "50000.0", "PAD", ""],  # never read as 500,000
    ]
    with pytest.raises(InvalidArgument) as info:
        read_rka_csv(_csv(bad))
    assert [v.field for v in info.value.violations] == ["rows[2].F", "rows[3].F"]
    with pytest.raises(InvalidArgument) as encoding:
        read_rka_csv("Uraian\nKertas \xe9".encode("latin-1"))
    assert encoding.value.violations[0].field == "csv"
    with pytest.raises(InvalidArgument) as header:
        read_rka_csv(_csv([], header=["Uraian"]))
    assert header.value.violations[0].field == "rows[1]"
    with pytest.raises(InvalidArgument, match="more than 2 lines"):
        read_rka_csv(_csv(GOOD * 2), max_rows=2)


def test_short_rows_columns_in_any_order_and_padded_cells_read_as_written() -> None:
    from grms_budgeting.adapters.xlsx import read_rka_csv

    header = ["Label", "Harga Satuan", "Uraian", "Kode Rekening", "Kode Standar Harga", "Volume", "Satuan"]
    header.append("Sumber Dana")
    text = "\n".join(
        [
            ",".join(header),
            f'" ATK ,rutin",50.000,"  Kertas HVS  ",{world.ATK},1.1.12.01.03.0005,10 rim,rim,PAD',
            ",,,,",  # a short blank row is skipped
            ",15000",  # a short row: the missing cells are empty, the price still read
        ]
    )
    rows, letters = read_rka_csv(text.encode())
    assert letters["unit_price"] == "B" and letters["tags"] == "A"
    (row, first), (short_row, short) = rows
    assert (row, first.specification, first.unit_price, first.tags) == (2, "Kertas HVS", 50_000, ("ATK", "rutin"))
    assert (short_row, short.unit_price, short.account_code, short.tags) == (4, 15_000, "", ())


def test_a_line_amount_is_computed_once_and_equal_lines_stay_equal(uow: FakeUnitOfWork) -> None:
    plan = world.new_plan(uow)
    plan, _ = _import(uow, plan.id, workbook(GOOD))
    line = plan.lines[2]  # 10 orang x 2 kali at Rp15.000
    assert line.amount == 300_000 and line.__dict__["amount"] == 300_000
    twin = dataclasses.replace(line)
    assert twin == line and "amount" not in twin.__dict__ and twin.amount == line.amount
