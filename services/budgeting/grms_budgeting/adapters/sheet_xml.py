"""The cell values of an XLSX workbook's first sheet, read as a stream straight from its XML.

openpyxl (even read-only) builds a cell object per cell and takes ~20 s for a 150,000-row
RKA sheet; this reader walks `xl/worksheets/sheetN.xml` with lxml's `iterparse` (row
elements only, entities never resolved), dropping each row once read, and yields plain
tuples as `iter_rows(values_only=True)` would for what an RKA sheet holds: shared strings
(rich text joined, phonetic runs left out), inline strings, formula strings (their cached
value), numbers (int when whole), booleans, error codes as text, empty cells as None.

Decision: date-formatted numbers stay numbers (no RKA column is a date, and openpyxl would
turn them into datetimes only to have the text columns refuse them anyway). Anything this
reader does not understand raises `UnreadableSheet`; the caller then falls back to openpyxl,
whose errors name what is wrong with a malformed file.
"""

from __future__ import annotations

import posixpath
import zipfile
from collections.abc import Iterator
from typing import IO, Any

from lxml.etree import XMLSyntaxError, iterparse

__all__ = ["UnreadableSheet", "first_sheet_rows"]

_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PKG = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_DIGITS = "0123456789"
_C, _ROW, _V, _IS, _T, _SI, _RPH = (_MAIN + n for n in ("c", "row", "v", "is", "t", "si", "rPh"))
_IS_T = f"{_IS}/{_T}"


class UnreadableSheet(Exception):
    """The workbook is not one this reader handles; read it with openpyxl instead."""


def first_sheet_rows(book: zipfile.ZipFile) -> Iterator[tuple[Any, ...]]:
    """The rows of the workbook's first sheet as value tuples (None for empty cells), gaps between rows kept."""
    try:
        sheet = _first_sheet_path(book)
        strings = _shared_strings(book)
        with book.open(sheet) as stream:
            yield from _rows(stream, strings)
    except (KeyError, XMLSyntaxError, ValueError, IndexError, zipfile.BadZipFile, OSError) as exc:
        raise UnreadableSheet(f"{type(exc).__name__}: {exc}") from exc


def _first_sheet_path(book: zipfile.ZipFile) -> str:
    with book.open("xl/workbook.xml") as stream:
        sheet_id = next((e.get(_REL + "id") for _, e in _parse(stream, _MAIN + "sheet")), None)
    if not sheet_id:
        raise ValueError("the workbook lists no sheet")
    with book.open("xl/_rels/workbook.xml.rels") as stream:
        target = next(
            (e.get("Target") for _, e in _parse(stream, _PKG + "Relationship") if e.get("Id") == sheet_id),
            None,
        )
    if not target:
        raise ValueError(f"the workbook's relationships lack {sheet_id}")
    return target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join("xl", target))


def _shared_strings(book: zipfile.ZipFile) -> list[str]:
    if "xl/sharedStrings.xml" not in book.namelist():
        return []
    strings: list[str] = []
    with book.open("xl/sharedStrings.xml") as stream:
        for _, element in _parse(stream, _SI):
            strings.append(_text_of(element))
            element.clear()
    return strings


def _text_of(element: Any) -> str:
    """The text of a string item (<si> or <is>): its <t>, or its rich-text runs' <t>s, without phonetic runs."""
    parts = []
    for child in element:
        if child.tag == _T:
            parts.append(child.text or "")
        elif child.tag != _RPH:
            parts.extend(t.text or "" for t in child.iter(_T))
    return "".join(parts)


def _column_index(letters: str) -> int:
    if not letters or len(letters) > 3 or not letters.isascii() or not letters.isupper():
        raise ValueError(f"bad cell column {letters!r}")
    index = 0
    for ch in letters:
        index = index * 26 + ord(ch) - 64
    return index - 1


def _value(cell: Any, kind: str | None, strings: list[str]) -> Any:
    if kind == "inlineStr":
        text = cell.findtext(_IS_T)  # the plain case; rich text has runs instead
        if text is None:
            inline = cell.find(_IS)
            return _text_of(inline) if inline is not None else None
        return text
    raw = cell.findtext(_V)
    if raw is None:
        return None
    if kind == "s":
        return strings[int(raw)]
    if kind in ("str", "e"):
        return raw
    if kind == "b":
        return raw == "1"
    if kind not in (None, "n"):
        raise ValueError(f"unknown cell type {kind!r}")
    try:
        return int(raw)
    except ValueError:
        number = float(raw)
        return int(number) if number.is_integer() else number


def _parse(stream: IO[bytes], tag: str) -> Any:
    return iterparse(stream, events=("end",), tag=tag, resolve_entities=False, no_network=True, huge_tree=True)


def _rows(stream: IO[bytes], strings: list[str]) -> Iterator[tuple[Any, ...]]:
    expected_row = 1
    columns: dict[str, int] = {}
    for _, element in _parse(stream, _ROW):
        number = int(element.get("r") or expected_row)
        while expected_row < number:  # rows Excel did not write are empty rows
            yield ()
            expected_row += 1
        values: list[Any] = []
        for cell in element.iterchildren(_C):
            ref = cell.get("r")
            if ref:
                letters = ref.rstrip(_DIGITS)
                column = columns.get(letters)
                if column is None:
                    column = columns[letters] = _column_index(letters)
                if column < len(values):
                    raise ValueError(f"cell {ref} out of order")
                if column > len(values):
                    values.extend([None] * (column - len(values)))
            values.append(_value(cell, cell.get("t"), strings))
        element.clear()
        while element.getprevious() is not None:  # the rows read so far: memory stays flat
            del element.getparent()[0]
        expected_row = number + 1
        yield tuple(values)
