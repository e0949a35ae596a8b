"""SSB's published ratios and national figures against the warehouse's own arithmetic (suite
expectations/consistency/ssb_published.yml), on small hand-made staging tables whose truth is known."""

from __future__ import annotations

import duckdb
import pytest

from orchestration import settings
from orchestration.quality.gx import run_suite
from orchestration.quality.suites import load_suites

SEED = settings.DBT_PROJECT_DIR / "seeds" / "suppression_intervals.csv"


@pytest.fixture
def suite():
    return next(s for s in load_suites(settings.EXPECTATIONS_DIR) if s.name == "ssb_published")


def _warehouse(kostra: list[tuple], population: list[tuple], national: list[tuple], changes: list[tuple] = ()):
    con = duckdb.connect()
    con.execute("create schema intermediate; create schema raw")
    con.execute("create table intermediate.int_kostra_values_latest_release (municipality_code varchar, year integer, "
                "measure varchar, measure_kind varchar, value double, status_symbol varchar, source varchar)")
    con.execute("create table intermediate.int_population_pivoted_by_age (municipality_code varchar, population_date_year integer, "
                "population double)")
    con.execute("create table intermediate.int_national_values_latest_release (measure varchar, year integer, value double)")
    con.execute("create table raw.klass_changes (old_code varchar, new_code varchar, change_occurred varchar)")
    # the seed every mart's bounds come from (dbt_project/seeds/suppression_intervals.csv), as dbt loads it
    con.execute("create schema catalogue")
    con.execute(f"create table catalogue.suppression_intervals as select * from read_csv('{SEED}', header = true)")
    rows = {"intermediate.int_kostra_values_latest_release": [
                (m, y, k, "ratio" if k.endswith("_published") else "count", v, s, "KOSTRA") for m, y, k, v, s in kostra],
            "intermediate.int_population_pivoted_by_age": population, "intermediate.int_national_values_latest_release": national,
            "raw.klass_changes": list(changes)}
    for table, values in rows.items():
        if values:
            con.executemany(f"insert into {table} values ({', '.join('?' * len(values[0]))})", values)
    return con


def _kinds(result) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for f in result.findings:
        out.setdefault(f["kind"], set()).add(f"{f['municipality_code']}:{f['year']}:{f['measure']}")
    return out


def test_a_published_ratio_that_disagrees_is_a_finding_and_rounding_is_not(suite):
    con = _warehouse(
        kostra=[
            # 0301: 1 234 dwellings, 61 700 inhabitants on 1 January 2020 → 20.0 per 1000 (exactly 20.0)
            ("0301", 2019, "dwellings_total", 1234, None), ("0301", 2019, "dwellings_per_1000_published", 20.0, None),
            # 1103: 999 / 50 001 × 1000 = 19.9796 → published 20.0 is rounding, not a disagreement
            ("1103", 2019, "dwellings_total", 999, None), ("1103", 2019, "dwellings_per_1000_published", 20.0, None),
            # 5001: 500 / 20 000 × 1000 = 25.0 but SSB publishes 27.5
            ("5001", 2019, "dwellings_total", 500, None), ("5001", 2019, "dwellings_per_1000_published", 27.5, None),
            # shares: 300 of 1 234 owned = 24.31 %, published 24.3 (fine); wheelchair 600 / 1 234 = 48.62 %, published 41.6
            ("0301", 2019, "dwellings_owned", 300, None), ("0301", 2019, "owned_share_published", 24.3, None),
            ("0301", 2019, "dwellings_wheelchair", 600, None), ("0301", 2019, "wheelchair_share_published", 41.6, None),
        ],
        population=[("0301", 2020, 61700), ("1103", 2020, 50001), ("5001", 2020, 20000),
                    # the 1 January of the statistics year itself is NOT the denominator
                    ("0301", 2019, 60000), ("1103", 2019, 48000), ("5001", 2019, 19000)],
        national=[("dwellings_total", 2019, 2733), ("dwellings_owned", 2019, 300),
                  ("dwellings_wheelchair", 2019, 600)],
    )
    result = run_suite(con, suite)
    found = {f["finding_id"]: f for f in result.findings}
    assert set(_kinds(result)) == {"ssb_published_ratio"}
    assert set(found) == {"ssb_published_ratio:5001:2019:dwellings_per_1000_published",
                          "ssb_published_ratio:0301:2019:wheelchair_share_published"}
    per_1000 = found["ssb_published_ratio:5001:2019:dwellings_per_1000_published"]
    assert (per_1000["observed"], per_1000["expected"], per_1000["deviation"]) == (27.5, 25.0, 2.5)
    assert "innbyggere 1.1. året etter 20000" in per_1000["message"] and "500" in per_1000["message"]
    assert found["ssb_published_ratio:0301:2019:wheelchair_share_published"]["expected"] == pytest.approx(48.622)


def test_the_denominator_is_the_population_on_1_january_of_the_next_year(suite):
    """With 1 January t+1 the published figure agrees; had SSB used 1 January t, it would be 20.6, not 20.0."""
    kostra = [("0301", 2019, "dwellings_total", 1234, None), ("0301", 2019, "dwellings_per_1000_published", 20.0, None)]
    agreeing = run_suite(_warehouse(kostra, [("0301", 2020, 61700), ("0301", 2019, 60000)], []), suite)
    assert agreeing.findings == []
    # the same published figure against a population series shifted by a year: the check notices
    shifted = run_suite(_warehouse(kostra, [("0301", 2020, 60000)], []), suite)
    assert [f["expected"] for f in shifted.findings] == [pytest.approx(20.567, abs=1e-3)]


def test_a_municipality_changed_on_1_january_next_year_is_left_out(suite):
    """Stavanger (1103) kept its code when it took in Finnøy and Rennesøy on 1 January 2020: its 1 January
    2020 population belongs to the larger municipality, so 2019 cannot be recomputed from 07459."""
    kostra = [("1103", 2019, "dwellings_total", 3000, None), ("1103", 2019, "dwellings_per_1000_published", 20.9, None)]
    population = [("1103", 2020, 144000)]
    assert len(run_suite(_warehouse(kostra, population, []), suite).findings) == 1
    changes = [("1141", "1103", "2020-01-01"), ("1103", "1103", "2020-01-01")]
    assert run_suite(_warehouse(kostra, population, [], changes), suite).findings == []


def test_national_eak_against_the_sum_of_municipalities_allows_for_suppressed_cells(suite):
    kostra = [("0301", 2019, "temp_households_total", 500, None), ("5001", 2019, "temp_households_total", 120, None),
              ("1851", 2019, "temp_households_total", None, ":"), ("1852", 2019, "temp_households_total", None, ":")]
    # two suppressed housing cells hold 1 or 2 each (seeds/suppression_intervals.csv): EAK in [622, 624] is consistent
    for consistent in (622, 624):
        assert run_suite(_warehouse(kostra, [], [("temp_households_total", 2019, consistent)]), suite).findings == []
    too_high = run_suite(_warehouse(kostra, [], [("temp_households_total", 2019, 700)]), suite).findings
    too_low = run_suite(_warehouse(kostra, [], [("temp_households_total", 2019, 600)]), suite).findings
    assert [(f["finding_id"], f["observed"], f["expected"]) for f in too_high] == [
        ("ssb_national_sum:0000:2019:temp_households_total", 700, 620)]
    assert [f["deviation"] for f in too_low] == [-20]
    # beyond what the cells can hide (2 × 2), and below what they must hold (2 × 1), though within the old 2 × 4
    assert len(run_suite(_warehouse(kostra, [], [("temp_households_total", 2019, 626)]), suite).findings) == 1
    assert len(run_suite(_warehouse(kostra, [], [("temp_households_total", 2019, 621)]), suite).findings) == 1


def test_care_cells_hide_up_to_four(suite):
    """A suppressed care cell (under 5 users) is 1 to 4: the seed's measure row wins over KOSTRA's '*'."""
    kostra = [("0301", 2019, "care_dwelling_residents", 500, None), ("1851", 2019, "care_dwelling_residents", None, ":")]
    assert run_suite(_warehouse(kostra, [], [("care_dwelling_residents", 2019, 504)]), suite).findings == []
    assert len(run_suite(_warehouse(kostra, [], [("care_dwelling_residents", 2019, 505)]), suite).findings) == 1
