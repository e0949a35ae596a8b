"""The register marts on a small warehouse with known truth: the real dbt models (dbt build of the
register staging model and everything downstream) over a raw table written by hand, with the three
inputs from other sources (municipality year, KOSTRA values, national values: intermediate models) as small tables.

The world (reference date 31.12.2024):
  0301 (large, 80+ = 1000):  4 omsorgsboliger eldre 80+ since 2020; 1 omsorgsbolig eldre 67-79 moved in
        1.3.2024 (its previous tenant, eldre 80+, lived there 1.3.2019–1.2.2024); 2 utleieboliger flyktninger
        30-66 moved in 1.5. and 1.6.2024; 1 vacant utleiebolig meant for flyktninger.
  1106 (large, 80+ = 500):   3 omsorgsboliger eldre 80+ since 2015; 3 utleieboliger flyktninger 30-66 moved
        in 1.2., 1.3., 1.4.2024.
  3412 (small, 80+ = 100):   1 aldersbolig eldre 80+ since 2010.
Every expected figure below is worked from this list by hand, with cells of 1–2 suppressed per municipality.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

ROOT = Path(__file__).resolve().parents[2]
REF = dt.date(2024, 12, 31)


def row(code, dwelling, dtype, status, group, age, start, end=None, owner="eid", wheel=False, unit="tjenestekontor"):
    return (code, REF, 2024, dwelling, dtype, owner, wheel, status, group, age, unit if start else None,
            start, end, "test.xlsx", 2, dt.datetime(2025, 1, 10), False)


def world() -> list[tuple]:
    d = dt.date
    rows = [row("0301", f"O-{i}", "omsorgsbolig", "bebodd", "eldre", "80_plus", d(2020, 1, 1), wheel=True) for i in range(4)]
    rows += [row("0301", "O-5", "omsorgsbolig", "bebodd", "eldre", "67_79", d(2024, 3, 1)),
             row("0301", "O-5", "omsorgsbolig", "bebodd", "eldre", "80_plus", d(2019, 3, 1), d(2024, 2, 1)),
             row("0301", "O-6", "kommunal_utleiebolig", "bebodd", "flyktninger", "30_66", d(2024, 5, 1), unit="nav"),
             row("0301", "O-7", "kommunal_utleiebolig", "bebodd", "flyktninger", "30_66", d(2024, 6, 1), unit="nav"),
             row("0301", "O-8", "kommunal_utleiebolig", "ledig", "flyktninger", None, None)]
    rows += [row("1106", f"H-{i}", "omsorgsbolig", "bebodd", "eldre", "80_plus", d(2015, 1, 1)) for i in range(3)]
    rows += [row("1106", f"H-{i + 3}", "kommunal_utleiebolig", "bebodd", "flyktninger", "30_66", d(2024, m, 1), unit="nav")
             for i, m in enumerate((2, 3, 4))]
    rows += [row("3412", "L-1", "aldersbolig", "bebodd", "eldre", "80_plus", d(2010, 1, 1))]
    return rows


@pytest.fixture(scope="module")
def marts(tmp_path_factory):
    base = tmp_path_factory.mktemp("register_marts")
    db = base / "w.duckdb"
    con = duckdb.connect(str(db))
    con.execute("create schema raw; create schema intermediate")
    con.execute("""create table raw.dwelling_register (municipality_code varchar, reference_date date, reference_year integer,
        dwelling_id varchar, dwelling_type varchar, ownership varchar, wheelchair_accessible boolean, status varchar,
        target_group varchar, age_band varchar, allocating_unit varchar, tenancy_start date, tenancy_end date,
        source_file varchar, row_number integer, received_at timestamp, synthetic boolean)""")
    con.executemany("insert into raw.dwelling_register values (" + ", ".join(["?"] * 17) + ")", world())
    con.execute("create view raw.dwelling_register_current as select * from raw.dwelling_register")
    con.execute("""create table intermediate.int_municipality_year as select * from (values
        ('0301', 2024, 'Oslo', 'large', 700000, 1000), ('1106', 2024, 'Haugesund', 'large', 38000, 500),
        ('3412', 2024, 'Løten', 'small', 4000, 100), ('5001', 2024, 'Trondheim', 'large', 210000, 9000))
        t(municipality_code, year, municipality_name, size_class, population, population_80_plus)""")
    con.execute("""create table intermediate.int_kostra_values_latest_release as select * from (values
        ('0301', 2024, 'dwellings_total', 20.0, null), ('0301', 2024, 'dwellings_vacant', 1.0, null),
        ('1106', 2024, 'dwellings_total', 6.0, null), ('1106', 2024, 'households_newly_moved_in', 3.0, null),
        ('3412', 2024, 'dwellings_wheelchair', null, ':'))
        t(municipality_code, year, measure, value, status_symbol)""")
    con.execute("""create table intermediate.int_national_values_latest_release as select * from (values
        ('residents_80plus_municipal_dwellings', 2024, 318.0), ('residents_80plus_nursing_homes', 2024, 1060.0))
        t(measure, year, value)""")
    con.close()
    out = subprocess.run(
        [str(Path(sys.executable).with_name("dbt")), "build", "--select", "stg_dwelling_register__tenancies+",
         "--project-dir", str(ROOT / "dbt_project"), "--profiles-dir", str(ROOT / "dbt_project"),
         "--target-path", str(base / "target"), "--log-path", str(base / "logs")],
        capture_output=True, text=True, env={**os.environ, "BOLIGSOSIAL_DBT_DATABASE": str(db)})
    assert out.returncode == 0, out.stdout[-4000:]
    con = duckdb.connect(str(db), read_only=True)
    yield con
    con.close()


def one(con, sql, *params):
    rows = con.execute(sql, list(params)).fetchall()
    assert len(rows) == 1, rows
    return rows[0]


TG = ("select dwellings, dwellings_low, dwellings_high, is_suppressed, n_municipalities_delivered "
      "from marts.rpt_dwelling_target_groups where level = ? and unit_code = ? and breakdown = ? and target_group = ? "
      "and category = ? and year = 2024")


def test_municipal_cells_are_suppressed_below_three(marts):
    assert one(marts, TG, "municipality", "0301", "age_band", "eldre", "80_plus") == (4, 4, 4, False, 1)
    assert one(marts, TG, "municipality", "0301", "age_band", "eldre", "67_79") == (None, 1, 2, True, 1)
    assert one(marts, TG, "municipality", "0301", "age_band", "flyktninger", "30_66") == (None, 1, 2, True, 1)
    # a combination another municipality has is an exact 0 here, not missing
    assert one(marts, TG, "municipality", "3412", "age_band", "flyktninger", "30_66") == (0, 0, 0, False, 1)


def test_sums_carry_suppressed_cells_as_bounds_and_say_how_many_delivered(marts):
    # eldre 80+: 4 (0301) + 3 (1106) + suppressed 1 (3412) → [8, 9], no value
    assert one(marts, TG, "delivering_municipalities", "all", "age_band", "eldre", "80_plus") == (None, 8, 9, True, 3)
    # flyktninger 30-66: suppressed 2 (0301) + 3 (1106) → [4, 5]
    assert one(marts, TG, "delivering_municipalities", "all", "age_band", "flyktninger", "30_66") == (None, 4, 5, True, 3)
    # the large class (0301, 1106) has eldre 80+ 4 + 3 = 7 exactly; the small class (one deliverer) is not published
    assert one(marts, TG, "size_class", "large", "age_band", "eldre", "80_plus") == (7, 7, 7, False, 2)
    assert marts.execute("select count(*) from marts.rpt_dwelling_target_groups where unit_code = 'small'").fetchone()[0] == 0


def test_allocating_unit_and_vacancy_by_group(marts):
    assert one(marts, TG, "municipality", "1106", "allocating_unit", "flyktninger", "nav") == (3, 3, 3, False, 1)
    # 0301's vacant dwelling is meant for flyktninger: one cell of 1, suppressed
    assert one(marts, TG, "municipality", "0301", "status", "flyktninger", "ledig") == (None, 1, 2, True, 1)
    # the share of 1106's flyktninger dwellings that are occupied: 3 of 3
    share = one(marts, "select share_of_group_pct_low, share_of_group_pct_high from marts.rpt_dwelling_target_groups "
                "where level = 'municipality' and unit_code = '1106' and breakdown = 'status' and target_group = "
                "'flyktninger' and category = 'bebodd'")
    assert share == (100.0, 100.0)


TURN = ("select dwellings_used, dwellings_used_low, dwellings_used_high, households_moved_in, households_moved_in_low, "
        "households_moved_in_high, turnover_pct, turnover_pct_low, turnover_pct_high, estimated_tenure_years "
        "from marts.rpt_target_group_turnover where level = ? and unit_code = ? and target_group = ? and year = 2024")


def test_turnover_is_moved_in_over_dwellings_used(marts):
    # 1106 flyktninger: 3 moved in, 3 dwellings used → 100 %, tenure 1 year
    assert one(marts, TURN, "municipality", "1106", "flyktninger") == (3, 3, 3, 3, 3, 3, 100.0, 100.0, 100.0, 1.0)
    # 1106 eldre: 3 used, nobody moved in → 0 %, tenure undefined
    assert one(marts, TURN, "municipality", "1106", "eldre")[:9] == (3, 3, 3, 0, 0, 0, 0.0, 0.0, 0.0)


def test_turnover_over_suppressed_parts_is_an_interval(marts):
    # flyktninger, all deliverers: used [2 supp + 3] = [4, 5], moved [4, 5] → [4/5, 5/4] = [80 %, 125 %]
    assert one(marts, TURN, "delivering_municipalities", "all", "flyktninger") == (None, 4, 5, None, 4, 5, None, 80.0, 125.0, None)
    # eldre, large class: used 5 (0301) + 3 (1106) = 8 exact, moved 1 (0301, suppressed) → [1, 2] → [12.5 %, 25 %]
    assert one(marts, TURN, "size_class", "large", "eldre") == (8, 8, 8, None, 1, 2, None, 12.5, 25.0, None)


def test_median_tenancy_lengths(marts):
    # 1106 flyktninger running since 1.2., 1.3., 1.4.2024 → 334, 305, 275 days to 31.12 → median 305/365.25 = 0.84
    got = one(marts, "select median_running_tenancy_years, median_completed_tenancy_years, completed_tenancies "
              "from marts.rpt_target_group_turnover where level = 'municipality' and unit_code = '1106' "
              "and target_group = 'flyktninger'")
    assert got == (0.8, None, 0)
    # 0301 eldre: one completed tenancy (below 3: no median), running 4 × since 1.1.2020 and 1 since 1.3.2024
    got = one(marts, "select median_running_tenancy_years, median_completed_tenancy_years, completed_tenancies "
              "from marts.rpt_target_group_turnover where level = 'municipality' and unit_code = '0301' and target_group = 'eldre'")
    assert got == (5.0, None, None)  # 1827 days → 5.0 years; one completed tenancy is a suppressed cell


def test_elderly_offer_and_the_national_80_plus_shares(marts):
    got = one(marts, "select eldre_households, eldre_households_low, eldre_households_high, all_households_low, "
              "all_households_high, population_80_plus, share_of_80plus_pct_low, share_of_80plus_pct_high, "
              "national_80plus_municipal_dwellings_pct, national_80plus_nursing_homes_pct from marts.rpt_elderly_offer "
              "where level = 'delivering_municipalities' and dwelling_type = 'alle' and age_band = '80_plus'")
    # 80+ households: omsorgsbolig 4 + 3 = 7 exact, aldersbolig 1 (suppressed) → [8, 9] of 1600 over 80 →
    # [0.5 %, 0.5625 %]; nationally 318 and 1060 of the 10 600 over 80 in int_municipality_year → 3 % and 10 %
    assert got == (None, 8, 9, 8, 9, 1600, 0.5, 0.56, 3.0, 10.0)
    got = one(marts, "select eldre_households, all_households from marts.rpt_elderly_offer where level = 'municipality' "
              "and unit_code = '0301' and dwelling_type = 'omsorgsbolig' and age_band = '80_plus'")
    assert got == (4, 4)


def test_register_against_kostra(marts):
    got = dict(((m, c), (r, k, rel)) for m, c, r, k, rel in marts.execute(
        "select measure, municipality_code, register_value, kostra_value, rel_pct "
        "from intermediate.int_register_kostra_compared where year = 2024").fetchall())
    assert got[("dwellings_total", "0301")] == (8.0, 20.0, -60.0)
    assert got[("dwellings_vacant", "0301")] == (1.0, 1.0, 0.0)
    assert got[("households_newly_moved_in", "1106")] == (3.0, 3.0, 0.0)
    assert got[("households_newly_moved_in", "0301")] == (3.0, None, None)   # KOSTRA has no figure
    assert got[("dwellings_wheelchair", "0301")][0] == 4.0
    assert got[("dwellings_wheelchair", "3412")] == (0.0, None, None)        # suppressed in KOSTRA: not compared


def test_no_row_level_data_is_published(marts):
    columns = {c for (c,) in marts.execute(
        "select column_name from information_schema.columns where table_schema = 'marts'").fetchall()}
    assert not columns & {"dwelling_id", "tenancy_start", "tenancy_end", "true_count"}
