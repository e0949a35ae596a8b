"""Oslo's city districts from Husbanken: kept in raw, summed into 0301 only where Oslo's own row is missing."""

from __future__ import annotations

import duckdb
import pytest

from orchestration.ingest.files import husbanken
from repo_paths import REPO_ROOT
from spreadsheets import drop_file, xlsx_bytes

DBT_DIR = REPO_ROOT / "dbt_project"
HEADER = ["Kommunenummer", "Kommune", "År", "Formål", "Antall husstander", "Herav barnefamilier"]


def test_districts_are_summed_into_oslo_and_never_counted_twice(tmp_path, monkeypatch):
    from dbt.cli.main import dbtRunner

    db = tmp_path / "build.duckdb"
    con = duckdb.connect(str(db))
    rows_2019 = [["0311", "Gamle Oslo", 2019, "Kjøp av bolig", 40, 20],
                 ["0312", "Grünerløkka", 2019, "Kjøp av bolig", 30, "<4"],
                 ["1101", "Eigersund", 2019, "Kjøp av bolig", 12, 7]]
    rows_2020 = [["0301", "Oslo", 2020, "Kjøp av bolig", 500, 300],   # Oslo's own row wins over its districts
                 ["030101", "Gamle Oslo", 2020, "Kjøp av bolig", 40, 20]]
    drop_file(tmp_path / "inbox", "husbanken", "startlan_2019.xlsx", xlsx_bytes(HEADER, rows_2019, "Startlån"))
    drop_file(tmp_path / "inbox", "husbanken", "startlan_2020.xlsx", xlsx_bytes(HEADER, rows_2020, "Startlån"))
    report = husbanken.import_inbox(con, tmp_path / "inbox", tmp_path / "landing")
    assert report.ok, report.messages
    assert con.execute("select count(*) from raw.husbanken_instruments where municipality_code in "
                       "('0311', '0312', '030101')").fetchone() == (6,)  # kept in raw as received
    con.close()

    monkeypatch.setenv("BOLIGSOSIAL_DBT_DATABASE", str(db))
    result = dbtRunner().invoke([
        # cautious: only the tests whose every parent is built here (a singular test also reads a seed left out)
        "build", "--select", "+int_husbanken_oslo_districts_folded", "--indirect-selection", "cautious",
        "--project-dir", str(DBT_DIR),
        "--profiles-dir", str(DBT_DIR), "--target-path", str(tmp_path / "target"),
        "--log-path", str(tmp_path / "logs"), "--quiet"])
    assert result.success, result.exception
    con = duckdb.connect(str(db))
    relation = con.execute("select table_schema from information_schema.tables "
                           "where table_name = 'int_husbanken_oslo_districts_folded'").fetchone()[0]
    got = con.execute(f"""select municipality_code, year, measure, value, status_symbol, value_low, value_high
                          from {relation}.int_husbanken_oslo_districts_folded order by 1, 2, 3""").fetchall()
    assert got == [
        ("0301", 2019, "households_purchase", 70.0, None, 70.0, 70.0),
        # one district is '<4': the sum is not known, only its interval (20 + [1, 3]), never 20 as if it were
        ("0301", 2019, "households_with_children_purchase", None, "<4", 21.0, 23.0),
        ("0301", 2020, "households_purchase", 500.0, None, 500.0, 500.0),
        ("0301", 2020, "households_with_children_purchase", 300.0, None, 300.0, 300.0),
        ("1101", 2019, "households_purchase", 12.0, None, 12.0, 12.0),
        ("1101", 2019, "households_with_children_purchase", 7.0, None, 7.0, 7.0),
    ]
