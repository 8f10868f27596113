"""The cell values of an XLSX workbook's first sheet, read as a stream straight from its XML.

openpyxl (even read-only) builds a cell object per cell and takes ~20 s for a 150,000-row
RKA sheet. Two readers here yield plain tuples as `iter_rows(values_only=True)` would for
what an RKA sheet holds: shared strings (rich text joined, phonetic runs left out), inline
strings, formula strings (their cached value), numbers (int when whole), booleans, error
codes as text, empty cells as None; rows Excel did not write come out empty.

- `first_sheet_rows` scans the inflated sheet XML in 1 MiB chunks with one regular
  expression for row starts and cells (the sheet XML is regular) while expat, fed the same
  bytes with no handlers, proves the document well-formed at C speed: ~3× faster than lxml.
- `first_sheet_rows_lxml` walks the same XML with lxml's `iterparse` (row elements only,
  entities never resolved), dropping each row once read: slower, for what the scan refuses.

Decision: the scan handles only the plain, unprefixed SpreadsheetML that Excel, LibreOffice
and openpyxl write; a DTD, comment, CDATA section, processing instruction, namespace prefix
or redeclaration, a cell reference not first or not a reference, raise `UnreadableSheet`
and the caller reads the file with lxml, then openpyxl. Date-formatted numbers stay numbers
(no RKA column is a date, and openpyxl would turn them into datetimes only to have the text
columns refuse them anyway). Anything neither reader understands raises `UnreadableSheet`;
the caller then falls back to openpyxl, whose errors name what is wrong with a malformed file.
"""

from __future__ import annotations

import codecs
import posixpath
import re
import zipfile
from collections.abc import Iterator
from typing import IO, Any
from xml.parsers import expat

from lxml.etree import XMLSyntaxError, iterparse

__all__ = ["UnreadableSheet", "first_sheet_rows", "first_sheet_rows_lxml"]

_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PKG = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_DIGITS = "0123456789"
_C, _ROW, _V, _IS, _T, _SI, _RPH = (_MAIN + n for n in ("c", "row", "v", "is", "t", "si", "rPh"))
_IS_T = f"{_IS}/{_T}"


class UnreadableSheet(Exception):
    """The workbook is not one this reader handles; read it with openpyxl instead."""


def first_sheet_rows_lxml(book: zipfile.ZipFile) -> Iterator[tuple[Any, ...]]:
    """As first_sheet_rows, through lxml's iterparse: slower, for sheets the scan does not handle."""
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


def _shared(strings: list[str], raw: str) -> str:
    index = int(raw)
    if index < 0:  # a list index from the end would read some other string
        raise IndexError(f"shared string {index}")
    return strings[index]


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
    if not raw:  # openpyxl too reads an empty <v/> as an empty cell
        return None
    if kind == "s":
        return _shared(strings, raw)
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


# ---- the scan -----------------------------------------------------------------------------

_CHUNK = 1 << 20
# One token per row start (group 1 "<row", group 2 its attributes) or per cell (group 3 the
# column letters of its leading r=, group 4 its other attributes, group 5 its content).
_TOKEN = re.compile(
    r'(<row)\b([^>]*?)/?>|<c\b(?:\s+r="([A-Z]{1,3})[1-9][0-9]*")?([^>]*?)(?:/>|>(.*?)</c>)',
    re.S,
)
_ROW_NUMBER = re.compile(r"""\sr\s*=\s*["']([^"']*)["']""")
_ATTRIBUTE = re.compile(r"""\s*([\w:.-]+)\s*=\s*(?:"[^"]*"|'[^']*')""")
_CELL_TYPE = re.compile(r"""\st\s*=\s*["']([^"']*)["']""")
_VALUE = re.compile(r"<v(?:\s[^>]*?)?(?:/>|>(.*?)</v>)", re.S)
_TEXT = re.compile(r"<t(?:\s[^>]*?)?(?:/>|>(.*?)</t>)", re.S)
_PHONETIC = re.compile(r"<rPh\b.*?</rPh>", re.S)
_REFERENCE = re.compile(r"&(?:#x([0-9A-Fa-f]+)|#([0-9]+)|(amp|lt|gt|quot|apos));")
_NAMED = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}
_ROOT = re.compile(r'^\s*(?:<\?xml[^>]*\?>)?\s*<worksheet\b[^>]*\sxmlns="' + re.escape(_MAIN[1:-1]) + '"')
_SHEET_DATA = re.compile(r"<sheetData\s*(/?)>")
_PREFIXED = re.compile(r"</?[A-Za-z_][\w.-]*:(?:worksheet|sheetData|row|c|v|is|t|r|si)\b")
_KINDS = frozenset({None, "n", "s", "str", "e", "b", "inlineStr"})


def first_sheet_rows(book: zipfile.ZipFile) -> Iterator[tuple[Any, ...]]:
    """The rows of the workbook's first sheet as value tuples (None for empty cells), gaps between rows kept."""
    try:
        sheet = _first_sheet_path(book)
        strings = _shared_strings(book)
        with book.open(sheet) as stream:
            yield from _scan(stream, strings)
    except (KeyError, XMLSyntaxError, expat.ExpatError, ValueError, IndexError, zipfile.BadZipFile, OSError) as exc:
        raise UnreadableSheet(f"{type(exc).__name__}: {exc}") from exc


def _unescape(text: str) -> str:
    return _REFERENCE.sub(_character, text) if "&" in text else text


def _character(match: re.Match[str]) -> str:
    hexadecimal, decimal, name = match.groups()
    if name:
        return _NAMED[name]
    return chr(int(hexadecimal, 16) if hexadecimal else int(decimal))


def _rich_text(content: str) -> str:
    """The text of a string item's content (<t>, or rich-text runs' <t>s), without phonetic runs."""
    if "<rPh" in content:
        content = _PHONETIC.sub("", content)
    return _unescape("".join(_TEXT.findall(content)))


def _raw_value(content: str) -> str | None:
    if content.startswith("<v>") and content.endswith("</v>") and "<" not in content[3:-4]:
        return content[3:-4]  # the plain case: <v>…</v> alone
    match = _VALUE.search(content)
    return match.group(1) if match else None


def _scan_value(content: str | None, kind: str | None, strings: list[str]) -> Any:
    if not content:
        return None
    if kind == "inlineStr":
        if content.startswith("<is><t>") and content.endswith("</t></is>") and "<" not in content[7:-9]:
            return _unescape(content[7:-9])
        return _rich_text(content) if "<is" in content else None
    raw = _raw_value(content)
    if not raw:  # openpyxl too reads an empty <v/> as an empty cell
        return None
    if kind == "s":
        return _shared(strings, raw)
    if kind in ("str", "e"):
        return _unescape(raw)
    if kind == "b":
        return raw == "1"
    try:
        return int(raw)
    except ValueError:
        number = float(raw)
        return int(number) if number.is_integer() else number


def _cell_kind(attributes: str) -> str | None:
    """The t= of a cell's attributes other than a leading r= (refused: any other r=, anything not an attribute)."""
    if _ATTRIBUTE.sub("", attributes).strip():
        raise ValueError(f"unexpected cell attributes {attributes!r}")
    names = [m.group(1) for m in _ATTRIBUTE.finditer(attributes)]
    if "r" in names:
        raise ValueError(f"a cell reference that is not first or not one: {attributes!r}")
    match = _CELL_TYPE.search(attributes)
    kind = match.group(1) if match else None
    if kind not in _KINDS:
        raise ValueError(f"unknown cell type {kind!r}")
    return kind


def _scan(stream: IO[bytes], strings: list[str]) -> Iterator[tuple[Any, ...]]:
    """The rows of a sheet's XML, scanned chunk by chunk while expat checks the same bytes are well-formed XML."""
    checker = expat.ParserCreate()
    decoder = codecs.getincrementaldecoder("utf-8")()
    kinds: dict[str, str | None] = {}  # a cell's other attributes → its type, parsed once per style
    columns: dict[str, int] = {}
    text = ""
    started = ended = False
    expected_row = 1
    values: list[Any] | None = None
    number = 0
    while True:
        data = stream.read(_CHUNK)
        checker.Parse(data, not data)  # raises ExpatError at the first malformed byte
        if ended:  # what follows the rows (merged cells, extensions) only needs to be well-formed
            if not data:
                break
            continue
        text += decoder.decode(data, not data)
        if not started:
            found = _SHEET_DATA.search(text)
            if found is None:
                if not data:
                    raise ValueError("the sheet has no sheetData")
                continue
            # The declaration is the only processing instruction the scan lets by.
            if not _ROOT.match(text) or "<!" in text[: found.start()] or "<?" in text[2 : found.start()]:
                raise ValueError("the sheet is not plain SpreadsheetML")
            started, ended = True, bool(found.group(1))  # <sheetData/>: no rows
            text = "" if ended else text[found.end() :]
            if ended:
                if not data:
                    break
                continue
        stop = text.find("</sheetData>")
        if stop >= 0:
            text, ended = text[:stop], True
        if "<!" in text or "<?" in text or "xmlns" in text or _PREFIXED.search(text):
            raise ValueError("a comment, CDATA section, processing instruction or namespace in the sheet data")
        if ended or not data:
            body, text = text, ""
        else:
            cut = text.rfind("</row>")
            if cut < 0:
                continue  # a row longer than a chunk: read on
            body, text = text[:cut], text[cut:]
        if "\r" in body:  # XML reads every line ending as \n
            body = body.replace("\r\n", "\n").replace("\r", "\n")
        for row, row_attributes, letters, attributes, content in _TOKEN.findall(body):
            if row:
                if values is not None:
                    yield tuple(values)
                found_number = _ROW_NUMBER.search(row_attributes)
                number = int(found_number.group(1)) if found_number else expected_row
                if number < expected_row:
                    raise ValueError(f"row {number} out of order")
                while expected_row < number:  # rows Excel did not write are empty rows
                    yield ()
                    expected_row += 1
                expected_row = number + 1
                values = []
                continue
            if values is None:
                raise ValueError("a cell outside a row")
            try:
                kind = kinds[attributes]
            except KeyError:
                kind = kinds[attributes] = _cell_kind(attributes)
            if letters:
                column = columns.get(letters)
                if column is None:
                    column = columns[letters] = _column_index(letters)
                if column < len(values):
                    raise ValueError(f"cell {letters}{number} out of order")
                if column > len(values):
                    values.extend([None] * (column - len(values)))
            values.append(_scan_value(content, kind, strings))
        if not data:
            break
    if not ended:
        raise ValueError("the sheet data does not end")
    if values is not None:
        yield tuple(values)
