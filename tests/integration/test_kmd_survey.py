"""KMD survey «Bruk av kommunale boliger»: validation, rejection, supersession and the demo file."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from orchestration.ingest import landing
from tools.demo_data import kmd_survey_files
from orchestration.ingest.files import kmd_survey
from repo_paths import differs_from_committed_demo
from spreadsheets import drop_file, xlsx_bytes

HEADER = kmd_survey_files.HEADER
GOOD = [
    ["0301", "Oslo", "Ja", 5200, 7100, 150, 2100],
    ["1101", "Eigersund", "Nei", "..", "..", "..", ".."],
    ["1103", "Stavanger", "Ja", 980, 1250, 0, 400],
]


def survey_xlsx(rows: list[list], header: list = HEADER) -> bytes:
    return xlsx_bytes(header, rows, "Bruk av kommunale boliger")


def drop(inbox: Path, name: str, data: bytes) -> None:
    drop_file(inbox, "kmd_survey", name, data)


def test_good_survey_loads_with_non_answers_kept(env):
    con, inbox, landing_root = env
    drop(inbox, "kmd_2017.xlsx", survey_xlsx(GOOD))
    report = kmd_survey.import_inbox(con, inbox, landing_root)
    assert report.ok and report.loaded[0].rows == 12
    got = con.execute("""select municipality_code, answered, measure, value, status_symbol, survey_year, row_number,
                                sheet, source_file
                         from raw.kmd_survey where measure = 'care_dwellings' order by 1""").fetchall()
    assert got == [
        ("0301", True, "care_dwellings", 5200.0, None, 2017, 2, "Bruk av kommunale boliger", "kmd_2017.xlsx"),
        ("1101", False, "care_dwellings", None, "..", 2017, 3, "Bruk av kommunale boliger", "kmd_2017.xlsx"),
        ("1103", True, "care_dwellings", 980.0, None, 2017, 4, "Bruk av kommunale boliger", "kmd_2017.xlsx"),
    ]


@pytest.mark.parametrize("rows, header, expected", [
    ([["0301", "Oslo", "Kanskje", 1, 2, 3, 4]], HEADER, 'row 2, column "Besvart": \'Kanskje\' is not Ja/Nei'),
    ([["0301", "Oslo", "Ja", "mange", 2, 3, 4]], HEADER, 'row 2, column "Omsorgsboliger": \'mange\' is not a number'),
    ([["301O", "Oslo", "Ja", 1, 2, 3, 4]], HEADER, 'row 2, column "Kommunenummer": \'301O\' is not a municipality code'),
    (GOOD + [["0301", "Oslo", "Ja", 1, 2, 3, 4]], HEADER,
     'row 5, column "Kommunenummer": duplicate row: municipality 0301 already in row 2'),
    ([["0301", "Oslo", "Ja", 1, 2, 3]], HEADER[:-1],
     'row 1, column "Boliger finansiert med investeringstilskudd": missing column'),
    ([["0301", "Oslo", "Ja", 1, 2, 3, 4, 5]], HEADER + ["Sykehjemsplasser"],
     'row 1, column "Sykehjemsplasser": unknown column'),
])
def test_bad_survey_is_rejected(env, rows, header, expected):
    con, inbox, landing_root = env
    drop(inbox, "kmd_2017.xlsx", survey_xlsx(GOOD))
    kmd_survey.import_inbox(con, inbox, landing_root)
    drop(inbox, "kmd_2017_v2.xlsx", survey_xlsx(rows, header))
    report = kmd_survey.import_inbox(con, inbox, landing_root)
    assert [o.file for o in report.rejected] == ["kmd_survey/kmd_2017_v2.xlsx"]
    assert any(m.startswith(f"kmd_survey/kmd_2017_v2.xlsx: {expected}") for m in report.messages), report.messages
    statuses = {f.original_name: f.status for f in landing.landed_files("kmd_survey", root=landing_root)}
    assert statuses["kmd_2017_v2.xlsx"] == "rejected"
    assert con.execute("select distinct source_file from raw.kmd_survey_current").fetchall() == [("kmd_2017.xlsx",)]


def test_corrected_survey_supersedes(env):
    con, inbox, landing_root = env
    drop(inbox, "kmd_2017.xlsx", survey_xlsx(GOOD))
    kmd_survey.import_inbox(con, inbox, landing_root)
    corrected = [GOOD[0][:3] + [5300] + GOOD[0][4:]] + GOOD[1:]
    drop(inbox, "kmd_2017_rettet.xlsx", survey_xlsx(corrected))
    report = kmd_survey.import_inbox(con, inbox, landing_root)
    assert [o.file for o in report.superseded] == ["kmd_survey/kmd_2017.xlsx"]
    assert con.execute("""select value from raw.kmd_survey_current
        where municipality_code = '0301' and measure = 'care_dwellings'""").fetchall() == [(5300.0,)]
    assert con.execute("select count(*) from raw.kmd_survey").fetchone()[0] == 24
    assert con.execute("select status from raw.load_log where original_name = 'kmd_2017.xlsx' "
                       "order by loaded_at").fetchall() == [("loaded",), ("superseded",)]


# --- the demo file ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def world(demo_world):
    return demo_world


def test_demo_survey_deterministic_importable_with_planted_deviations(world, tmp_path):
    first = kmd_survey_files.write(world, tmp_path / "a")
    assert [p.name for p in first] == ["bruk_av_kommunale_boliger_2017.xlsx"]
    assert differs_from_committed_demo(first, tmp_path / "a") == []

    con = duckdb.connect(str(tmp_path / "build.duckdb"))
    codes_2017 = set(world.codes_valid_at("2017-12-31"))
    report = kmd_survey.import_inbox(con, tmp_path / "a", tmp_path / "landing", valid_codes=lambda year: codes_2017)
    assert report.ok, report.messages
    assert report.loaded[0].synthetic

    answered = con.execute("""select count(distinct municipality_code), count(distinct municipality_code)
        filter (where answered) from raw.kmd_survey""").fetchone()
    assert answered[0] == len(codes_2017) and 0.72 <= answered[1] / answered[0] <= 0.82

    care = dict(con.execute("""select municipality_code, value from raw.kmd_survey
        where measure = 'care_dwellings' and answered""").fetchall())
    truth = world.as_reported(world.figures["care_dwellings"], 2017)
    planted = kmd_survey_files.planted_kmd_deviations(world)
    assert len(planted) == 8 and set(planted) <= set(care)
    for code in planted:
        assert care[code] / truth[code] <= 0.35 or care[code] / truth[code] >= 2.3, code
    others = [care[c] / truth[c] for c in care if c not in planted and truth[c] >= 20]
    assert all(0.85 <= r <= 1.15 for r in others)

    split = dict(con.execute("""select measure, sum(value) from raw.kmd_survey
        where answered and measure <> 'investment_grant_dwellings' group by 1""").fetchall())
    total = sum(split.values())
    assert 0.33 <= split["care_dwellings"] / total <= 0.45
    assert 0.52 <= split["disadvantaged_dwellings"] / total <= 0.65
    assert 0.01 <= split["non_means_tested_dwellings"] / total <= 0.03
