"""Husbanken exports: inbox → landing → validation → raw, with provenance, rejection and supersession."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import duckdb
import pytest

from orchestration.ingest import landing
from tools.demo_data import husbanken_files
from orchestration.ingest.files import husbanken
from repo_paths import FIXTURES as FIXTURE_ROOT
from repo_paths import differs_from_committed_demo
from spreadsheets import drop_file, xlsx_bytes

FIXTURES = FIXTURE_ROOT / "files"
HEADER = ["Kommunenummer", "Kommune", "År", "Formål", "Antall husstander", "Herav barnefamilier"]
GOOD_2019 = [
    ["0301", "Oslo", 2019, "Kjøp av bolig", 500, 300],
    [301, "Oslo", 2019, "Refinansiering", 40, "<4"],  # Excel lost the leading zero; a suppressed cell
    ["1101", "Eigersund", 2019, "Kjøp av bolig", 12, 7],
    [None, "Totalt", None, None, 552, 307],  # the export's total row
]


def xlsx(rows: list[list], header: list = HEADER, title: str = "Startlån") -> bytes:
    return xlsx_bytes(header, rows, title)


def drop(inbox: Path, name: str, data: bytes) -> Path:
    return drop_file(inbox, "husbanken", name, data)


def rows(con, sql: str) -> list[tuple]:
    return con.execute(sql).fetchall()


def test_good_file_loads_with_provenance(env):
    con, inbox, landing_root = env
    data = xlsx(GOOD_2019)
    drop(inbox, "startlan_2019.xlsx", data)

    report = husbanken.import_inbox(con, inbox, landing_root)

    assert report.ok and len(report.loaded) == 1 and report.loaded[0].rows == 6
    got = con.execute("""
        select municipality_code, period, grain, instrument, measure, value, status_symbol, source_file, sheet,
               row_number, checksum, landed_path, received_at, synthetic
        from raw.husbanken_instruments order by row_number, measure""").fetchall()
    assert [g[:7] for g in got] == [
        ("0301", "2019", "year", "startlan", "households_purchase", 500.0, None),
        ("0301", "2019", "year", "startlan", "households_with_children_purchase", 300.0, None),
        ("0301", "2019", "year", "startlan", "households_refinancing", 40.0, None),
        ("0301", "2019", "year", "startlan", "households_with_children_refinancing", None, "<4"),
        ("1101", "2019", "year", "startlan", "households_purchase", 12.0, None),
        ("1101", "2019", "year", "startlan", "households_with_children_purchase", 7.0, None),
    ]
    source_file, sheet, row_number, checksum, landed_path, received_at, synthetic = got[4][7:]
    assert (source_file, sheet, row_number, synthetic) == ("startlan_2019.xlsx", "Startlån", 4, False)
    assert checksum == hashlib.sha256(data).hexdigest()
    assert Path(landed_path).read_bytes() == data
    assert received_at is not None
    log = rows(con, "select status, rows_loaded, original_name, checksum from raw.load_log")
    assert log == [("loaded", 6, "startlan_2019.xlsx", checksum)]


def test_same_file_twice_is_loaded_once(env):
    con, inbox, landing_root = env
    data = xlsx(GOOD_2019)
    drop(inbox, "startlan_2019.xlsx", data)
    husbanken.import_inbox(con, inbox, landing_root)
    again = husbanken.import_inbox(con, inbox, landing_root)  # still in the inbox
    drop(inbox, "kopi_av_startlan_2019.xlsx", data)  # same bytes, another name
    third = husbanken.import_inbox(con, inbox, landing_root)

    assert not again.loaded and [o.status for o in again.skipped] == ["skipped"]
    assert not third.loaded and len(third.skipped) == 2
    assert rows(con, "select count(*) from raw.husbanken_instruments") == [(6,)]
    assert rows(con, "select status, count(*) from raw.load_log group by 1") == [("loaded", 1)]
    assert len(landing.landed_files("husbanken", root=landing_root)) == 2  # the copy is landed, not loaded


def test_corrected_file_supersedes_and_history_is_kept(env):
    con, inbox, landing_root = env
    first = [["0301", "Oslo", 2018, "Kjøp av bolig", 480, 280]] + GOOD_2019[:3]
    drop(inbox, "startlan_2018-2019.xlsx", xlsx(first))
    husbanken.import_inbox(con, inbox, landing_root)

    corrected = [["0301", "Oslo", 2019, "Kjøp av bolig", 510, 305], ["1101", "Eigersund", 2019, "Kjøp av bolig", 12, 7]]
    drop(inbox, "startlan_2019_korrigert.xlsx", xlsx(corrected))
    report = husbanken.import_inbox(con, inbox, landing_root)

    assert [o.file for o in report.loaded] == ["husbanken/startlan_2019_korrigert.xlsx"]
    current = rows(con, """select period, municipality_code, measure, value, source_file
                           from raw.husbanken_instruments_current order by 1, 2, 3""")
    assert current == [
        ("2018", "0301", "households_purchase", 480.0, "startlan_2018-2019.xlsx"),  # not covered: stays
        ("2018", "0301", "households_with_children_purchase", 280.0, "startlan_2018-2019.xlsx"),
        ("2019", "0301", "households_purchase", 510.0, "startlan_2019_korrigert.xlsx"),
        ("2019", "0301", "households_with_children_purchase", 305.0, "startlan_2019_korrigert.xlsx"),
        ("2019", "1101", "households_purchase", 12.0, "startlan_2019_korrigert.xlsx"),
        ("2019", "1101", "households_with_children_purchase", 7.0, "startlan_2019_korrigert.xlsx"),
    ]  # the 2019 refinancing rows of the first file are gone from the current data: the correction replaced 2019
    assert rows(con, "select count(*) from raw.husbanken_instruments") == [(12,)]  # history: all received rows
    assert not report.superseded  # the first file still provides 2018

    full = [["0301", "Oslo", 2018, "Kjøp av bolig", 481, 280]] + corrected
    drop(inbox, "startlan_2018-2019_v3.xlsx", xlsx(full))
    report = husbanken.import_inbox(con, inbox, landing_root)
    assert sorted(o.file for o in report.superseded) == ["husbanken/startlan_2018-2019.xlsx",
                                                          "husbanken/startlan_2019_korrigert.xlsx"]
    log = rows(con, "select original_name, status from raw.load_log where status = 'superseded' order by 1")
    assert log == [("startlan_2018-2019.xlsx", "superseded"), ("startlan_2019_korrigert.xlsx", "superseded")]
    assert rows(con, "select distinct source_file from raw.husbanken_instruments_current") == [
        ("startlan_2018-2019_v3.xlsx",)]
    assert rows(con, "select count(*) from raw.husbanken_instruments") == [(18,)]


BAD_FILES = {
    "unknown column": (
        HEADER + ["Gjennomsnittsalder"], GOOD_2019[0] + [41],
        'row 1, column "Gjennomsnittsalder": unknown column for Startlån'),
    "missing column": (
        ["Kommunenummer", "Kommune", "År", "Antall husstander"], ["0301", "Oslo", 2019, 500],
        'row 1, column "Herav barnefamilier": missing column'),
    "bad municipality code": (
        HEADER, ["03O1", "Oslo", 2019, "Kjøp av bolig", 500, 300],
        'row 2, column "Kommunenummer": \'03O1\' is not a municipality code'),
    "county code": (
        HEADER, ["0300", "Oslo", 2019, "Kjøp av bolig", 500, 300],
        'row 2, column "Kommunenummer": \'0300\' is not a municipality code'),
    "duplicate row": (
        HEADER, ["0301", "Oslo", 2019, "Kjøp av bolig", 510, 300],
        'row 5, column "Kommunenummer": duplicate row: municipality 0301, period 2019, startlan '
        "households_purchase already in row 2"),
    "non-numeric cell": (
        HEADER, ["1103", "Stavanger", 2019, "Kjøp av bolig", "tolv", 3],
        'row 5, column "Antall husstander": \'tolv\' is not a number'),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_bad_file_is_rejected_naming_file_row_and_column(env, case):
    con, inbox, landing_root = env
    drop(inbox, "startlan_2018.xlsx", xlsx([["0301", "Oslo", 2018, "Kjøp av bolig", 480, 280]]))
    husbanken.import_inbox(con, inbox, landing_root)
    before = rows(con, "select * from raw.husbanken_instruments order by all")

    header, extra_row, expected = BAD_FILES[case]
    body = [extra_row] if header != HEADER else GOOD_2019[:3] + [extra_row]
    if case in ("bad municipality code", "county code"):
        body = [extra_row] + GOOD_2019[2:3]
    drop(inbox, "startlan_2019.xlsx", xlsx(body, header=header))
    report = husbanken.import_inbox(con, inbox, landing_root)

    assert not report.loaded and [o.file for o in report.rejected] == ["husbanken/startlan_2019.xlsx"]
    assert any(m.startswith(f"husbanken/startlan_2019.xlsx: {expected}") for m in report.rejected[0].messages)
    landed = {f.original_name: f for f in landing.landed_files("husbanken", root=landing_root)}
    assert landed["startlan_2019.xlsx"].status == "rejected" and expected in landed["startlan_2019.xlsx"].reason
    assert json.loads(landed["startlan_2019.xlsx"].meta_path.read_text())["status"] == "rejected"
    log = rows(con, "select status, message from raw.load_log where original_name = 'startlan_2019.xlsx'")
    assert log[0][0] == "rejected" and expected in log[0][1]
    assert rows(con, "select * from raw.husbanken_instruments order by all") == before  # earlier data untouched

    again = husbanken.import_inbox(con, inbox, landing_root)  # dropped again unchanged: rejected, not re-logged
    assert again.rejected[0].messages[0].startswith("rejected earlier:")
    assert rows(con, "select count(*) from raw.load_log where status = 'rejected'") == [(1,)]
    # a run says it once: the counts to its log, the rejection as a warning naming file, row and column
    said, warned = [], []
    again.log_to(said.append, warned.append)
    assert len(said) == 1 and said[0].startswith("husbanken: 0 loaded (0 rows), ") and ", 1 rejected, " in said[0]
    assert len(warned) == 1 and warned[0].startswith("rejected husbanken/startlan_2019.xlsx: rejected earlier:")
    assert expected in warned[0]


def test_code_not_valid_in_the_period(env):
    con, inbox, landing_root = env
    drop(inbox, "startlan_2019.xlsx", xlsx([["5001", "Trondheim", 2016, "Kjøp av bolig", 100, 60]]))
    report = husbanken.import_inbox(con, inbox, landing_root,
                                    valid_codes=lambda year: {"1601"} if year < 2018 else {"5001"})
    assert report.messages == ['husbanken/startlan_2019.xlsx: row 2, column "Kommunenummer": '
                               "'5001' is not a municipality code valid in 2016"]


def test_unknown_instrument_is_rejected(env):
    con, inbox, landing_root = env
    drop(inbox, "eksport.xlsx", xlsx(GOOD_2019, title="Ark1"))
    report = husbanken.import_inbox(con, inbox, landing_root)
    assert "cannot tell the instrument" in report.messages[0]


def test_instrument_column_decides_per_row(env):
    con, inbox, landing_root = env
    header = ["Virkemiddel", "Kommunenummer", "Kommune", "År", "Antall husstander", "Herav barnefamilier"]
    body = [["Startlån", "0301", "Oslo", 2019, 540, 310], ["Tilskudd til etablering", "0301", "Oslo", 2019, 120, 70]]
    drop(inbox, "eksport.xlsx", xlsx(body, header=header, title="Ark1"))
    report = husbanken.import_inbox(con, inbox, landing_root)
    assert report.ok, report.messages
    assert rows(con, "select instrument, measure, value from raw.husbanken_instruments order by all") == [
        ("etableringstilskudd", "households", 120.0), ("etableringstilskudd", "households_with_children", 70.0),
        ("startlan", "households", 540.0), ("startlan", "households_with_children", 310.0)]


def test_monthly_csv_cp1252(env):
    con, inbox, landing_root = env
    drop(inbox, "statlig_bostotte_2020.csv", (FIXTURES / "husbanken" / "bostotte_cp1252.csv").read_bytes())
    report = husbanken.import_inbox(con, inbox, landing_root)
    assert report.ok, report.messages
    got = rows(con, """select municipality_code, municipality_name, period, grain, measure, value, status_symbol,
                              sheet, row_number, synthetic
                       from raw.husbanken_instruments where measure <> 'avg_amount_nok' order by row_number, measure""")
    assert got[:3] == [
        ("3024", "Bærum", "2020-03", "month", "households", 1204.0, None, None, 2, False),
        ("3024", "Bærum", "2020-03", "month", "households_with_children", 361.0, None, None, 2, False),
        ("3024", "Bærum", "2020-04", "month", "households", 1198.0, None, None, 3, False),
    ]
    assert ("0301", "Oslo", "2020-03", "month", "households", 15321.0, None, None, 4, False) in got
    assert rows(con, "select value from raw.husbanken_instruments where measure = 'avg_amount_nok' and row_number = 3") \
        == [(2901.10,)]


# --- the demo files ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def world(demo_world):
    return demo_world


@pytest.fixture(scope="module")
def demo_inbox(world, tmp_path_factory):
    out = tmp_path_factory.mktemp("demo") / "inbox"
    return out, husbanken_files.write(world, out)


def test_demo_files_are_deterministic(demo_inbox):
    out, written = demo_inbox
    assert len(written) == 6 and differs_from_committed_demo(written, out) == []


def test_demo_files_import_end_to_end(world, demo_inbox, tmp_path, monkeypatch):
    from orchestration.ingest.files import excel

    inbox, paths = demo_inbox
    reads = []
    reader = excel._read_spreadsheet
    monkeypatch.setattr(excel, "_read_spreadsheet", lambda data, name: reads.append(name) or reader(data, name))
    con = duckdb.connect(str(tmp_path / "build.duckdb"))
    report = husbanken.import_inbox(con, inbox, tmp_path / "landing")
    assert report.ok, report.messages
    # screened for personal data, then validated: each file read once (excel.read_once)
    assert sorted(reads) == sorted(f"husbanken/{p.name}" for p in paths)
    assert len(report.loaded) == len(paths) == 6 and all(o.synthetic for o in report.loaded)
    assert rows(con, "select bool_and(synthetic), count(distinct instrument) from raw.husbanken_instruments") == \
        [(True, 6)]
    assert rows(con, "select bool_and(synthetic) from raw.load_log") == [(True,)]

    startlan = dict(rows(con, """select year, sum(value) from raw.husbanken_instruments_current
        where instrument = 'startlan' and measure in ('households_purchase', 'households_refinancing')
        group by 1"""))
    # the world's totals are 8 800 (2014) and 6 905 (2017); the export hides counts under 4
    assert 7900 <= startlan[2014] <= 8800 and 6100 <= startlan[2017] <= 6905
    children = rows(con, """select sum(value) filter (where measure like 'households_with_children%')
        / sum(value) filter (where measure in ('households_purchase', 'households_refinancing'))
        from raw.husbanken_instruments_current where instrument = 'startlan' and year = 2019""")[0][0]
    assert 0.55 <= children <= 0.65
    assert rows(con, "select count(*) from raw.husbanken_instruments where status_symbol = '<4'")[0][0] > 1000
    tilvisning = rows(con, """select sum(value), count(distinct municipality_code) from raw.husbanken_instruments
        where instrument = 'tilvisningsavtaler' and measure = 'dwellings' and year = 2019""")[0]
    assert 440 <= tilvisning[0] <= 530 and tilvisning[1] <= 25
    assert rows(con, "select min(year) from raw.husbanken_instruments where instrument = 'tilvisningsavtaler'") == \
        [(2013,)]

    confused = husbanken_files.confused_bostotte_municipalities(world)
    assert len(confused) == 3
    yearly = husbanken_files.statlig_bostotte_yearly(world)
    got = dict(rows(con, f"""select municipality_code, avg(value) from raw.husbanken_instruments
        where instrument = 'bostotte' and measure = 'households' and year = 2019
          and municipality_code in ({', '.join(repr(c) for c in confused)}) group by 1"""))
    for code in confused:
        assert got[code] == pytest.approx(yearly.loc[code, 2019], abs=1)
        assert world.figures["municipal_housing_allowance_households"].loc[code, 2019] > 0


def _fnr(n: int) -> str:
    from orchestration.ingest.files.personal_data import with_check_digits

    return next(v for v in (with_check_digits(f"0101{80 + n:02d}{k:03d}") for k in range(100, 200)) if v)


@pytest.mark.parametrize("header_label, value_of", [
    ("Fødselsnummer", lambda n: f"{n:011d}"),  # named like an identity number: refused whatever its values
    ("Søker", _fnr),                           # an innocent name, but every cell a valid (synthetic) number
])
def test_personal_data_in_a_husbanken_file_is_refused_at_the_door_and_stored_nowhere(env, header_label, value_of):
    """Every file source, not only the dwelling registers: not landed, not loaded, the load log keeps name,
    checksum and the column at fault (no value), and a dropped file leaves the data team's inbox too."""
    from orchestration.ingest.files.inbox import NOT_STORED

    con, inbox, landing_root = env
    body = [row + [value_of(n)] for n, row in enumerate(GOOD_2019[:3])]
    path = drop(inbox, "startlan_2019_med_fnr.xlsx", xlsx(body, header=HEADER + [header_label]))
    report = husbanken.import_inbox(con, inbox, landing_root)
    [refused] = report.rejected
    assert refused.landed_path == NOT_STORED and not report.loaded
    assert 'column 7' in refused.messages[0] and "personal data is refused, nothing of the file is stored" in \
        refused.messages[0]
    assert not list(landing_root.rglob("*med_fnr*")), "nothing of the file is landed"
    assert rows(con, "select count(*) from raw.husbanken_instruments") == [(0,)]
    [(status, message)] = rows(con, "select status, message from raw.load_log "
                                    "where original_name = 'startlan_2019_med_fnr.xlsx'")
    assert status == "refused" and value_of(1) not in message
    again = husbanken.import_inbox(con, inbox, landing_root)  # dropped again: refused, not logged twice
    assert again.rejected[0].messages[0].startswith("refused earlier:")
    assert rows(con, "select count(*) from raw.load_log where status = 'refused'") == [(1,)]
    assert path.exists()  # import_inbox leaves the inbox to its caller, which deletes it (below)


def test_amounts_that_pass_the_check_digits_now_and_then_are_not_taken_for_identity_numbers(env):
    """A column of kroner amounts with one 11-digit value that happens to be a valid number: a share of the
    column, not one cell, refuses a file (config/personal_data.yaml id_value_share)."""
    con, inbox, landing_root = env
    amounts = [12_000_000_000 + 7_919 * n for n in range(40)] + [int(_fnr(3))]
    body = [["0301", "Oslo", 2019, "Kjøp av bolig", 500 + n, 300] for n in range(len(amounts))]
    from orchestration.ingest.files import personal_data
    from orchestration.ingest.files.excel import read_spreadsheet
    from orchestration.ingest.files.inbox import data_sheets

    data = xlsx([b + [a] for b, a in zip(body, amounts)], header=HEADER + ["Beløp (kr)"])
    book = read_spreadsheet(data, "husbanken/x.xlsx")
    assert personal_data.screen_cells(data_sheets(book), "husbanken/x.xlsx", False) == []
