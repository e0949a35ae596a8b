"""Safe reading of received spreadsheets: macros, decompression bombs, external links, formulas, CSV."""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from pathlib import Path

import openpyxl
import openpyxl.chart
import pytest

from orchestration.ingest.files import excel
from orchestration.ingest.files.excel import (
    FileRejected,
    FileValidationError,
    check_xlsx_bytes,
    clean_label,
    decode_text,
    parse_number,
    read_csv_bytes,
    read_spreadsheet,
)
from repo_paths import FIXTURES as FIXTURE_ROOT
from tools.demo_data.workbook import write_workbook_deterministic
from spreadsheets import rezip, startlan_bytes, zip_bomb

FIXTURES = FIXTURE_ROOT / "files"


# --- macros -----------------------------------------------------------------------------------------


def test_legacy_xls_is_refused():
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100
    with pytest.raises(FileValidationError, match="legacy binary Excel"):
        read_spreadsheet(ole, "husbanken/startlan.xls")


# --- decompression bombs ------------------------------------------------------------------------------


def test_zip_bomb_refused_by_total_uncompressed_size():
    bomb = zip_bomb(8 * 1024 * 1024)
    with pytest.raises(FileValidationError, match="unpacks to .* over the limit"):
        check_xlsx_bytes(bomb, "husbanken/x.xlsx", max_uncompressed_bytes=4 * 1024 * 1024, max_ratio=10**9)


def test_file_size_limit():
    with pytest.raises(FileValidationError, match="over the limit"):
        check_xlsx_bytes(startlan_bytes([]), "husbanken/x.xlsx", max_file_bytes=100)


def test_not_a_zip_is_a_clear_error():
    with pytest.raises(FileValidationError, match="not a valid xlsx"):
        read_spreadsheet(b"Kommunenummer;Kommune\n", "husbanken/x.xlsx")


# --- external links and formulas ----------------------------------------------------------------------


def with_external_link(tmp_path: Path) -> tuple[bytes, Path]:
    """A workbook whose D2 is `=[1]Ark1!A1`, a link to another workbook, with cached value 42."""
    other = tmp_path / "other.xlsx"
    wb = openpyxl.Workbook()
    wb.active.title = "Ark1"
    wb.active["A1"] = 999
    wb.save(other)

    data = startlan_bytes([["0301", "Oslo", 2019, 17, 5]])
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        sheet = z.read("xl/worksheets/sheet1.xml").decode()
        book = z.read("xl/workbook.xml").decode()
        rels = z.read("xl/_rels/workbook.xml.rels").decode()
        types = z.read("[Content_Types].xml").decode()
    sheet = re.sub(r'<c r="D2"[^>]*>.*?</c>', '<c r="D2"><f>[1]Ark1!A1</f><v>42</v></c>', sheet)
    book = book.replace("</sheets>", '</sheets><externalReferences><externalReference r:id="rIdExt1"/>'
                        "</externalReferences>")
    rels = rels.replace("</Relationships>", '<Relationship Id="rIdExt1" Type="http://schemas.openxmlformats.org/'
                        'officeDocument/2006/relationships/externalLink" Target="externalLinks/externalLink1.xml"/>'
                        "</Relationships>")
    types = types.replace("</Types>", '<Override PartName="/xl/externalLinks/externalLink1.xml" ContentType="'
                          'application/vnd.openxmlformats-officedocument.spreadsheetml.externalLink+xml"/></Types>')
    link = ('<externalLink xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            '<externalBook r:id="rId1"><sheetNames><sheetName val="Ark1"/></sheetNames>'
            '<sheetDataSet><sheetData sheetId="0"><row r="1"><cell r="A1"><v>42</v></cell></row></sheetData>'
            "</sheetDataSet></externalBook></externalLink>")
    link_rels = ('<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                 '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                 f'relationships/externalLinkPath" Target="file:///{other}" TargetMode="External"/></Relationships>')
    data = rezip(data, replace={"xl/worksheets/sheet1.xml": sheet.encode(), "xl/workbook.xml": book.encode(),
                                "xl/_rels/workbook.xml.rels": rels.encode(), "[Content_Types].xml": types.encode()},
                 add={"xl/externalLinks/externalLink1.xml": link.encode(),
                      "xl/externalLinks/_rels/externalLink1.xml.rels": link_rels.encode()})
    return data, other


def test_external_link_is_not_followed(tmp_path):
    data, other = with_external_link(tmp_path)
    # the link is real: openpyxl keeps it when asked to …
    assert openpyxl.load_workbook(io.BytesIO(data), keep_links=True)._external_links
    # … and our reader neither loads it nor reads the linked workbook: it gets Excel's cached 42, not 999
    book = read_spreadsheet(data, "husbanken/startlan_2019.xlsx")
    assert book.sheets[0].rows[1][3] == 42
    assert openpyxl.load_workbook(io.BytesIO(data), read_only=True, keep_links=False)._external_links == []


def test_formula_with_cached_value_reads_the_cached_value():
    data = startlan_bytes([["0301", "Oslo", 2019, "=2+3", 5]])
    sheet = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml").decode()
    sheet = re.sub(r'<c r="D2"[^>]*>.*?</c>', '<c r="D2"><f>2+3</f><v>5</v></c>', sheet)  # as Excel saves it
    book = read_spreadsheet(rezip(data, replace={"xl/worksheets/sheet1.xml": sheet.encode()}), "x.xlsx")
    assert book.sheets[0].rows[1][3] == 5


def _workbook_bytes(wb: openpyxl.Workbook) -> bytes:
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _every_kind_of_cell() -> openpyxl.Workbook:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Ark"  # from C3: two empty rows and columns above and before
    ws["C3"], ws["D3"], ws["E3"], ws["F3"] = "Kommune", 12, 1.5, True
    ws["G3"] = dt.datetime(2020, 1, 2, 3, 4)
    ws["C4"], ws["D4"], ws["E4"], ws["F4"] = dt.time(12, 30), dt.date(2020, 5, 1), "0301", 12345678901
    hidden = wb.create_sheet("Skjult")
    hidden["A1"] = "x"
    hidden.sheet_state = "hidden"
    chart = openpyxl.chart.BarChart()
    chart.add_data(openpyxl.chart.Reference(ws, min_col=4, min_row=3, max_row=4))
    wb.create_chartsheet("Diagram").add_chart(chart)
    wb.properties.title = "Syntetiske data"
    return wb


def test_a_plain_workbook_reads_as_openpyxl_reads_it():
    # calamine reads plain-value workbooks, openpyxl those with formulas or error cells: the same cells
    wb = _every_kind_of_cell()
    plain = read_spreadsheet(_workbook_bytes(wb), "x.xlsx")
    wb["Ark"]["A6"] = "#N/A"  # an error cell: this one goes to openpyxl
    with_error = read_spreadsheet(_workbook_bytes(wb), "x.xlsx")
    assert [s.title for s in plain.sheets] == ["Ark", "Skjult"]  # a chart sheet has no cells
    assert plain.sheets[0].rows == [
        [], [], [None, None, "Kommune", 12, 1.5, True, dt.datetime(2020, 1, 2, 3, 4)],
        [None, None, dt.time(12, 30), dt.datetime(2020, 5, 1), "0301", 12345678901]]
    assert [type(v) for v in plain.sheets[0].rows[2][3:5]] == [int, float]
    assert plain.properties["title"] == "Syntetiske data"
    assert [(s.title, s.rows) for s in with_error.sheets] == \
        [("Ark", plain.sheets[0].rows + [[], ["#N/A"]]), ("Skjult", [["x"]])]
    assert with_error.properties == plain.properties


def test_an_error_cell_is_named_not_loaded_as_empty():
    from orchestration.ingest.files import husbanken

    data = startlan_bytes([["0301", "Oslo", 2019, 17, 5]])
    sheet = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml").decode()
    sheet = re.sub(r'<c r="D2"[^>]*>.*?</c>', '<c r="D2" t="e"><v>#DIV/0!</v></c>', sheet)  # as Excel saves it
    data = rezip(data, replace={"xl/worksheets/sheet1.xml": sheet.encode()})
    assert read_spreadsheet(data, "x.xlsx").sheets[0].rows[1][3] == "#DIV/0!"
    with pytest.raises(FileRejected, match=r"startlan_2019.xlsx: row 2, .*'#DIV/0!' is not a number"):
        husbanken.parse_file(data, "husbanken/startlan_2019.xlsx")


def _with_sheet_data(data: bytes, rows_xml: str, member: str = "xl/worksheets/sheet1.xml") -> bytes:
    """The workbook with its first sheet's cells replaced by `rows_xml` (and no <dimension>)."""
    sheet = zipfile.ZipFile(io.BytesIO(data)).read(member).decode()
    sheet = re.sub(r"<sheetData\s*/>|<sheetData>.*</sheetData>", lambda _: f"<sheetData>{rows_xml}</sheetData>", sheet,
                   flags=re.S)
    return rezip(data, replace={member: re.sub(r"<dimension[^>]*/>", "", sheet).encode()})


def _openpyxl_cells(data: bytes) -> list:
    wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True, keep_links=False, keep_vba=False)
    try:
        return [excel._sheet_values(ws) for ws in wb.worksheets]
    finally:
        wb.close()


# Cells calamine would read otherwise than openpyxl, or could not read at all: each goes to openpyxl.
ODD_CELLS = {
    "a date before 1900 (a negative serial)": '<row r="1"><c r="A1" s="1"><v>-18201</v></c></row>',
    "a whole number of 17 digits": '<row r="1"><c r="A1"><v>12345678901234567</v></c></row>',
    "an error cell written with a namespace prefix": '<row r="1"><x:c r="A1" t="e" '
        'xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><x:v>#DIV/0!</x:v></x:c>'
        '<c r="B1"><v>7</v></c></row>',
    "an error cell with the type escaped": '<row r="1"><c r="A1" t="&#101;"><v>#N/A</v></c></row>',
    "a boolean that is neither 0 nor 1": '<row r="1"><c r="A1" t="b"><v>2</v></c></row>',
    "a cell whose reference is written otherwise": "<row r='1'><c r = 'A1'><v>3</v></c></row>",
    # calamine would hold a grid from A1 to XFD1048576 (17 billion cells) and abort the process
    "a cell at the last row and column": '<row r="1"><c r="A1"><v>1</v></c></row>'
        '<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>',
}


@pytest.mark.parametrize("rows_xml", list(ODD_CELLS.values()), ids=list(ODD_CELLS))
def test_cells_calamine_reads_otherwise_are_read_by_openpyxl(rows_xml):
    wb = openpyxl.Workbook()
    wb.active["A1"] = dt.date(2020, 1, 1)  # a date style (s="1") for the negative serial
    data = _with_sheet_data(_workbook_bytes(wb), rows_xml)
    assert read_spreadsheet(data, "x.xlsx").sheets[0].rows == _openpyxl_cells(data)[0]


def test_an_error_cell_in_a_sheet_stored_outside_xl_worksheets_is_seen():
    data = _with_sheet_data(startlan_bytes([]), '<row r="1"><c r="A1" t="e"><v>#N/A</v></c><c r="B1"><v>1</v></c></row>')
    package = zipfile.ZipFile(io.BytesIO(data))
    moved = {m: package.read(m) for m in package.namelist() if m != "xl/worksheets/sheet1.xml"}
    moved["xl/sheet1.xml"] = package.read("xl/worksheets/sheet1.xml")
    moved["xl/_rels/workbook.xml.rels"] = moved["xl/_rels/workbook.xml.rels"].replace(b"worksheets/sheet1.xml",
                                                                                      b"sheet1.xml")
    moved["[Content_Types].xml"] = moved["[Content_Types].xml"].replace(b"/xl/worksheets/sheet1.xml",
                                                                        b"/xl/sheet1.xml")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for member, content in moved.items():
            z.writestr(member, content)
    assert read_spreadsheet(out.getvalue(), "x.xlsx").sheets[0].rows == [["#N/A", 1]]


def test_a_sheet_part_in_utf16_is_read_whole():
    data = _with_sheet_data(startlan_bytes([]), '<row r="1"><c r="A1" t="inlineStr"><is><t>Kommune</t></is></c>'
                                                 '<c r="B1" t="e"><v>#N/A</v></c></row>')
    sheet = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml").decode()
    sheet = '<?xml version="1.0" encoding="UTF-16"?>' + sheet.split("?>", 1)[-1]
    data = rezip(data, replace={"xl/worksheets/sheet1.xml": sheet.encode("utf-16")})
    assert read_spreadsheet(data, "x.xlsx").sheets[0].rows == [["Kommune", "#N/A"]]


def test_in_a_read_once_block_the_second_read_of_a_file_takes_the_first_ones_cells(monkeypatch):
    reads = []
    reader = excel._read_spreadsheet
    monkeypatch.setattr(excel, "_read_spreadsheet", lambda data, name: reads.append(name) or reader(data, name))
    a, b = b"Kommunenummer;Aar\n0301;2019\n", b"Kommunenummer;Aar\n0301;2020\n"
    outside = [read_spreadsheet(a, "x.csv"), read_spreadsheet(a, "x.csv")]
    assert len(reads) == 2 and outside[0] is not outside[1]  # no keeping outside a block
    reads.clear()
    with excel.read_once():
        first, second = read_spreadsheet(a, "x.csv"), read_spreadsheet(a, "x.csv")
        assert second is first and reads == ["x.csv"]
        other = read_spreadsheet(b, "x.csv")  # same name, other bytes: a file of its own
        assert other.sheets[0].rows[1] == ["0301", "2020"] and len(reads) == 2
        renamed = read_spreadsheet(a, "y.csv")  # the name is in every error message: read under its own
        assert renamed is not first and renamed.name == "y.csv" and len(reads) == 3
        third = read_spreadsheet(a, "x.csv")  # the second read let it go
        assert third is not first and len(reads) == 4
    with pytest.raises(FileValidationError, match="the file is empty"), excel.read_once():
        read_spreadsheet(b" \n", "x.csv")


# --- csv and numbers ----------------------------------------------------------------------------------


def test_csv_cp1252_semicolon_decimal_comma():
    book = read_csv_bytes((FIXTURES / "husbanken" / "bostotte_cp1252.csv").read_bytes(), "x.csv")
    rows = book.sheets[0].rows
    assert rows[0][:4] == ["Kommunenummer", "Kommune", "År", "Måned"]
    assert rows[1][1] == "Bærum"
    assert parse_number(rows[1][6]) == (2912.35, None)


def test_csv_utf8_bom_comma_delimiter():
    data = "\ufeffKommunenummer,Kommune,År\n0301,Oslo,2019\n".encode("utf-8")
    rows = read_csv_bytes(data, "x.csv").sheets[0].rows
    assert rows == [["Kommunenummer", "Kommune", "År"], ["0301", "Oslo", "2019"]]


def test_decode_text_falls_back_to_cp1252_and_latin1():
    assert decode_text("Tromsø – «x»".encode("cp1252")) == "Tromsø – «x»"
    assert decode_text(b"\x81abc") == "\x81abc"  # undefined in cp1252: ISO-8859-1 decodes anything


@pytest.mark.parametrize("cell, expected", [
    (12, (12.0, None)), ("12 345,5", (12345.5, None)), ("12\u00a0345", (12345.0, None)),
    ("1.234,5", (1234.5, None)), ("3,5", (3.5, None)), ("3.5", (3.5, None)), ("", (None, None)),
    ("<4", (None, "<4")), (":", (None, ":")), ("..", (None, "..")), ("*", (None, "*")), ("-", (0.0, "-")),
    # digits only (the fast path) and its neighbours
    ("0471", (471.0, None)), (" 471 ", (471.0, None)), ("\u0664\u0667", (47.0, None)), ("+5", (5.0, None)),
    ("-5", (-5.0, None)), ("1e3", (1000.0, None)),
])
def test_parse_number(cell, expected):
    assert parse_number(cell) == expected


@pytest.mark.parametrize("cell", ["tolv", "12a", True, dt.date(2019, 1, 1), "1,2,3", "\u00b2", "4\u00b2"])
def test_parse_number_refuses_non_numbers(cell):
    with pytest.raises(ValueError):
        parse_number(cell)


def test_clean_label_tells_equal_values_of_other_types_apart():
    # the labels are cached by value and type: 1 == 1.0 == True, but each prints differently
    assert [clean_label(v) for v in (1.0, 1, True, "  Antall\u00a0 HUSSTANDER ", None)] == \
        ["1.0", "1", "true", "antall husstander", ""]


def test_deterministic_workbook_bytes(tmp_path):
    def build(path: Path) -> bytes:
        wb = openpyxl.Workbook(write_only=True)
        ws = wb.create_sheet("Ark")
        ws.append(["Kommunenummer", 1, 2.5])
        return write_workbook_deterministic(wb, path, dt.datetime(2026, 6, 15, 6, tzinfo=dt.timezone.utc)).read_bytes()

    first = build(tmp_path / "a.xlsx")
    assert build(tmp_path / "b.xlsx") == first
    assert b"2026-06-15T06:00:00Z" in zipfile.ZipFile(io.BytesIO(first)).read("docProps/core.xml")
