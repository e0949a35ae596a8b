"""The dwelling-register importer on files built the way users make them: an xlsx from Excel with real
dates and a municipality number that lost its zero, a ;-separated Windows-1252 CSV as Excel saves it, and
an export with identity numbers that must leave no trace in the landing zone, the warehouse or the inbox."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest
from openpyxl import Workbook

from orchestration.ingest.files import dwelling_register as dr
from orchestration.ingest.files.inbox import NOT_STORED
from orchestration.ingest.files.personal_data import with_check_digits

HEADER = ["Bolig-ID", "Kommunenummer", "Referansedato", "Boligtype", "Eierform", "Rullestoltilgjengelig",
          "Status", "Målgruppe", "Aldersgruppe", "Tildelt av", "Innflyttet", "Fraflyttet"]
REF = dt.datetime(2024, 12, 31)


def xlsx(path: Path, rows: list[list]) -> Path:
    wb = Workbook()
    ws = wb.active
    ws.title = "Boliger"
    ws.append(HEADER)
    for row in rows:
        ws.append(row)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def good_rows() -> list[list]:
    # Excel numbers and dates: 301 (Oslo without its zero), datetime cells
    return [
        ["A-1", 301, REF, "Omsorgsbolig", "Eid", "Ja", "Bebodd", "Eldre mv.", "80 år og over", "Tjenestekontoret",
         dt.datetime(2019, 5, 1), None],
        ["A-2", 301, REF, "Kommunal utleiebolig", "Innleid", "Nei", "Bebodd", "Flyktninger", "30-66 år", "Flyktningtjenesten",
         dt.datetime(2024, 3, 1), None],
        ["A-2", 301, REF, "Kommunal utleiebolig", "Innleid", "Nei", "Bebodd", "Psykiske problemer og rusproblemer",
         "Under 30 år", "NAV", dt.datetime(2022, 1, 10), dt.datetime(2024, 2, 15)],
        ["A-3", 301, REF, "Aldersbolig", "Eid", "Ja", "Ledig", "Eldre mv.", None, None, None, None],
    ]


@pytest.fixture()
def place(tmp_path):
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    yield tmp_path, con
    con.close()


def test_an_excel_register_loads_with_provenance(place):
    tmp, con = place
    xlsx(tmp / "inbox" / "dwelling_register" / "register_oslo_2024.xlsx", good_rows())
    report = dr.import_inbox(con, tmp / "inbox", landing_root=tmp / "landing")
    assert report.ok and report.rows_loaded == 4
    got = con.execute("""select municipality_code, dwelling_id, dwelling_type, ownership, wheelchair_accessible, status,
                                target_group, age_band, allocating_unit, tenancy_start, tenancy_end, reference_year, row_number
                         from raw.dwelling_register_current order by row_number""").fetchall()
    assert got[0] == ("0301", "A-1", "omsorgsbolig", "eid", True, "bebodd", "eldre", "80_plus", "tjenestekontor",
                      dt.date(2019, 5, 1), None, 2024, 2)
    assert got[2][6:11] == ("psykisk_rus", "under_30", "nav", dt.date(2022, 1, 10), dt.date(2024, 2, 15))
    assert got[3][5:8] == ("ledig", "eldre", None)
    assert len(list((tmp / "landing" / "dwelling_register").glob("*/*register_oslo_2024.xlsx"))) == 1


def test_a_windows_csv_with_other_labels_loads(place):
    tmp, con = place
    header = "Boligid;Knr;Statusdato;Type bolig;Disposisjonsform;Rullestol;Boligstatus;Brukergruppe;Alder hovedleietaker;Leieforhold fra"
    rows = ["7-12;1106;31.12.2024;Omsorg+;Eid;J;Utleid;Eldre;67–79 år;01.06.2021",
            "7-13;1106;31.12.2024;Utleiebolig;Privat med disposisjonsrett;N;Under oppussing;;;"]
    path = tmp / "inbox" / "dwelling_register" / "haugesund.csv"
    path.parent.mkdir(parents=True)
    path.write_bytes(("\r\n".join([header, *rows]) + "\r\n").encode("cp1252"))
    report = dr.import_inbox(con, tmp / "inbox", landing_root=tmp / "landing")
    assert report.ok, report.rejections()
    assert con.execute("select dwelling_type, age_band, status, target_group from raw.dwelling_register order by dwelling_id"
                       ).fetchall() == [("omsorg_pluss", "67_79", "bebodd", "eldre"),
                                        ("kommunal_utleiebolig", None, "under_oppussing", None)]


def test_messy_rows_reject_the_file_naming_file_row_and_column(place):
    tmp, con = place
    rows = good_rows()
    rows[1][10], rows[1][11] = dt.datetime(2024, 3, 1), dt.datetime(2023, 3, 1)   # ends before it starts
    rows[3][7] = "Bostedsløse"                                                    # unknown target group
    rows.append(["A-1", 301, REF, "Aldersbolig", "Eid", "Ja", "Bebodd", "Eldre mv.", "80 år og over", None,
                 dt.datetime(2010, 1, 1), dt.datetime(2011, 1, 1)])              # same dwelling, other type
    xlsx(tmp / "inbox" / "dwelling_register" / "messy.xlsx", rows)
    report = dr.import_inbox(con, tmp / "inbox", landing_root=tmp / "landing")
    messages = "\n".join(report.messages)
    assert 'dwelling_register/messy.xlsx: row 5, column "Målgruppe": unknown target group \'Bostedsløse\'' in messages
    assert 'row 3, column "Fraflyttet": the tenancy ends (01.03.2023) before it starts (01.03.2024)' in messages
    assert 'row 6, column "Boligtype": duplicate dwelling id A-1' in messages
    assert con.execute("select count(*) from raw.dwelling_register").fetchone()[0] == 0
    assert con.execute("select status from raw.load_log").fetchall() == [("rejected",)]


def test_a_file_with_identity_numbers_is_refused_and_nothing_of_it_is_stored(place, monkeypatch):
    tmp, con = place
    numbers = [with_check_digits("010190124"), with_check_digits("150585321")]
    assert all(numbers)
    header = "Personnr;" + ";".join(HEADER)
    lines = [header] + [f"{n};A-{i};0301;31.12.2024;Omsorgsbolig;Eid;Ja;Bebodd;Eldre mv.;80 år og over;;01.01.2020;"
                        for i, n in enumerate(numbers)]
    inbox = tmp / "inbox"
    path = inbox / "dwelling_register" / "eksport_med_personnr.csv"
    path.parent.mkdir(parents=True)
    path.write_text("\n".join(lines), encoding="utf-8")
    xlsx(inbox / "dwelling_register" / "ok.xlsx", good_rows())
    monkeypatch.setenv("BOLIGSOSIAL_SOURCE", "live")          # the data team's inbox, not the demo's
    monkeypatch.setenv("BOLIGSOSIAL_INBOX", str(inbox))
    monkeypatch.setenv("BOLIGSOSIAL_LANDING", str(tmp / "landing"))
    from orchestration.assets.dwelling_register import import_registers

    reports = import_registers(con, log=lambda _: None)
    refused = [o for r in reports for o in r.rejected]
    assert len(refused) == 1 and 'column "Personnr"' in refused[0].messages[0]
    assert "holds a national identity number" in refused[0].messages[0]
    assert sum(r.rows_loaded for r in reports) == 4                     # the other file loads
    assert not path.exists()                                            # gone from the inbox too
    assert not list((tmp / "landing").rglob("*personnr*"))               # never landed
    con.execute("checkpoint")
    stored = b"".join(p.read_bytes() for p in tmp.rglob("*") if p.is_file())
    for number in numbers:
        assert number.encode() not in stored                            # not in landing, warehouse or anywhere
    log = con.execute("select status, landed_path, message from raw.load_log where original_name = ?",
                      [path.name]).fetchall()
    assert log[0][0] == "refused" and log[0][1] == NOT_STORED and "Personnr" in log[0][2]


def test_the_demo_register_with_identity_numbers_is_refused_and_kept_out(place):
    tmp, con = place
    from orchestration import settings

    report = dr.import_inbox(con, settings.DEMO_DATA_DIR / "inbox", landing_root=tmp / "landing")
    refused = [o for o in report.rejected if o.landed_path == NOT_STORED]
    assert [o.file.endswith("_med_fnr.csv") for o in refused] == [True]
    assert 'column "Fødselsnummer"' in refused[0].messages[0]
    assert not list((tmp / "landing").rglob("*med_fnr*"))
    # the corrected files load; their rejected originals name row and column
    assert {o.file.rsplit("/", 1)[1] for o in report.rejected if o not in refused} == {
        f.name for f in (settings.DEMO_DATA_DIR / "inbox" / "dwelling_register").glob("*.xlsx")
        if (f.with_name(f.stem + "_rettet.xlsx")).exists()}
    assert len(report.loaded) == 10
