"""The layout of an RKA workbook: which column holds which field of a budget line.

One header row, then one line per row. Import reads the columns by their header (any order);
export writes them in this order plus the computed amount, so an exported plan imports back.
"""

from __future__ import annotations

import re

__all__ = ["AMOUNT_HEADER", "COLUMNS", "HEADERS", "column_letter", "sheet_path"]

# (field of LineInput, header) in export order.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("account_code", "Kode Rekening"),
    ("standard_item_code", "Kode Standar Harga"),
    ("specification", "Uraian"),
    ("volume", "Volume"),
    ("unit", "Satuan"),
    ("unit_price", "Harga Satuan"),
    ("funding_source", "Sumber Dana"),
    ("tags", "Label"),
)
HEADERS = {header.lower(): name for name, header in COLUMNS}
AMOUNT_HEADER = "Jumlah"  # written on export, ignored on import


def column_letter(index: int) -> str:
    """The spreadsheet letter of a 1-based column index (1 → A, 27 → AA)."""
    letters = ""
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


_LINE_PATH = re.compile(r"^lines\[\d+\]\.(\w+)")


def sheet_path(row: int, line_path: str, letters: dict[str, str]) -> str:
    """Turn a line violation's path (`lines[7].unit_price`) into its cell (`rows[7].F`)."""
    match = _LINE_PATH.match(line_path)
    name = match.group(1) if match else ""
    return f"rows[{row}].{letters.get(name, name)}"
