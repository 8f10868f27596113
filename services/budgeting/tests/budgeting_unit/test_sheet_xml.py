"""The XLSX sheet readers (scan, lxml): the same values as openpyxl, and openpyxl's errors for what they cannot read."""

from __future__ import annotations

import io
import zipfile

import pytest
from grms_budgeting.adapters.sheet_xml import UnreadableSheet, first_sheet_rows, first_sheet_rows_lxml
from grms_budgeting.adapters.xlsx import read_rka, read_rka_openpyxl
from grms_kit.errors import InvalidArgument
from openpyxl import Workbook, load_workbook

from . import world

HEADER = ["Kode Rekening", "Kode Standar Harga", "Uraian", "Volume", "Satuan", "Harga Satuan", "Sumber Dana", "Label"]
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG = "http://schemas.openxmlformats.org/package/2006/relationships"


def _openpyxl_book(rows: list[list[object]], *, write_only: bool) -> bytes:
    book = Workbook(write_only=write_only)
    sheet = book.create_sheet("RKA") if write_only else book.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


READERS = [first_sheet_rows, first_sheet_rows_lxml]


def _stream(data: bytes, reader=first_sheet_rows) -> list[tuple[object, ...]]:  # type: ignore[no-untyped-def]
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return list(reader(archive))


def _openpyxl_rows(data: bytes) -> list[tuple[object, ...]]:
    book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        return [_trimmed(r) for r in book.worksheets[0].iter_rows(values_only=True)]
    finally:
        book.close()


def _trimmed(row: tuple[object, ...]) -> tuple[object, ...]:
    values = list(row)
    while values and values[-1] is None:
        values.pop()
    return tuple(values)


def _handmade(sheet_data: str, *, shared: str | None = None, target: str = "worksheets/sheet1.xml") -> bytes:
    """A minimal workbook as Excel writes one: shared strings, relative sheet target, sheet XML given."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(
            "xl/workbook.xml",
            f'<workbook xmlns="{MAIN}" xmlns:r="{REL}"><sheets><sheet name="RKA" sheetId="1" r:id="rId7"/>'
            '<sheet name="Info" sheetId="2" r:id="rId8"/></sheets></workbook>',
        )
        archive.writestr(
            "xl/_rels/workbook.xml.rels",
            f'<Relationships xmlns="{PKG}"><Relationship Id="rId8" Type="ws" Target="worksheets/sheet2.xml"/>'
            f'<Relationship Id="rId7" Type="ws" Target="{target}"/></Relationships>',
        )
        path = "xl/" + target if not target.startswith("/") else target[1:]
        archive.writestr(path, f'<worksheet xmlns="{MAIN}"><sheetData>{sheet_data}</sheetData></worksheet>')
        archive.writestr("xl/worksheets/sheet2.xml", f'<worksheet xmlns="{MAIN}"><sheetData/></worksheet>')
        if shared is not None:
            archive.writestr("xl/sharedStrings.xml", f'<sst xmlns="{MAIN}">{shared}</sst>')
    return buffer.getvalue()


ROWS: list[list[object]] = [
    HEADER,
    [world.ATK, "1.1.12.01.03.0005", "Kertas HVS A4 & amplop <besar>", "10 rim", "rim", 50_000, "PAD", "ATK, rutin"],
    [world.SNACK, "SBU-MAMIN-01", "Kudapan rapat", "10 orang x 2 kali", "OK", "15.000", "PAD", None],
    [None, None, None, None, None, None, None, None],
    [world.SALARY, None, "Honor narasumber", "2 orang", "OJ", 900_000.0, "DAU", True],
    [world.SALARY, "", "Honor pecahan", "1 orang", "OJ", 1.5, None, -3],
]


@pytest.mark.parametrize("reader", READERS)
@pytest.mark.parametrize("write_only", [False, True], ids=["shared-strings", "inline-strings"])
def test_openpyxl_written_workbooks_read_the_same_as_openpyxl_reads_them(write_only: bool, reader: object) -> None:
    data = _openpyxl_book(ROWS, write_only=write_only)
    assert [_trimmed(r) for r in _stream(data, reader)] == _openpyxl_rows(data)
    good = _openpyxl_book(ROWS[:5], write_only=write_only)  # the last row's 1.5 rupiah is refused by both
    streamed = read_rka(good)
    assert streamed == read_rka_openpyxl(good) and [r for r, _ in streamed[0]] == [2, 3, 5]
    with pytest.raises(InvalidArgument) as refused:
        read_rka(data)
    assert [v.field for v in refused.value.violations] == ["rows[6].F"]


@pytest.mark.parametrize("reader", READERS)
def test_excel_shapes_rich_text_gaps_formulas_and_numbers(reader: object) -> None:
    shared = (
        "<si><t>Kode Rekening</t></si>"
        '<si><r><rPr><b/></rPr><t>Kertas </t></r><r><t xml:space="preserve">HVS A4</t></r>'
        "<rPh><t>カ</t></rPh></si>"
        "<si><t>rim</t></si>"
    )
    sheet = (
        '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="C1" t="inlineStr"><is><t>Uraian</t></is></c></row>'
        '<row r="3" spans="1:8"><c r="A3" t="s"><v>1</v></c><c r="B3"/><c r="D3" t="s"><v>2</v></c>'
        '<c r="E3"><v>5E4</v></c><c r="F3" t="n"><v>12.25</v></c><c r="G3" t="str"><f>A1</f><v>Kode</v></c>'
        '<c r="H3" t="b"><v>0</v></c><c r="I3" t="e"><v>#DIV/0!</v></c>'
        '<c r="J3" t="inlineStr"><is><r><t>Label </t></r><r><t>kaya</t></r></is></c><c r="AA3"><v>7</v></c></row>'
        "<row><c><v>1</v></c><c><v>2</v></c></row>"
    )
    rows = _stream(_handmade(sheet, shared=shared), reader)
    assert rows[0] == ("Kode Rekening", None, "Uraian")
    assert rows[1] == ()  # row 2 was never written: an empty row, so row numbers stay those of the sheet
    assert rows[2][:10] == ("Kertas HVS A4", None, None, "rim", 50_000, 12.25, "Kode", False, "#DIV/0!", "Label kaya")
    assert rows[2][10:26] == (None,) * 16 and rows[2][26] == 7 and len(rows[2]) == 27
    assert rows[3] == (1, 2)  # no r attributes: cells in order, row after the last one
    absolute = _handmade('<row r="1"><c r="A1" t="inlineStr"><is><t>ok</t></is></c></row>', target="/xl/ws/a.xml")
    assert _stream(absolute, reader) == [("ok",)]


@pytest.mark.parametrize(
    "sheet",
    [
        '<row r="1"><c r="A1" t="s"><v>9</v></c></row>',  # a shared string that does not exist
        '<row r="1"><c r="A1" t="s"><v>-1</v></c></row>',  # nor does this one
        '<row r="1"><c r="B1"><v>1</v></c><c r="A1"><v>2</v></c></row>',  # cells out of order
        '<row r="1"><c r="1A"><v>1</v></c></row>',  # a reference that is not one
        '<row r="1"><c r="A1" t="x"><v>1</v></c></row>',  # an unknown cell type
        '<row r="1"><c r="A1"><v>12,5</v></c></row>',  # not a number
        '<row r="1"><c r="A1"><v>1</v></c>',  # not well-formed
    ],
)
@pytest.mark.parametrize("reader", READERS)
def test_what_the_stream_cannot_read_is_unreadable(sheet: str, reader: object) -> None:
    with pytest.raises(UnreadableSheet):
        _stream(_handmade(sheet, shared="<si><t>x</t></si>"), reader)


def test_unreadable_workbooks_fall_back_to_openpyxl_and_its_errors() -> None:
    broken = _handmade('<row r="1"><c r="A1"><v>1</v></c>')  # malformed sheet XML
    with pytest.raises(InvalidArgument) as refused:
        read_rka(broken)
    assert refused.value.violations[0].field in ("workbook", "rows[1]")
    with pytest.raises(InvalidArgument) as junk:
        read_rka(b"PK\x03\x04 not really a zip")
    assert junk.value.violations[0].field == "workbook"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "a zip, not a workbook")
    with pytest.raises(InvalidArgument) as not_xlsx:
        read_rka(buffer.getvalue())
    assert not_xlsx.value.violations[0].field == "workbook"


def test_the_row_limit_stops_the_stream_early() -> None:
    data = _openpyxl_book([HEADER] + [ROWS[1]] * 5, write_only=True)
    with pytest.raises(InvalidArgument) as refused:
        read_rka(data, max_rows=3)
    assert "more than 3 lines" in refused.value.violations[0].description


def test_the_scan_reads_escapes_line_endings_empty_and_pretty_printed_cells() -> None:
    sheet = (
        '<row r="1">\r\n  <c r="A1" t="inlineStr">'
        '<is><t xml:space="preserve">A &amp; B &lt;C&gt; &#233;&#xE9; "x"</t></is></c>'
        '\r\n  <c r="B1" t="inlineStr"><is><t/></is></c><c r="C1" t="str"><v>baris\r\ndua</v></c>'
        '<c r="D1"><v/></c><c r="E1" s="3"/><c r="F1" s="2" t="s">\n    <v>0</v>\n  </c>'
        '<c r="G1" t="inlineStr"><is><t>&apos;x&apos; &quot;y&quot;</t></is></c></row>\r\n'
        '<row r="2"/><row r="4" spans="1:2"><c r="B4" t="s"><v>1</v></c></row>'
    )
    data = _handmade(sheet, shared='<si><t>Satu</t></si><si><t xml:space="preserve"> dua </t></si>')
    rows = _stream(data)
    assert rows == _stream(data, first_sheet_rows_lxml)
    assert rows[0] == ('A & B <C> éé "x"', "", "baris\ndua", None, None, "Satu", "'x' \"y\"")
    assert rows[1:] == [(), (), (None, " dua ")]


@pytest.mark.parametrize(
    "sheet",
    [
        '<!-- a comment --><row r="1"><c r="A1"><v>1</v></c></row>',
        '<row r="1"><c r="A1" t="inlineStr"><is><t><![CDATA[x]]></t></is></c></row>',
        '<row r="1"><c s="1" r="A1"><v>1</v></c></row>',  # the reference not first
        '<row r="1" xmlns:x="urn:x"><c r="A1"><v>1</v></c></row>',
    ],
)
def test_what_the_scan_does_not_handle_is_read_by_lxml(sheet: str) -> None:
    data = _handmade(sheet)
    with pytest.raises(UnreadableSheet):
        _stream(data)
    assert _stream(data, first_sheet_rows_lxml)[0] in (("x",), (1,))


def test_a_prefixed_sheet_falls_back_and_still_imports() -> None:
    buffer = io.BytesIO()
    cells = (
        "".join(
            f'<x:c r="{col}2" t="inlineStr"><x:is><x:t>{value}</x:t></x:is></x:c>'
            for col, value in zip("ABCDE", [world.ATK, "1.1.12.01.03.0005", "Kertas", "10 rim", "rim"], strict=True)
        )
        + '<x:c r="F2"><x:v>50000</x:v></x:c><x:c r="G2" t="inlineStr"><x:is><x:t>PAD</x:t></x:is></x:c>'
    )
    header = "".join(
        f'<x:c r="{c}1" t="inlineStr"><x:is><x:t>{h}</x:t></x:is></x:c>'
        for c, h in zip("ABCDEFGH", HEADER, strict=True)
    )
    with zipfile.ZipFile(io.BytesIO(_handmade(""))) as source, zipfile.ZipFile(buffer, "w") as archive:
        for name in source.namelist():
            if name != "xl/worksheets/sheet1.xml":
                archive.writestr(name, source.read(name))
        archive.writestr(
            "xl/worksheets/sheet1.xml",
            f'<x:worksheet xmlns:x="{MAIN}"><x:sheetData><x:row r="1">{header}</x:row>'
            f'<x:row r="2">{cells}</x:row></x:sheetData></x:worksheet>',
        )
    data = buffer.getvalue()
    with pytest.raises(UnreadableSheet):
        _stream(data)
    rows, letters = read_rka(data)
    assert [(n, line.unit_price, line.specification) for n, line in rows] == [(2, 50_000, "Kertas")]
    assert letters["unit_price"] == "F"


def test_the_scan_reads_across_chunks_as_openpyxl_does(monkeypatch: pytest.MonkeyPatch) -> None:
    from grms_budgeting.adapters import sheet_xml

    monkeypatch.setattr(sheet_xml, "_CHUNK", 97)  # rows and multi-byte characters cut at every place
    rows: list[list[object]] = [HEADER]
    for i in range(300):
        rows.append(
            [world.ATK, None if i % 7 == 0 else f"1.1.12.01.03.{i:04d}", f"Kertas «{i}» & <ä> ‘HVS’ 🙂",
             f"{i + 1} rim", "rim", 50_000 + i if i % 5 else 1.25 * i, "PAD" if i % 3 else None, i % 2 == 0]
        )  # fmt: skip
    for write_only in (False, True):
        data = _openpyxl_book(rows, write_only=write_only)
        assert [_trimmed(r) for r in _stream(data)] == _openpyxl_rows(data)
        assert _stream(data) == _stream(data, first_sheet_rows_lxml)


def test_a_truncated_sheet_is_unreadable_to_the_scan() -> None:
    data = _openpyxl_book([HEADER, ROWS[1]], write_only=True)
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(buffer, "w") as archive:
        for name in source.namelist():
            content = source.read(name)
            archive.writestr(name, content[: content.index(b"</sheetData>")] if "worksheets" in name else content)
    with pytest.raises(UnreadableSheet):
        _stream(buffer.getvalue())
