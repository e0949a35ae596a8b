"""Unsafe spreadsheets dropped into the inbox are refused by the importer and kept as rejected, naming the
file and the cell (a real DuckDB build file and landing zone). The readers alone: unit/test_excel_safety.py."""

from __future__ import annotations

from pathlib import Path

from spreadsheets import drop_file, rezip, startlan_bytes, zip_bomb

from orchestration.ingest import landing
from orchestration.ingest.files import husbanken


def drop(inbox: Path, name: str, data: bytes) -> Path:
    return drop_file(inbox, "husbanken", name, data)


def test_macro_enabled_workbook_is_refused_and_rejected(env):
    con, inbox, landing_root = env
    good = startlan_bytes([["0301", "Oslo", 2019, 10, 5]])
    drop(inbox, "startlan_2019.xlsm", good)
    drop(inbox, "startlan_2020.xlsx", rezip(good, add={"xl/vbaProject.bin": b"\x00" * 64}))

    report = husbanken.import_inbox(con, inbox, landing_root)

    assert not report.loaded and len(report.rejected) == 2
    messages = " ".join(report.messages)
    assert "husbanken/startlan_2019.xlsm: macro-enabled workbooks are refused" in messages
    assert "husbanken/startlan_2020.xlsx: workbook contains macros (vbaProject.bin)" in messages
    assert {f.status for f in landing.landed_files("husbanken", root=landing_root)} == {"rejected"}
    statuses = con.execute("select status from raw.load_log").fetchall()
    assert statuses == [("rejected",), ("rejected",)]
    assert con.execute("select count(*) from raw.husbanken_instruments").fetchone()[0] == 0



def test_zip_bomb_refused_by_compression_ratio(env):
    con, inbox, landing_root = env
    bomb = zip_bomb(64 * 1024 * 1024)
    assert len(bomb) < 1024 * 1024  # small on disk …
    drop(inbox, "startlan_bomb.xlsx", bomb)

    report = husbanken.import_inbox(con, inbox, landing_root)

    assert len(report.rejected) == 1
    assert "looks like a decompression bomb" in report.messages[0]
    assert landing.landed_files("husbanken", root=landing_root)[0].status == "rejected"



def test_formula_without_cached_value_is_reported_with_its_cell(env):
    con, inbox, landing_root = env
    data = startlan_bytes([["0301", "Oslo", 2019, 10, 5], ["1101", "Eigersund", 2019, "=D2*2", 3]])
    drop(inbox, "startlan_2019.xlsx", data)

    report = husbanken.import_inbox(con, inbox, landing_root)

    assert len(report.rejected) == 1
    message = report.messages[0]
    assert message.startswith('husbanken/startlan_2019.xlsx: row 3, column "Startlån!D3": formula =D2*2 '
                              "has no cached value")
