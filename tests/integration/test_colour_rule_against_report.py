"""The status-colour rule against the report's own figures (tables 5.1–5.5).

The report picked its colours by judgement; the warehouse uses a written rule (dbt_project/macros/
colour_rule.sql, the same macros rpt_goal_attainment is built with). This test feeds the report's
published change or level per indicator (/work/shared/reference/report-tables/
table_5_1_to_5_5_change_vs_ambition.csv) through that real SQL, with each indicator's ambition taken
from the catalogue seed (dbt_project/seeds/indicators.csv), and asserts agreement wherever the report's
text states a colour or an outcome. It runs `dbt show --inline` against a tiny DuckDB file holding the
cases, so the macros are compiled and executed exactly as in the build.
"""

from __future__ import annotations

import csv
import re

import duckdb
import pytest
from repo_paths import REPO_ROOT, SHARED_DIR

DBT_DIR = REPO_ROOT / "dbt_project"
SHARED = SHARED_DIR
REPORT_TABLE = SHARED / "reference" / "report-tables" / "table_5_1_to_5_5_change_vs_ambition.csv"

pytestmark = pytest.mark.skipif(not REPORT_TABLE.exists(), reason=f"report tables not available: {SHARED} is absent")

# What the report's text says (column colour_stated_in_text) → the colours that agree with it.
# Rows where the text states nothing ("(not stated)") are run through the rule but not asserted.
EXPECTED = [
    (re.compile(r"^yellow$"), {"yellow"}),
    (re.compile(r"^none\b"), {"none"}),
    (re.compile(r"series under development"), {"none"}),         # 5.3: «statistikken er under utbygging»
    (re.compile(r"went the opposite way"), {"red"}),             # botid: «motsatt vei»
    (re.compile(r"almost reached"), {"yellow"}),                 # wheelchair: «målet nesten er nådd»
    (re.compile(r"far above ambition"), {"green"}),              # tilvisning: 486 vs at least 120
    (re.compile(r"not reached"), {"yellow", "red"}),             # refinancing: «Målet er altså ikke nådd»
    (re.compile(r"(ambition )?reached"), {"green"}),             # «ambition reached», «reached»
]


def expected_colours(stated: str) -> set[str] | None:
    stated = stated.strip()
    for pattern, colours in EXPECTED:
        if pattern.search(stated):
            return colours
    return None


def parse_number(text: str) -> float | None:
    text = text.replace("%", "").replace("\u2212", "-").replace(" ", "").replace(",", ".").strip()
    return float(text) if text else None


def load_cases() -> list[dict]:
    catalogue = {}
    with (DBT_DIR / "seeds" / "indicators.csv").open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if row["report_label"]:
                catalogue[row["report_label"]] = row
    cases = []
    with REPORT_TABLE.open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            indicator = catalogue.get(row["indicator"])
            assert indicator is not None, f"no catalogue indicator has report_label {row['indicator']!r}"
            number = parse_number(row["change_or_level_2015_2019"])
            is_level = row["kind"].startswith("level")
            ambition_value = indicator["ambition_value"]
            cases.append({
                "table_no": row["table"],
                "report_label": row["indicator"],
                "indicator_id": indicator["indicator_id"],
                "ambition_type": indicator["ambition_type"],
                "ambition_value": float(ambition_value) if ambition_value else None,
                "desired_direction": indicator["desired_direction"],
                "baseline_year": int(indicator["baseline_year"]) if indicator["baseline_year"] else None,
                "reliable_from_year": int(indicator["reliable_from_year"]) if indicator["reliable_from_year"] else None,
                "period_start": 2015,
                "change_pct": None if is_level else number,
                "level": number if is_level else None,
                "stated": row["colour_stated_in_text"],
            })
    return cases


# The same arguments rpt_goal_attainment passes; reliability as there: the period must not start
# before the series is reliable.
INLINE_SQL = """
with ruled as (
    select *,
        {{ colour_rule('ambition_type', 'ambition_value', 'desired_direction', 'change_pct', 'level',
                       'cast(null as double)', '(reliable_from_year is null or period_start >= reliable_from_year)') }}
            as colour_rule
    from report_cases
)
select indicator_id, colour_rule,
       {{ colour_from_rule('colour_rule') }} as status_colour,
       {{ colour_reason('colour_rule', 'ambition_type', 'ambition_value', 'change_pct', 'level',
                        'cast(null as double)', 'baseline_year', "'serien er under utbygging'", "'—'") }} as colour_reason
from ruled
"""


@pytest.fixture(scope="module")
def judged(tmp_path_factory) -> dict[str, dict]:
    from dbt.cli.main import dbtRunner

    base = tmp_path_factory.mktemp("colour_rule")
    cases = load_cases()
    # the wheelchair row once more under table 5.2's «minst 50 prosent» (the catalogue uses 3.6.1's 55 %)
    wheelchair = next(c for c in cases if c["indicator_id"] == "wheelchair_share")
    extra = {**wheelchair, "indicator_id": "wheelchair_share@50", "ambition_value": 50.0,
             "report_label": "wheelchair_share@50"}
    cases.append(extra)
    db = base / "cases.duckdb"
    con = duckdb.connect(str(db))
    con.execute("""create table report_cases (indicator_id varchar, ambition_type varchar, ambition_value double,
                   desired_direction varchar, baseline_year integer, reliable_from_year integer,
                   period_start integer, change_pct double, level double)""")
    con.executemany("insert into report_cases values (?, ?, ?, ?, ?, ?, ?, ?, ?)", [
        [c["indicator_id"], c["ambition_type"], c["ambition_value"], c["desired_direction"], c["baseline_year"],
         c["reliable_from_year"], c["period_start"], c["change_pct"], c["level"]] for c in cases])
    con.close()

    mp = pytest.MonkeyPatch()
    mp.setenv("BOLIGSOSIAL_DBT_DATABASE", str(db))
    try:
        result = dbtRunner().invoke([
            "show", "--inline", INLINE_SQL, "--limit", "-1", "--output", "json",
            "--project-dir", str(DBT_DIR), "--profiles-dir", str(DBT_DIR),
            "--target-path", str(base / "target"), "--log-path", str(base / "logs"), "--quiet",
        ])
    finally:
        mp.undo()
    assert result.success, f"dbt show failed: {result.exception}"
    table = result.result.results[0].agate_table
    rows = {r["indicator_id"]: dict(zip(table.column_names, r.values())) for r in table.rows}
    out = {}
    for case in cases:
        out[case["report_label"]] = {**case, **rows[case["indicator_id"]]}
    return out


def test_every_report_row_is_judged(judged):
    assert len(judged) == 21  # the report's 20 rows + the wheelchair row under the other ambition
    for label, row in judged.items():
        assert row["status_colour"] in {"green", "yellow", "red", "none"}, label
        assert row["colour_reason"], f"{label}: the rule gives no reason"


@pytest.mark.parametrize("label", [r["indicator"] for r in csv.DictReader(REPORT_TABLE.open(encoding="utf-8"))]
                         if REPORT_TABLE.exists() else [])
def test_colour_agrees_with_the_report_text(judged, label):
    row = judged[label]
    expected = expected_colours(row["stated"])
    if expected is None:
        pytest.skip(f"the report states no colour or outcome for {label!r} (rule gives {row['status_colour']})")
    assert row["status_colour"] in expected, (
        f"{label} (table {row['table_no']}): the report says {row['stated']!r}, the rule gives "
        f"{row['status_colour']} ({row['colour_rule']}): {row['colour_reason']}")


def test_no_colour_where_the_report_fixes_no_long_term_ambition(judged):
    for label in ("Tilskudd til utleieboliger", "Investeringstilskudd omsorgsboliger",
                  "Involvering av brukere/pårørende i planlegging", "Involvering av brukere/pårørende i boligprosjekter"):
        assert judged[label]["colour_rule"] == "no_ambition", label


def test_young_people_series_is_unreliable_before_2016(judged):
    row = judged["Husstander med unge i midlertidige botilbud"]
    assert (row["status_colour"], row["colour_rule"]) == ("none", "unreliable_data")


def test_wheelchair_is_yellow_under_either_ambition(judged):
    """The report disagrees with itself (55 % in 3.6.1, «minst 50 prosent» in table 5.2); 49 % is
    yellow under both, so the choice of var wheelchair_ambition_pct does not change the verdict."""
    at_55 = judged["Kommunale boliger tilgjengelige for rullestolbrukere"]
    at_50 = judged["wheelchair_share@50"]
    assert (at_55["ambition_value"], at_50["ambition_value"]) == (55, 50)
    assert at_55["status_colour"] == at_50["status_colour"] == "yellow"
