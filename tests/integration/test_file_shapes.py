"""Files as people and exports really make them (issue 13): title rows, totals anywhere, damaged and
empty files, and text that is not data."""

from __future__ import annotations

import io

import openpyxl
import pytest

from orchestration.ingest.files import husbanken, kmd_survey
from spreadsheets import drop_file, xlsx_bytes

HEADER = ["Kommunenummer", "Kommune", "År", "Formål", "Antall husstander", "Herav barnefamilier"]
GOOD = [["0301", "Oslo", 2019, "Kjøp av bolig", 500, 300], ["1101", "Eigersund", 2019, "Kjøp av bolig", 12, 7]]


def workbook(rows: list[list], title: str = "Startlån") -> bytes:
    """Rows as typed, from A1: a title or a note row comes first, the way exports with a title are."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = title
    for row in rows:
        ws.append(row)
    for row in ws.iter_rows():
        for cell in row:
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"  # typed text that looks like a formula, as a cell formatted as text holds
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def load(env, name: str, data: bytes, source: str = "husbanken", module=husbanken):
    con, inbox, landing_root = env
    drop_file(inbox, source, name, data)
    return module.import_inbox(con, inbox, landing_root)


def test_title_rows_above_the_header_are_skipped_and_said(env):
    rows = [["Startlån 2019 – utbetalt per kommune"], ["Kilde: Husbanken, uttrekk 03.02.2020"], [],
            HEADER, *GOOD, ["Totalt", None, None, None, 512, 307]]  # the label where the code would be
    report = load(env, "startlan_2019.xlsx", workbook(rows))
    assert report.ok, report.messages
    assert report.loaded[0].rows == 4
    assert report.loaded[0].messages == [
        "sheet 'Startlån': header found in row 4 (2 title/note row(s) above it skipped)",
        "sheet 'Startlån': 1 total row(s) skipped"]
    con = env[0]
    assert con.execute("select min(row_number), max(row_number) from raw.husbanken_instruments").fetchone() == (5, 6)
    assert "header found in row 4" in con.execute("select message from raw.load_log").fetchone()[0]


def test_total_row_in_the_name_column_of_a_csv(env):
    text = ("Kommunenummer;Kommune;År;Formål;Antall husstander;Herav barnefamilier\r\n"
            "0301;Oslo;2019;Kjøp av bolig;500;300\r\n;Hele landet;2019;;500;300\r\n")
    report = load(env, "startlan_2019.csv", text.encode("cp1252"))
    assert report.ok and report.loaded[0].messages == ["1 total row(s) skipped"]


def kmd_rows(code_cells: list) -> list[list]:
    config = kmd_survey.load_config()
    header = ["Kommunenummer", "Kommunenavn", "Besvart"] + [labels[0] for labels in config["measures"].values()]
    body = [[code, name, "Ja", 1, 2, 3, 4] for code, name in code_cells]
    return [["KMD kartlegging 2017 (SYNTETISK TEST)"], header, *body]


def test_kmd_survey_title_row_and_total_row(env):
    rows = kmd_rows([("0301", "Oslo"), ("1101", "Eigersund"), ("Totalt", None)])
    report = load(env, "kmd_2017.xlsx", workbook(rows, "Svar"), "kmd_survey", kmd_survey)
    assert report.ok, report.messages
    assert report.loaded[0].messages == ["header found in row 2 (1 title/note row(s) above it skipped)",
                                         "1 total row(s) skipped"]
    assert env[0].execute("select distinct municipality_code from raw.kmd_survey order by 1").fetchall() == [
        ("0301",), ("1101",)]


def test_empty_file_says_so(env):
    report = load(env, "startlan_2019.csv", b"")
    assert report.messages == ["husbanken/startlan_2019.csv: the file is empty"]


def test_file_cut_short_in_copying_says_send_it_again(env):
    data = xlsx_bytes(HEADER, GOOD, "Startlån")
    report = load(env, "startlan_2019.xlsx", data[: len(data) // 2])
    assert len(report.messages) == 1
    assert report.messages[0].startswith("husbanken/startlan_2019.xlsx: the file is damaged or was not copied "
                                         "completely: send it again")


@pytest.mark.parametrize("bad_cell, expected", [
    ("Os\x00lo", 'row 3, column "Kommune": contains the control character U+0000'),
    ("Oslo\x1b[2J", 'row 3, column "Kommune": contains the control character U+001B'),
    ('=HYPERLINK("http://example.invalid","Oslo")', 'row 3, column "Kommune": \'=HYPERLINK('),
    ("@SUM(1+1)", 'row 3, column "Kommune": \'@SUM(1+1)\' looks like a spreadsheet formula'),
])
def test_control_characters_and_formula_text_are_refused(env, bad_cell, expected):
    text = ("Kommunenummer;Kommune;År;Formål;Antall husstander;Herav barnefamilier\r\n"
            "1101;Eigersund;2019;Kjøp av bolig;12;7\r\n"
            f"0301;{bad_cell};2019;Kjøp av bolig;500;300\r\n")
    report = load(env, "startlan_2019.csv", text.encode("utf-8"))
    assert not report.loaded
    assert any(m.startswith(f"husbanken/startlan_2019.csv: {expected}") for m in report.messages), report.messages
    assert env[0].execute("select count(*) from raw.husbanken_instruments").fetchone() == (0,)


def test_kmd_survey_formula_in_the_name_column_is_refused(env):
    rows = kmd_rows([("0301", "=1+1"), ("1101", "Eigersund")])
    report = load(env, "kmd_2017.xlsx", workbook(rows, "Svar"), "kmd_survey", kmd_survey)
    assert any('row 3, column "Kommunenavn": \'=1+1\' looks like a spreadsheet formula' in m
               for m in report.messages), report.messages
