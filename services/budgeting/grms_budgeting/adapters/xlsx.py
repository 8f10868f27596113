"""RKA workbooks (XLSX) and RKA CSV files in; a plan out as a workbook (openpyxl).

Workbooks are read by scanning the sheet XML (adapters.sheet_xml), then with lxml, then
with openpyxl: each the fallback for what the one before does not handle.

Both formats share one row reader: a header row naming the columns (any order), then one
line per row, so a CSV saved from the exported workbook imports the same way.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterator, Sequence
from typing import Any

from grms_kit.bulk import bulk_work
from grms_kit.errors import FieldViolation, InvalidArgument
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font

from grms_budgeting.adapters.sheet_xml import UnreadableSheet, first_sheet_rows, first_sheet_rows_lxml
from grms_budgeting.domain.budget import BudgetPlan, LineInput
from grms_budgeting.domain.rka_sheet import AMOUNT_HEADER, COLUMNS, HEADERS, column_letter

__all__ = ["MAX_ROWS", "read_rka", "read_rka_csv", "read_rka_openpyxl", "write_rka"]

MAX_ROWS = 10_000
_WHOLE_RUPIAH = re.compile(r"^(\d{1,3}(\.\d{3})+|\d+)$")


def _text(value: Any) -> str:
    if type(value) is str:  # every CSV cell and most workbook cells
        return value.strip()
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def read_rka(data: bytes, *, max_rows: int = MAX_ROWS) -> tuple[list[tuple[int, LineInput]], dict[str, str]]:
    """The lines of the workbook's first sheet with their row numbers, and each field's column letter.

    Raises InvalidArgument naming the header or every cell that is not what its column needs
    (`rows[<row>].<letter>`); the checks against the price list come later, per line.
    """
    with bulk_work():
        for reader in (first_sheet_rows, first_sheet_rows_lxml):
            try:
                with zipfile.ZipFile(io.BytesIO(data)) as archive:
                    return _read_rows(reader(archive), "workbook", max_rows)
            except UnreadableSheet:
                continue
            except zipfile.BadZipFile:
                break
        return read_rka_openpyxl(data, max_rows=max_rows)  # it reads the workbook, or names what is wrong


def read_rka_openpyxl(data: bytes, *, max_rows: int = MAX_ROWS) -> tuple[list[tuple[int, LineInput]], dict[str, str]]:
    """As read_rka, through openpyxl (read-only): slower, for the workbooks the stream reader does not handle."""
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise InvalidArgument.field("workbook", f"is not an XLSX workbook ({type(exc).__name__})") from None
    try:
        return _read_rows(book.worksheets[0].iter_rows(values_only=True), "workbook", max_rows)
    finally:
        book.close()


def read_rka_csv(data: bytes, *, max_rows: int = MAX_ROWS) -> tuple[list[tuple[int, LineInput]], dict[str, str]]:
    """The lines of an RKA CSV file (UTF-8, comma or semicolon separated, header row first); as read_rka."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidArgument.field("csv", f"is not UTF-8 text (byte {exc.start})") from None
    first = text[: text.find("\n")] if "\n" in text else text
    # Spreadsheets set to Indonesian write ";" (the comma is their decimal separator).
    delimiter = ";" if first.count(";") > first.count(",") else ","
    try:
        with bulk_work():
            return _read_rows(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), "csv", max_rows)
    except csv.Error as exc:
        raise InvalidArgument.field("csv", f"is not valid CSV: {exc}") from None


def _read_rows(
    rows: Iterator[Sequence[Any]], source: str, max_rows: int
) -> tuple[list[tuple[int, LineInput]], dict[str, str]]:
    header = next(rows, None) or ()
    where: dict[str, int] = {}
    for i, cell in enumerate(header):
        name = HEADERS.get(_text(cell).lower())
        if name:
            where[name] = i
    missing = [h for n, h in COLUMNS if n not in where and n != "tags"]
    if missing:
        raise InvalidArgument.field("rows[1]", f"the header row lacks the column(s) {', '.join(missing)}")
    letters = {name: column_letter(i + 1) for name, i in where.items()}
    out: list[tuple[int, LineInput]] = []
    violations: list[FieldViolation] = []
    price_letter = letters["unit_price"]
    fields = list(where.items())
    price_column = where["unit_price"]
    for number, values in enumerate(rows, start=2):
        width = len(values)
        text = {name: (_text(values[i]) if i < width else "") for name, i in fields}
        if not any(text.values()):
            continue
        if len(out) >= max_rows:
            raise InvalidArgument.field(source, f"has more than {max_rows:,} lines")
        price = values[price_column] if price_column < width else None
        if isinstance(price, str) and _WHOLE_RUPIAH.match(price.strip()):
            price = int(price.strip().replace(".", ""))  # "55.000" as Indonesians write it; never "55000.0"
        if isinstance(price, float) and price.is_integer():
            price = int(price)
        if isinstance(price, bool) or not isinstance(price, int):
            violations.append(FieldViolation(f"rows[{number}].{price_letter}", "Harga Satuan: must be whole rupiah"))
            price = 0
        tags = tuple(t.strip() for t in text.get("tags", "").split(",") if t.strip())
        out.append(
            (
                number,
                LineInput(
                    text["account_code"],
                    text["standard_item_code"],
                    text["specification"],
                    text["volume"],
                    text["unit"],
                    price,
                    text["funding_source"],
                    tags,
                ),
            )
        )
    if violations:
        raise InvalidArgument(violations)
    return out, letters


def write_rka(plan: BudgetPlan) -> bytes:
    """The plan as an RKA workbook: the lines (re-importable) and a sheet about the plan."""
    book = Workbook()
    sheet = book.active
    sheet.title = "RKA" if plan.state.value != "approved" else "DPA"
    sheet.append([h for _, h in COLUMNS] + [AMOUNT_HEADER])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for number in sorted(plan.lines):
        line = plan.lines[number]
        sheet.append(
            [
                line.account_code,
                line.standard_item_code,
                line.specification,
                line.volume,
                line.unit,
                line.unit_price,
                line.funding_source,
                ", ".join(line.tags),
                line.amount,
            ]
        )
    for column, width in zip("ABCDEFGHI", (22, 20, 48, 22, 10, 14, 14, 18, 16), strict=True):
        sheet.column_dimensions[column].width = width
    about = book.create_sheet("Info")
    for row in (
        ("Plan", plan.id),
        ("Government", plan.government_code),
        ("Agency", plan.agency_code),
        ("Sub-activity", plan.sub_activity_code),
        ("Fiscal year", plan.fiscal_year),
        ("State", plan.state.value),
        ("Version", plan.version),
        ("Total", plan.total),
    ):
        about.append(list(row))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
