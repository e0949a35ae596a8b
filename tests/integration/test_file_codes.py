"""Municipality codes in received files are checked against KLASS (issue 13), in every importer."""

from __future__ import annotations

import duckdb

from orchestration.ingest.files import codes, husbanken, kmd_survey
from spreadsheets import drop_file, xlsx_bytes

HEADER = ["Kommunenummer", "Kommune", "År", "Formål", "Antall husstander", "Herav barnefamilier"]
GOOD = [
    ["0301", "Oslo", 2019, "Kjøp av bolig", 500, 300],
    ["1101", "Eigersund", 2019, "Kjøp av bolig", 12, 7],
]


def rows(con, sql):
    return con.execute(sql).fetchall()


def test_one_digit_typo_is_rejected_and_the_good_rows_stay_current(env):
    con, inbox, landing_root = env
    drop_file(inbox, "husbanken", "startlan_2019.xlsx", xlsx_bytes(HEADER, GOOD, "Startlån"))
    assert husbanken.import_inbox(con, inbox, landing_root).ok
    before = rows(con, "select * from raw.husbanken_instruments_current order by all")

    typo = [["0302", "Oslo", 2019, "Kjøp av bolig", 510, 305], GOOD[1]]  # 0302 for 0301: same instrument, year
    drop_file(inbox, "husbanken", "startlan_2019_v2.xlsx", xlsx_bytes(HEADER, typo, "Startlån"))
    report = husbanken.import_inbox(con, inbox, landing_root)

    assert not report.loaded and len(report.rejected) == 1
    message = report.rejected[0].messages[0]
    assert message.startswith('husbanken/startlan_2019_v2.xlsx: row 2, column "Kommunenummer": '
                              "'0302' is not a municipality code valid in 2019; nearest valid codes: 0301 Oslo")
    assert rows(con, "select * from raw.husbanken_instruments_current order by all") == before
    assert rows(con, "select distinct source_file from raw.husbanken_instruments_current") == [("startlan_2019.xlsx",)]


def test_predecessor_code_is_accepted_and_a_code_of_no_period_is_not(env):
    con, inbox, landing_root = env
    # 1102 Sandnes ended 2020-01-01 (merged into 1108): fine for 2019, and in 2021 a known predecessor.
    ok = [["1102", "Sandnes", 2019, "Kjøp av bolig", 50, 20], ["1102", "Sandnes", 2021, "Kjøp av bolig", 55, 21]]
    drop_file(inbox, "husbanken", "startlan_sandnes.xlsx", xlsx_bytes(HEADER, ok, "Startlån"))
    assert husbanken.import_inbox(con, inbox, landing_root).ok
    checker = codes.from_reference()
    assert checker.problem("1108", 2019) is None  # the successor, as exports back-date the current structure
    assert checker.problem("1108", 2020) is None and checker.problem("1102", 2019) is None
    assert checker.problem("1109", 2019).endswith("nearest valid codes: 1106 Haugesund, 1103 Stavanger, 1102 Sandnes")


def test_csv_saved_by_excel_with_301_for_oslo_is_padded(env):
    con, inbox, landing_root = env
    text = "Kommunenummer;Kommune;År;Formål;Antall husstander;Herav barnefamilier\r\n" \
           "301;Oslo;2019;Kjøp av bolig;500;300\r\n"
    drop_file(inbox, "husbanken", "startlan_2019.csv", text.encode("cp1252"))
    report = husbanken.import_inbox(con, inbox, landing_root)
    assert report.ok, report.messages
    assert rows(con, "select distinct municipality_code from raw.husbanken_instruments") == [("0301",)]


def test_oslo_districts_are_kept_in_husbanken_and_refused_elsewhere(env):
    con, inbox, landing_root = env
    districts = [["0301", "Oslo", 2019, "Kjøp av bolig", 500, 300],
                 ["0311", "Gamle Oslo", 2019, "Kjøp av bolig", 40, 20],
                 ["030102", "Grünerløkka", 2019, "Kjøp av bolig", 30, 10]]
    drop_file(inbox, "husbanken", "startlan_2019.xlsx", xlsx_bytes(HEADER, districts, "Startlån"))
    assert husbanken.import_inbox(con, inbox, landing_root).ok
    assert rows(con, "select distinct municipality_code from raw.husbanken_instruments order by 1") == [
        ("0301",), ("030102",), ("0311",)]
    assert "Oslo city district (Gamle Oslo); report Oslo as 0301" in codes.from_reference().problem("0311", 2019)


def test_superseding_file_that_drops_a_municipality_says_so(env):
    con, inbox, landing_root = env
    drop_file(inbox, "husbanken", "startlan_2019.xlsx", xlsx_bytes(HEADER, GOOD, "Startlån"))
    husbanken.import_inbox(con, inbox, landing_root)
    smaller = [GOOD[0], ["1103", "Stavanger", 2019, "Kjøp av bolig", 80, 30]]
    drop_file(inbox, "husbanken", "startlan_2019_ny.xlsx", xlsx_bytes(HEADER, smaller, "Startlån"))
    report = husbanken.import_inbox(con, inbox, landing_root)
    assert report.ok and len(report.loaded) == 1
    expected = ("coverage changed: this file drops 1 municipalities the replaced file had (1101) and adds 1 "
                "municipalities the replaced file did not have (1103)")
    assert report.loaded[0].messages == [expected]
    assert rows(con, "select message from raw.load_log where original_name = 'startlan_2019_ny.xlsx'") == [(expected,)]


def test_kmd_survey_checks_codes_against_klass(env):
    con, inbox, landing_root = env
    config = kmd_survey.load_config()
    header = [labels[0] for f, labels in config["columns"].items() if f not in config["optional_columns"]]
    header += [labels[0] for labels in config["measures"].values()]
    row = {"municipality_code": "0302"}
    body = [[row.get(f, "Ja" if f == "answered" else 2019 if f == "year" else "x")
             for f in config["columns"] if f not in config["optional_columns"]] + [1] * len(config["measures"])]
    drop_file(inbox, "kmd_survey", "kmd.xlsx", xlsx_bytes(header, body, "Svar"))
    report = kmd_survey.import_inbox(con, inbox, landing_root)
    assert not report.ok
    assert any("'0302' is not a municipality code valid in" in m and "0301 Oslo" in m for m in report.messages)


def test_codes_come_from_the_warehouse_when_klass_is_loaded(tmp_path):
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    con.execute("create schema raw")
    con.execute("create table raw.klass_municipality_codes as select '0301' code, 'Oslo' name, "
                "null::date valid_from, null::date valid_to")
    con.execute("create table raw.klass_changes (old_code varchar, old_name varchar, new_code varchar, "
                "new_name varchar, change_occurred varchar)")
    checker = codes.for_connection(con)
    assert checker.problem("0301", 2019) is None
    assert checker.problem("1101", 2019).endswith("nearest valid codes: 0301 Oslo")


def test_coverage_change_is_a_quality_finding_until_the_file_is_replaced(env):
    from orchestration.quality import file_findings, store
    from orchestration.quality.config import load_quality_config

    con, inbox, landing_root = env
    drop_file(inbox, "husbanken", "startlan_2019.xlsx", xlsx_bytes(HEADER, GOOD, "Startlån"))
    husbanken.import_inbox(con, inbox, landing_root)
    drop_file(inbox, "husbanken", "startlan_2019_ny.xlsx", xlsx_bytes(HEADER, GOOD[:1], "Startlån"))
    husbanken.import_inbox(con, inbox, landing_root)

    found = file_findings.record(con, "run-1")
    entries = store.merge_findings(con, "run-1", load_quality_config(), {})
    assert [f["message"] for f in found] == [
        "husbanken/startlan_2019_ny.xlsx replaced earlier rows and its coverage changed: this file drops 1 "
        "municipalities the replaced file had (1101)"]
    assert len(entries.new) == 1 and entries.new.iloc[0]["kind"] == "file_coverage_changed"

    corrected = [["0301", "Oslo", 2019, "Kjøp av bolig", 501, 300]]
    drop_file(inbox, "husbanken", "startlan_2019_v3.xlsx", xlsx_bytes(HEADER, corrected, "Startlån"))
    husbanken.import_inbox(con, inbox, landing_root)  # same municipalities as the file it replaces
    assert file_findings.record(con, "run-2") == []
    entries = store.merge_findings(con, "run-2", load_quality_config(), {})
    assert len(entries.resolved) == 1


def test_a_rejected_or_refused_file_is_a_finding_until_its_corrected_export_loads(env):
    """The working group hears of a file none of whose figures reached the warehouse (the run still publishes):
    named with its reasons, once however often it is dropped again, settled by the corrected export."""
    from orchestration.quality import file_findings, store
    from orchestration.quality.config import load_quality_config

    con, inbox, landing_root = env
    typo = [["0302", "Oslo", 2019, "Kjøp av bolig", 510, 305], GOOD[1]]
    drop_file(inbox, "husbanken", "startlan_2019.xlsx", xlsx_bytes(HEADER, typo, "Startlån"))
    assert husbanken.import_inbox(con, inbox, landing_root).rejected
    fnr = "01018012345"
    drop_file(inbox, "husbanken", "startlan_2020_fnr.xlsx",
              xlsx_bytes(HEADER + ["Fødselsnummer"], [[*GOOD[0][:2], 2020, *GOOD[0][3:], fnr]], "Startlån"))
    husbanken.import_inbox(con, inbox, landing_root)  # both files still in the inbox: rejected, refused again

    found = file_findings.record(con, "run-1")
    entries = store.merge_findings(con, "run-1", load_quality_config(), {})
    assert [(f["kind"], f["municipality_code"], f["measure"].split("#")[0]) for f in found] == [
        ("file_rejected", "0000", "husbanken/startlan_2019.xlsx"),
        ("file_rejected", "0000", "husbanken/startlan_2020_fnr.xlsx")]
    rejected, refused = (f["message"] for f in found)
    assert rejected.startswith("husbanken/startlan_2019.xlsx was rejected, none of its figures are in the "
                               "warehouse: row 2, column \"Kommunenummer\": '0302' is "
                               "not a municipality code valid in 2019"), rejected
    assert refused.startswith("husbanken/startlan_2020_fnr.xlsx was refused (personal data), none of its figures")
    assert "Fødselsnummer" in refused and fnr not in refused
    assert sorted(entries.new["kind"]) == ["file_rejected", "file_rejected"]
    checks = dict(con.execute("select check_name, passed from quality.check_results where run_id = 'run-1'")
                  .fetchall())
    assert checks == {"files_loaded_or_replaced": False, "files_coverage_unchanged": True}

    # the corrected export, its name extended, settles the first; a file whose name the refused one's extends
    # (startlan_2020.xlsx) does not settle it
    drop_file(inbox, "husbanken", "startlan_2019_rettet.xlsx", xlsx_bytes(HEADER, GOOD, "Startlån"))
    drop_file(inbox, "husbanken", "startlan_2020.xlsx",
              xlsx_bytes(HEADER, [[*GOOD[0][:2], 2020, *GOOD[0][3:]]], "Startlån"))
    assert len(husbanken.import_inbox(con, inbox, landing_root).loaded) == 2
    assert [f["measure"].split("#")[0] for f in file_findings.record(con, "run-2")] == \
        ["husbanken/startlan_2020_fnr.xlsx"]
    entries = store.merge_findings(con, "run-2", load_quality_config(), {})
    assert list(entries.resolved["measure"].str.split("#").str[0]) == ["husbanken/startlan_2019.xlsx"]
    assert entries.new.empty
