"""Programme reports 2016–2018 and the programme list: mapping, validation, supersession, demo files."""

from __future__ import annotations

import io
from pathlib import Path

import duckdb
import openpyxl
import pytest

from orchestration.ingest import landing
from tools.demo_data import programme_report_files
from orchestration.ingest.files import programme_list, programme_reports
from repo_paths import differs_from_committed_demo
from spreadsheets import drop_file

CONFIG = programme_reports.load_config()
TRICKY = 'Vi bruker «Housing First» & "Bo trygt" – ventetid < 3 mnd.'


def labels(year: int) -> dict[str, str]:
    return {qid: q["labels"][year] for qid, q in CONFIG["questions"].items() if year in q["labels"]}


def answer_for(qid: str, i: int) -> object:
    kind = CONFIG["questions"][qid]["kind"]
    return {"number": 3 + i, "yes_no": "Ja" if i else "Nei", "scale_1_5": f"{4 - i} - I stor grad",
            "text": TRICKY if qid == "act_transition_phase" else f"Svar {qid} {i}"}[kind]


def report_xlsx(year: int, municipalities: list[tuple[str, str]], override: dict | None = None,
                header_edit=None) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = f"Rapportering {year}"
    qs = labels(year)
    header = ["Kommunenummer", "Kommune", "Innsendt"] + list(qs.values())
    if header_edit:
        header = header_edit(header)
    ws.append(header)
    for i, (code, name) in enumerate(municipalities):
        row = [code, name, "01.02.2019"] + [answer_for(qid, i) for qid in qs]
        for (r, column), value in (override or {}).items():
            if r == i:
                row[header.index(column)] = value
        ws.append(row)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def drop(inbox: Path, folder: str, name: str, data: bytes) -> None:
    drop_file(inbox, folder, name, data)


MUNICIPALITIES = [("0301", "Oslo"), ("5001", "Trondheim")]


def test_config_covers_the_report():
    kinds_2018 = [q["kind"] for q in CONFIG["questions"].values() if 2018 in q["labels"]]
    assert kinds_2018.count("text") == 24  # table 2.2
    assert kinds_2018.count("yes_no") == 4 and kinds_2018.count("scale_1_5") == 2 and kinds_2018.count("number") == 1
    assert sum(1 for q in CONFIG["questions"].values() if 2016 in q["labels"] and q["kind"] == "text") > 24
    assert all(1 <= q["goal"] <= 15 for q in CONFIG["questions"].values())
    # the same question keeps its id while its wording changes
    assert len({CONFIG["questions"]["yn_eviction_systems"]["labels"][y] for y in (2016, 2017, 2018)}) == 3


def test_good_report_loads_long_with_verbatim_text(env):
    con, inbox, landing_root = env
    drop(inbox, "programme_reports", "rapportering_2018.xlsx", report_xlsx(2018, MUNICIPALITIES))

    report = programme_reports.import_inbox(con, inbox, landing_root)

    assert report.ok, report.messages
    assert report.loaded[0].rows == 2 * 31
    got = con.execute("""
        select municipality_code, question_id, goal, answer_kind, answer_number, answer_bool, answer_scale,
               answer_text, question_text, row_number, sheet, report_year
        from raw.programme_report_answers where question_id in
            ('num_new_dwellings_substance_mental', 'yn_eviction_systems', 'scale_user_involvement_planning',
             'act_transition_phase')
        order by row_number, question_id""").fetchall()
    eviction_label = CONFIG["questions"]["yn_eviction_systems"]["labels"][2018]
    assert got[0][:8] == ("0301", "act_transition_phase", 1, "text", None, None, None, TRICKY)
    assert got[1][:8] == ("0301", "num_new_dwellings_substance_mental", 5, "number", 3.0, None, None, "3")
    assert got[2][:8] == ("0301", "scale_user_involvement_planning", 13, "scale_1_5", None, None, 4, "4 - I stor grad")
    assert got[3][:9] == ("0301", "yn_eviction_systems", 10, "yes_no", None, False, None, "Nei", eviction_label)
    assert got[3][9:] == (2, "Rapportering 2018", 2018)
    assert got[7][5] is True and got[7][9] == 3


@pytest.mark.parametrize("case, kwargs, expected", [
    ("non-answer in yes/no", {"override": {(1, CONFIG["questions"]["yn_complaints_board"]["labels"][2018]): "Kanskje"}},
     f'row 3, column "{CONFIG["questions"]["yn_complaints_board"]["labels"][2018]}": \'Kanskje\' is not Ja/Nei'),
    ("scale out of range", {"override": {(0, CONFIG["questions"]["scale_user_involvement_planning"]["labels"][2018]): 7}},
     f'row 2, column "{CONFIG["questions"]["scale_user_involvement_planning"]["labels"][2018]}": 7 is not on the scale'),
    ("non-numeric own number",
     {"override": {(0, CONFIG["questions"]["num_new_dwellings_substance_mental"]["labels"][2018]): "mange"}},
     f'row 2, column "{CONFIG["questions"]["num_new_dwellings_substance_mental"]["labels"][2018]}": '
     "'mange' is not a number"),
    ("bad municipality code", {"override": {(1, "Kommunenummer"): "50O1"}},
     'row 3, column "Kommunenummer": \'50O1\' is not a municipality code'),
    ("unknown column", {"header_edit": lambda h: h + ["Kontaktperson"]},
     'row 1, column "Kontaktperson": unknown column for 2018'),
    ("missing column", {"header_edit": lambda h: h[:-1]},
     f'row 1, column "{list(labels(2018).values())[-1]}": missing column'),
    ("wrong year's wording",
     {"header_edit": lambda h: [CONFIG["questions"]["yn_eviction_systems"]["labels"][2017]
                                if x == CONFIG["questions"]["yn_eviction_systems"]["labels"][2018] else x for x in h]},
     "unknown column for 2018 (it is the 2017 wording: wrong year?)"),
])
def test_bad_report_is_rejected(env, case, kwargs, expected):
    con, inbox, landing_root = env
    drop(inbox, "programme_reports", "rapportering_2017.xlsx", report_xlsx(2017, [("1601", "Trondheim")]))
    programme_reports.import_inbox(con, inbox, landing_root)
    before = con.execute("select * from raw.programme_report_answers order by all").fetchall()

    drop(inbox, "programme_reports", "rapportering_2018.xlsx", report_xlsx(2018, MUNICIPALITIES, **kwargs))
    report = programme_reports.import_inbox(con, inbox, landing_root)

    assert [o.file for o in report.rejected] == ["programme_reports/rapportering_2018.xlsx"]
    assert any(expected in m for m in report.messages), report.messages
    assert all(m.startswith("programme_reports/rapportering_2018.xlsx: ") for m in report.messages)
    statuses = {f.original_name: f.status for f in landing.landed_files("programme_reports", root=landing_root)}
    assert statuses == {"rapportering_2017.xlsx": "landed", "rapportering_2018.xlsx": "rejected"}
    assert con.execute("select * from raw.programme_report_answers order by all").fetchall() == before


def test_duplicate_municipality_row(env):
    con, inbox, landing_root = env
    drop(inbox, "programme_reports", "rapportering_2018.xlsx", report_xlsx(2018, MUNICIPALITIES + [("0301", "Oslo")]))
    report = programme_reports.import_inbox(con, inbox, landing_root)
    assert report.messages == ['programme_reports/rapportering_2018.xlsx: row 4, column "Kommunenummer": '
                               "duplicate row: municipality 0301 already reported in row 2"]


def test_corrected_report_supersedes_its_year(env):
    con, inbox, landing_root = env
    drop(inbox, "programme_reports", "rapportering_2017.xlsx", report_xlsx(2017, [("1601", "Trondheim")]))
    drop(inbox, "programme_reports", "rapportering_2018.xlsx", report_xlsx(2018, MUNICIPALITIES))
    programme_reports.import_inbox(con, inbox, landing_root)
    own = CONFIG["questions"]["num_new_dwellings_substance_mental"]["labels"][2018]
    drop(inbox, "programme_reports", "rapportering_2018_rettet.xlsx",
         report_xlsx(2018, MUNICIPALITIES, override={(0, own): 9}))
    report = programme_reports.import_inbox(con, inbox, landing_root)

    assert [o.file for o in report.superseded] == ["programme_reports/rapportering_2018.xlsx"]
    current = con.execute("""select report_year, source_file, count(*) from raw.programme_report_answers_current
                             group by all order by 1""").fetchall()
    assert current == [(2017, "rapportering_2017.xlsx", 35), (2018, "rapportering_2018_rettet.xlsx", 62)]
    assert con.execute("""select answer_number from raw.programme_report_answers_current
        where municipality_code = '0301' and question_id = 'num_new_dwellings_substance_mental'""").fetchall() == [(9.0,)]
    assert con.execute("select count(*) from raw.programme_report_answers").fetchone()[0] == 35 + 62 + 62


# --- the programme list ---------------------------------------------------------------------------


LIST_HEADER = "municipality_code,municipality_name,programme,valid_from_year,valid_to_year,synthetic\n"


def test_programme_list_loads_and_rejects(env):
    con, inbox, landing_root = env
    good = LIST_HEADER + "0301,Oslo,storby,2016,2020,true\n5001,Trondheim,storby,2016,2020,true\n"
    drop(inbox, "programme_list", "programme_municipalities.csv", good.encode())
    report = programme_list.import_inbox(con, inbox, landing_root)
    assert report.ok and report.loaded[0].synthetic
    assert con.execute("select municipality_code, programme, valid_from_year, synthetic, row_number "
                       "from raw.programme_municipalities order by 1").fetchall() == [
        ("0301", "storby", 2016, True, 2), ("5001", "storby", 2016, True, 3)]

    bad = LIST_HEADER + "0301,Oslo,storby,2016,2020,false\n0301,Oslo,storby,2018,2021,false\n1OO1,X,by,2016,2020,false\n"
    drop(inbox, "programme_list", "programme_municipalities_v2.csv", bad.encode())
    report = programme_list.import_inbox(con, inbox, landing_root)
    assert report.messages == [
        'programme_list/programme_municipalities_v2.csv: row 3, column "municipality_code": duplicate row: '
        "municipality 0301 already listed for 2016–2020 in row 2",
        'programme_list/programme_municipalities_v2.csv: row 4, column "municipality_code": '
        "'1OO1' is not a municipality code",
    ]
    assert con.execute("select count(*) from raw.programme_municipalities_current").fetchone()[0] == 2


# --- the demo files ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def world(demo_world):
    return demo_world


def test_demo_reports_deterministic_and_importable(world, tmp_path):
    first = programme_report_files.write(world, tmp_path / "a")
    assert first and differs_from_committed_demo(first, tmp_path / "a") == []

    con = duckdb.connect(str(tmp_path / "build.duckdb"))
    codes = lambda year: set(world.codes_valid_at(f"{year}-12-31"))  # noqa: E731
    report = programme_reports.import_inbox(con, tmp_path / "a", tmp_path / "landing", valid_codes=codes)
    assert report.ok, report.messages
    assert len(report.loaded) == 3 and all(o.synthetic for o in report.loaded)
    listed = programme_list.import_inbox(con, tmp_path / "a", tmp_path / "landing", valid_codes=codes)
    assert listed.ok and listed.loaded[0].rows == 70

    per_year = dict(con.execute("""select report_year, count(distinct municipality_code)
        from raw.programme_report_answers group by 1""").fetchall())
    assert per_year == {2016: 70, 2017: 70, 2018: 70}
    shares = {(y, q): n for y, q, n in con.execute("""select report_year, question_id, count(*) filter (where answer_bool)
        from raw.programme_report_answers where answer_kind = 'yes_no' group by all""").fetchall()}
    assert shares[(2018, "yn_eviction_systems")] == 68  # 97 %
    assert shares[(2016, "yn_complaints_board")] == 65 and shares[(2018, "yn_complaints_board")] == 70
    assert shares[(2018, "yn_planning_housing_considerations")] == 70
    own = dict(con.execute("""select report_year, sum(answer_number) from raw.programme_report_answers
        where question_id = 'num_new_dwellings_substance_mental' group by 1""").fetchall())
    assert own[2017] == 325 and own[2018] == 192
    scales = dict(con.execute("""select report_year, avg(answer_scale) from raw.programme_report_answers
        where question_id = 'scale_user_involvement_planning' group by 1""").fetchall())
    assert scales[2016] < scales[2018]
    texts = con.execute("""select count(*), count(answer_text), count(distinct answer_text)
        from raw.programme_report_answers where answer_kind = 'text' and report_year = 2018""").fetchone()
    # short answers repeat across municipalities as on the real forms («Ingen saker i 2018.», «Se over.»)
    assert texts[0] == 70 * 24 and texts[1] > 0.95 * texts[0] and texts[2] > 0.75 * texts[1]
    tricky = con.execute("""select count(*) from raw.programme_report_answers
        where answer_text like '%«%' or answer_text like '%&%' or answer_text like '%<%'
           or answer_text like '%"%'""").fetchone()[0]
    assert tricky > 50
    # each year uses the codes valid that year (e.g. the Trøndelag municipalities were 17xx before 2018)
    for year in (2016, 2017, 2018):
        got = {c for (c,) in con.execute("select distinct municipality_code from raw.programme_report_answers "
                                         "where report_year = ?", [year]).fetchall()}
        assert got == set(programme_report_files.codes_in_year(world, year).values())
        assert got <= codes(year)
