"""The indicator warehouse end to end: the real demo pipeline builds the real dbt project on a real DuckDB
file once per session (the shared demo warehouse), and the published marts are checked — every indicator
there, group values recomputed as ratios of sums, national levels against published figures, a colour for every ambition,
the marts' contracts and documentation."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import yaml

from orchestration.serve.contract import duckdb_type
from repo_paths import REPO_ROOT
from shared_warehouse import demo_env

DBT_DIR = REPO_ROOT / "dbt_project"
MARTS_DIR = DBT_DIR / "models" / "marts"

QUANTITATIVE = {
    "social_assistance_without_housing", "temp_over_3_months", "temp_children", "temp_young", "dwellings_total",
    "turnover_rate", "new_dwellings_substance_mental", "rental_housing_grant_dwellings",
    "care_investment_grant_dwellings", "referral_agreement_dwellings", "wheelchair_share", "private_rental_guidance",
    "startlan_purchase", "startlan_children_share", "establishment_grant_children_share", "startlan_refinancing",
    "eviction_systems", "user_involvement_planning", "user_involvement_housing_projects", "complaints_board",
    "planning_housing_considerations",
}


@pytest.fixture(scope="module")
def warehouse(demo_warehouse):
    """A read-only connection to the session's demo warehouse (tests/e2e/conftest.py)."""
    con = demo_warehouse.connect()
    yield con
    con.close()


def rows(con, sql, params=None) -> list[tuple]:
    return con.execute(sql, params or []).fetchall()


def test_catalogue_has_21_quantitative_24_qualitative_and_15_goals(warehouse):
    kinds = dict(rows(warehouse, "select kind, count(*) from marts.dim_indicator group by kind"))
    assert kinds["quantitative"] == 21 and kinds["qualitative"] == 24
    assert {r[0] for r in rows(warehouse, "select indicator_id from marts.dim_indicator where kind = 'quantitative'")} \
        == QUANTITATIVE
    goals = rows(warehouse, "select count(*), sum(n_quantitative), sum(n_qualitative) from marts.dim_goal")[0]
    assert goals == (15, 21, 24)
    by_main = dict((m, (q, ql)) for m, q, ql in rows(warehouse, """
        select main_goal_id, sum(n_quantitative), sum(n_qualitative) from marts.dim_goal group by 1"""))
    assert by_main == {1: (16, 17), 2: (1, 2), 3: (4, 5)}  # report table 2.1


def test_all_21_indicators_have_values(warehouse):
    found = dict(rows(warehouse, """
        select indicator_id, count(value) from marts.fct_indicator_value
        where indicator_id in (select indicator_id from marts.dim_indicator where kind = 'quantitative')
        group by 1"""))
    missing = sorted(i for i in QUANTITATIVE if found.get(i, 0) == 0)
    assert not missing, f"indicators without a single value: {missing}"
    # own reporting covers the three reporting years, the rest the whole series
    years = dict((i, (lo, hi)) for i, lo, hi in rows(warehouse, """
        select indicator_id, min(year), max(year) from marts.fct_indicator_value where value is not null group by 1"""))
    assert years["eviction_systems"] == (2016, 2018)
    assert years["dwellings_total"] == (2008, 2025)


def test_extras_and_derived_series_present(warehouse):
    present = {r[0] for r in rows(warehouse, """
        select distinct indicator_id from marts.fct_indicator_value where value is not null""")}
    for indicator in ("temp_total", "dwellings_vacant", "dwellings_owned_share", "dwellings_rented_share",
                      "dwellings_private_disposal_share", "botid", "elderly_80plus_municipal_care_share",
                      "referral_dwellings", "disadvantaged_dwellings"):
        assert indicator in present, indicator


def test_fct_values_are_numerator_over_denominator(warehouse):
    bad = rows(warehouse, """
        select v.indicator_id, v.municipality_code, v.year, v.value, v.numerator, v.denominator
        from marts.fct_indicator_value v join marts.dim_indicator i using (indicator_id)
        where v.value is not null and abs(v.value - case when i.denominator_measure is null then v.numerator
                                                         else v.numerator / v.denominator * i.value_scale end)
                                      > 1e-9 * greatest(1, abs(v.value))
        limit 5""")
    assert not bad, bad
    # botid and gjennomstrømming are each other's inverse
    pairs = rows(warehouse, """
        select b.value, t.value from marts.fct_indicator_value b
        join marts.fct_indicator_value t using (municipality_code, year)
        where b.indicator_id = 'botid' and t.indicator_id = 'turnover_rate' and b.value is not null and t.value > 0""")
    assert pairs and all(math.isclose(b * t, 100, rel_tol=1e-9) for b, t in pairs)


@pytest.mark.parametrize("mart", ["fct_indicator_value", "fct_indicator_group_value", "rpt_municipality_profile"])
def test_a_published_value_lies_within_its_own_bounds(warehouse, mart):
    """A sum with a suppressed part is an interval; the known parts alone are never the value (statistics.md).
    Husbanken's '<4' parts used to leave the known part as the value, below its own lower bound."""
    bad = rows(warehouse, f"""
        select * from marts.{mart}
        where value is not null and (value < value_low - 1e-9 * greatest(1, abs(value))
                                     or value > value_high + 1e-9 * greatest(1, abs(value)))
        limit 3""")
    assert not bad, bad


def test_group_values_are_ratios_of_sums_recomputed_from_fct(warehouse):
    recomputed = rows(warehouse, """
        with members as (
            select v.*, m.size_class, m.in_programme_cohort, m.kostra_group_code, i.denominator_measure, i.value_scale
            from marts.fct_indicator_value v
            join marts.dim_indicator i using (indicator_id)
            join marts.dim_municipality m using (municipality_code, year)
            -- a known member: a value, or a zero denominator (it stays in the sums, statistics.md)
            where (v.value is not null or (v.numerator is not null and v.denominator = 0))
              and (i.coverage = 'all' or m.in_programme)
        ),
        groups as (
            select indicator_id, year, 'national' as group_type, 'all' as group_code, numerator, denominator,
                   denominator_measure, value_scale from members
            union all
            select indicator_id, year, 'size_class', size_class, numerator, denominator, denominator_measure, value_scale
            from members
            union all
            select v.indicator_id, v.year, 'programme', case when m.in_programme_cohort then 'in' else 'out' end,
                   v.numerator, v.denominator, i.denominator_measure, i.value_scale
            from intermediate.int_cohort_indicator_value v
            join marts.dim_indicator i using (indicator_id)
            join intermediate.int_cohort_municipality_year m using (municipality_code, year)
            -- a known member: a value, or a zero denominator (it stays in the sums, statistics.md)
            where (v.value is not null or (v.numerator is not null and v.denominator = 0))
              and (i.coverage = 'all' or m.in_programme)
            union all
            select indicator_id, year, 'kostra_group', kostra_group_code, numerator, denominator,
                   denominator_measure, value_scale from members where kostra_group_code is not null
        )
        select indicator_id, year, group_type, group_code,
               case when any_value(denominator_measure) is null then sum(numerator)
                    else sum(numerator) / sum(denominator) * any_value(value_scale) end as value,
               count(*) as n
        from groups group by 1, 2, 3, 4""")
    assert len(recomputed) > 1000
    published = {(i, y, t, c): (v, n) for i, y, t, c, v, n in rows(warehouse, """
        select indicator_id, year, group_type, group_code, value, n_municipalities
        from marts.fct_indicator_group_value""")}
    mismatches = []
    ssb_national = {(i, y, t, c) for i, y, t, c in rows(warehouse, """
        select indicator_id, year, group_type, group_code from marts.fct_indicator_group_value
        where numerator_source = 'ssb_national'""")}
    bounded = {(i, y, t, c): (lo, hi) for i, y, t, c, lo, hi in rows(warehouse, """
        select indicator_id, year, group_type, group_code, value_low, value_high from marts.fct_indicator_group_value
        where method = 'midpoint_of_bounds'""")}
    for indicator, year, group_type, group_code, value, n in recomputed:
        if (indicator, year, group_type, group_code) in ssb_national:
            continue  # SSB's national figure, checked in test_national_counts_use_ssb_national_figure
        if (key := (indicator, year, group_type, group_code)) in bounded:
            # suppressed members: the value is the midpoint of the bounds; the known part is their floor
            low, high = bounded[key]
            got = published.get(key)
            if got is None or got[1] != n or (got[0] is not None and not low - 1e-9 <= got[0] <= high + 1e-9):
                mismatches.append((indicator, year, group_type, group_code, value, n, got, low, high))
            continue
        got = published.get((indicator, year, group_type, group_code))
        if got is None or got[1] != n or not math.isclose(got[0], value, rel_tol=1e-9, abs_tol=1e-9):
            mismatches.append((indicator, year, group_type, group_code, value, n, got))
    assert not mismatches, mismatches[:5]


def test_group_value_is_not_an_average_of_ratios(warehouse):
    national, average = rows(warehouse, """
        select g.value, (select avg(value) from marts.fct_indicator_value v
                         where v.indicator_id = g.indicator_id and v.year = g.year and v.value is not null)
        from marts.fct_indicator_group_value g
        where g.indicator_id = 'wheelchair_share' and g.year = 2019 and g.group_type = 'national'""")[0]
    assert abs(national - average) > 0.1  # small municipalities would otherwise weigh as much as Oslo


def test_national_dwellings_match_published_figures(warehouse):
    national = dict(rows(warehouse, """
        select year, value from marts.fct_indicator_group_value
        where indicator_id = 'dwellings_total' and group_type = 'national' and year in (2008, 2019)"""))
    assert abs(national[2008] - 96_403) / 96_403 < 0.02
    assert abs(national[2019] - 108_000) / 108_000 < 0.02


def test_goal_attainment_has_a_colour_for_every_ambition(warehouse):
    result = rows(warehouse, """
        select a.indicator_id, a.period, a.status_colour, a.colour_rule, a.colour_reason, i.has_ambition, i.coverage,
               a.coverage
        from marts.rpt_goal_attainment a join marts.dim_indicator i using (indicator_id)""")
    ambitions = {r[0] for r in result if r[5]}
    assert QUANTITATIVE - {"rental_housing_grant_dwellings", "care_investment_grant_dwellings",
                           "user_involvement_planning", "user_involvement_housing_projects"} <= ambitions
    for indicator, period, colour, rule, reason, has_ambition, coverage, coverage_text in result:
        assert colour in {"green", "yellow", "red", "none"} and reason
        if has_ambition and period == "report":
            # a colour, unless the series is known to be unreliable in the period (young people before 2016)
            assert colour != "none" or rule == "unreliable_data", (indicator, rule, reason)
        if not has_ambition:
            assert (colour, rule) == ("none", "no_ambition")
        if coverage == "programme":
            assert "programkommunene" in coverage_text
    periods = {r[1] for r in result}
    assert periods == {"report", "strategy", "latest"}
    young = [r for r in result if r[0] == "temp_young" and r[1] == "report"][0]
    assert young[3] == "unreliable_data"


def test_programme_comparison_has_table_5_7_shape(warehouse):
    groups = rows(warehouse, """
        select group_label, shown_as from marts.rpt_programme_comparison
        where indicator_id = 'dwellings_total' and group_type in ('total', 'size_class_programme')""")
    labels = {g for g, _ in groups}
    assert labels == {"I alt", "Store med", "Store ikke med", "Mellomstore med", "Mellomstore ikke med",
                      "Små med", "Små ikke med"}
    assert {s for _, s in groups} == {"change_pct"}
    level = rows(warehouse, """select distinct shown_as from marts.rpt_programme_comparison
                               where indicator_id = 'wheelchair_share'""")
    assert level == [("level",)]


def test_programme_share_of_country(warehouse):
    shares = dict(rows(warehouse, """
        select series_id, programme_share_pct from marts.rpt_programme_share where year = 2019"""))
    assert 40 < shares["population"] < 90
    assert shares["population_80_plus"] < shares["population"] + 5
    # temporary accommodation concentrates in the programme's cities (report: 89 %)
    assert shares["temp_total"] > shares["population"]


def test_trend_break_per_kostra_indicator_and_size_class(warehouse):
    result = rows(warehouse, """
        select indicator_id, group_type, group_code, avg_annual_change_pre_pct, avg_annual_change_post_pct,
               verdict from marts.rpt_trend_break""")
    by_group = {(r[0], r[2]) for r in result}
    for code in ("all", "small", "medium", "large"):
        assert ("temp_total", code) in by_group
    temp = [r for r in result if r[0] == "temp_total" and r[2] == "all"][0]
    assert temp[3] is not None and temp[4] is not None
    assert temp[5] in {"break", "no break", "too noisy"}


def test_municipality_profile_sits_beside_its_peers(warehouse):
    row = rows(warehouse, """
        select value, size_class_value, kostra_group_value, national_value, compared_with_national
        from marts.rpt_municipality_profile
        where municipality_code = '0301' and year = 2019 and indicator_id = 'wheelchair_share'""")[0]
    assert all(v is not None for v in row)


def _contracts() -> dict[str, list[dict]]:
    out = {}
    for path in sorted(MARTS_DIR.rglob("*.yml")):  # marts/core and marts/reports
        for model in yaml.safe_load(path.read_text(encoding="utf-8")).get("models", []):
            out[model["name"]] = model
    return out


def test_mart_contracts_hold_and_every_column_is_documented(warehouse):
    contracts = _contracts()
    expected_marts = {"dim_municipality", "dim_goal", "dim_indicator", "fct_indicator_value",
                      "fct_indicator_group_value", "rpt_goal_attainment", "rpt_programme_comparison",
                      "rpt_programme_share", "rpt_trend_break", "rpt_municipality_profile",
                      "fct_answer_theme", "rpt_qualitative_summary", "rpt_qualitative_quotes",
                      "rpt_qualitative_unmatched"}
    assert expected_marts <= set(contracts)
    for name, model in contracts.items():
        assert model["config"]["contract"]["enforced"] is True, name
        assert model.get("description"), name
        # DuckDB names 'double precision' (the portable spelling both databases accept) 'DOUBLE'
        declared = [(c["name"], duckdb_type(c["data_type"])) for c in model["columns"]]
        for column in model["columns"]:
            assert column.get("description"), f"{name}.{column['name']} is not documented"
        actual = rows(warehouse, """select column_name, data_type from information_schema.columns
                                    where table_schema = 'marts' and table_name = ? order by ordinal_position""",
                      [name])
        assert [(c, duckdb_type(t)) for c, t in actual] == declared, name
    fct = [c for c, _ in rows(warehouse, """select column_name, data_type from information_schema.columns
                                             where table_schema = 'marts' and table_name = 'fct_indicator_value'
                                             order by ordinal_position""")]
    assert fct[:8] == ["indicator_id", "municipality_code", "year", "value", "numerator", "denominator",
                       "status_symbol", "vintage"]


def test_keys_and_relationships(warehouse):
    assert rows(warehouse, """select count(*) from (select indicator_id, municipality_code, year
                              from marts.fct_indicator_value group by all having count(*) > 1)""")[0][0] == 0
    assert rows(warehouse, """select count(*) from marts.fct_indicator_value v
                              where not exists (select 1 from marts.dim_municipality m
                                                where m.municipality_code = v.municipality_code and m.year = v.year)
                                 or not exists (select 1 from marts.dim_indicator i
                                                where i.indicator_id = v.indicator_id)""")[0][0] == 0
    # the reference structure: 357 municipalities (KLASS 2024), each in one size class per year
    assert rows(warehouse, "select count(distinct municipality_code) from marts.dim_municipality")[0][0] == 357
    assert rows(warehouse, "select count(*) from marts.dim_municipality where year = 2019 and size_class is null"
                )[0][0] == 0


SYNTHETIC_MARTS = ("fct_indicator_group_value", "rpt_goal_attainment", "rpt_programme_comparison",
                   "rpt_programme_share", "rpt_trend_break", "fct_answer_theme", "rpt_qualitative_summary",
                   "rpt_qualitative_quotes", "rpt_qualitative_unmatched")


def test_every_mart_row_from_demo_data_is_marked_synthetic(warehouse):
    for mart in SYNTHETIC_MARTS:
        columns = {c for (c,) in rows(warehouse, """select column_name from information_schema.columns
                                                    where table_schema = 'marts' and table_name = ?""", [mart])}
        assert "synthetic" in columns, mart
        total, marked = rows(warehouse, f"select count(*), count(*) filter (where synthetic) from marts.{mart}")[0]
        assert total > 0 and marked == total, (mart, total, marked)


def test_programme_cohort_is_the_reports_70_on_the_2019_structure(warehouse):
    members = dict(rows(warehouse, """
        select group_code, n_municipalities from marts.fct_indicator_group_value
        where indicator_id = 'dwellings_total' and year = 2019
          and group_type in ('programme', 'size_class_programme') and group_code like '%in'"""))
    assert members == {"in": 70, "large_in": 35, "medium_in": 31, "small_in": 4}  # report table 5.7
    comparison = dict(rows(warehouse, """
        select group_label, n_municipalities + n_missing from marts.rpt_programme_comparison
        where indicator_id = 'dwellings_total' and group_type in ('programme', 'size_class_programme')"""))
    assert (comparison["Med i programmet"], comparison["Store med"], comparison["Mellomstore med"],
            comparison["Små med"]) == (70, 35, 31, 4)
    # the share of the population straight from the 70 listed codes (their latest population as reported
    # on those codes, 31.12.2018; 31.12.2019 is published on the 2020 codes)
    direct = rows(warehouse, """
        with p as (
            select municipality_code, value from intermediate.int_measures_as_reported
            where measure = 'population_end_of_year' and year = 2018 and regexp_matches(municipality_code, '^[0-9]{4}$'))
        select sum(value) filter (where municipality_code in (
                   select municipality_code from staging.stg_programme__municipalities
                   where 2019 between coalesce(valid_from_year, 0) and coalesce(valid_to_year, 9999)))
               / sum(value) * 100
        from p""")[0][0]
    share, n = rows(warehouse, """select programme_share_pct, n_programme_municipalities from marts.rpt_programme_share
                                  where series_id = 'population' and year = 2019""")[0]
    assert n == 70 and abs(share - direct) < 1, (share, direct)


def test_national_counts_use_ssb_national_figure(warehouse):
    eak = rows(warehouse, """
        select value from intermediate.int_national_values_latest_release where measure = 'temp_households_total' and year = 2019""")
    national = rows(warehouse, """
        select numerator, value, numerator_source, n_missing, is_lower_bound from marts.fct_indicator_group_value
        where indicator_id = 'temp_total' and year = 2019 and group_type = 'national'""")[0]
    assert national[0] == national[1] == eak[0][0] and national[2] == "ssb_national" and not national[4]
    # the municipalities alone miss the suppressed cells: their sum is lower
    municipal = rows(warehouse, """select sum(numerator) from marts.fct_indicator_value
                                   where indicator_id = 'temp_total' and year = 2019""")[0][0]
    assert national[3] > 0 and municipal < national[0]


def test_changes_are_over_municipalities_with_values_in_both_years(warehouse):
    for mart in ("rpt_goal_attainment", "rpt_programme_comparison"):
        assert rows(warehouse, f"select count(*) from marts.{mart} where n_municipalities_matched is null")[0][0] == 0
    # temporary accommodation has suppressed cells: fewer municipalities match than report in the end year
    matched, reporting = rows(warehouse, """
        select n_municipalities_matched, n_municipalities from marts.rpt_programme_comparison
        where indicator_id = 'temp_total' and group_type = 'total'""")[0]
    assert 0 < matched <= reporting


def test_coverage_says_how_many_municipalities_contributed(warehouse):
    coverage = rows(warehouse, """select distinct coverage from marts.rpt_goal_attainment
                                  where indicator_id = 'disadvantaged_dwellings'""")
    assert len(coverage) == 1 and coverage[0][0].endswith("av 357 kommuner (KMD-undersøkelsen)"), coverage
    assert rows(warehouse, """select distinct coverage from marts.rpt_goal_attainment
                              where indicator_id = 'dwellings_total'""") == [("Alle kommuner",)]


def test_harmonisation_on_real_merges_and_splits(warehouse):
    """Real KLASS cases: Sandnes + Forsand (2020 merge), Tysfjord (2020 split), Ålesund (2024 split)."""
    def harmonised(code, year, measure="dwellings_total"):
        return rows(warehouse, """select value, split_flag, reported_codes from intermediate.int_measures_harmonised
                                  where municipality_code = ? and year = ? and measure = ?""", [code, year, measure])

    def reported(code, year, measure="dwellings_total"):
        return rows(warehouse, """select value from intermediate.int_measures_as_reported
                                  where municipality_code = ? and year = ? and measure = ?""",
                    [code, year, measure])[0][0]

    # merge: 2019's 1102 Sandnes and 1129 Forsand add up to today's 1108 Sandnes
    [(value, split_flag, codes)] = harmonised("1108", 2019)
    assert value == reported("1102", 2019) + reported("1129", 2019) and not split_flag
    assert set(codes.split(",")) >= {"1102", "1129"}
    # split: 2019's 1850 Tysfjord is allocated over 1806 Narvik and 1875 Hamarøy, both flagged
    narvik, hamaroy = harmonised("1806", 2019)[0], harmonised("1875", 2019)[0]
    assert narvik[1] and hamaroy[1]
    # split: 2023's 1507 Ålesund went to 1508 Ålesund and 1580 Haram in 2024; nothing is lost
    total = sum(harmonised(code, 2023)[0][0] for code in ("1508", "1580"))
    assert math.isclose(total, reported("1507", 2023), rel_tol=1e-9)
    assert harmonised("1580", 2023)[0][1] is True
    # ratios are recomputed from harmonised numerator and denominator, not averaged
    [(numerator, denominator, value)] = rows(warehouse, """
        select numerator, denominator, value from marts.fct_indicator_value
        where indicator_id = 'dwellings_per_1000' and municipality_code = '1108' and year = 2019""")
    assert numerator == harmonised("1108", 2019)[0][0]
    assert math.isclose(value, numerator / denominator * 1000)


def test_the_quick_start_query_is_the_one_the_summary_prints_and_it_answers(warehouse):
    from orchestration.cli import GOAL_QUERY

    assert GOAL_QUERY in (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    rows = warehouse.execute(GOAL_QUERY).fetchall()
    assert len(rows) == warehouse.execute(
        "select count(*) from marts.rpt_goal_attainment where period = 'latest'").fetchone()[0] > 20
    assert all(r[-1] is True for r in rows)  # the demo's rows say they are synthetic


def test_dbt_docs_generate_documents_the_marts(warehouse, demo_warehouse, tmp_path, capsys):
    """`boligsosial dbt-docs` (make docs): every mart column documented, and the pipeline's manifest untouched —
    the docs' manifest names another database in every node, which would make the next run rebuild them all."""
    import hashlib
    import json

    from orchestration.cli import dbt_docs
    from orchestration.project import MANIFEST_PATH, ensure_manifest

    def pipeline_manifest() -> str:
        return hashlib.sha256(ensure_manifest().read_bytes()).hexdigest()

    before = pipeline_manifest()
    target = tmp_path / "docs"
    with demo_env(demo_warehouse.base):
        assert dbt_docs(target) == 0
    assert f"dbt docs: {target / 'index.html'}" in capsys.readouterr().out
    assert hashlib.sha256(MANIFEST_PATH.read_bytes()).hexdigest() == before
    catalog = json.loads((target / "catalog.json").read_text())
    manifest = json.loads((target / "manifest.json").read_text())
    marts = [n for n in manifest["nodes"].values() if n["resource_type"] == "model" and n["schema"] == "marts"]
    # 10 indicator marts, the dwelling-register marts (issue 18), 4 qualitative (issue 15)
    assert len(marts) == 10 + len(REGISTER_MARTS) + 4
    for node in marts:
        columns = catalog["nodes"][node["unique_id"]]["columns"]
        undocumented = [c for c in columns if not node["columns"].get(c, {}).get("description")]
        assert not undocumented, f"{node['name']}: {undocumented}"


# --- dwelling registers (issue 18): the demo registers fill the register marts -----------------------------

REGISTER_MARTS = ("rpt_dwelling_target_groups", "rpt_target_group_turnover", "rpt_elderly_offer")


def test_register_marts_are_filled_from_the_demo_registers_and_agree_with_the_generators_truth(warehouse, demo_world):
    from tools.demo_data import dwelling_register_files as demo

    for name in REGISTER_MARTS:
        model = yaml.safe_load((MARTS_DIR / "reports" / f"{name}.yml").read_text(encoding="utf-8"))["models"][0]
        assert model["config"]["contract"]["enforced"] is True and all(c.get("description") for c in model["columns"])
        total, marked = rows(warehouse, f"select count(*), count(*) filter (where synthetic) from marts.{name}")[0]
        assert total > 0 and marked == total, name
    truth = demo.register_truth(demo_world)
    running = truth[truth.tenancy_start.notna() & truth.tenancy_end.isna()]
    vacant = truth[truth.tenancy_start.isna()]
    for (code, year), frame in running.groupby(["municipality_code", truth.reference_date.map(lambda d: d.year)]):
        expected = frame.groupby(["target_group", "age_band"]).size()
        for (group, age), n in expected.items():
            got = rows(warehouse, """select dwellings, dwellings_low, dwellings_high from marts.rpt_dwelling_target_groups
                where level = 'municipality' and unit_code = ? and year = ? and breakdown = 'age_band'
                and target_group = ? and category = ?""", [code, year, group, age])
            assert got == [(n, n, n)] if n >= 3 else got == [(None, 1, 2)], (code, year, group, age, n, got)
        n_vacant = len(vacant[(vacant.municipality_code == code) & (vacant.reference_date.map(lambda d: d.year) == year)])
        got = rows(warehouse, """select sum(dwellings_low), sum(dwellings_high) from marts.rpt_dwelling_target_groups
            where level = 'municipality' and unit_code = ? and year = ? and breakdown = 'age_band'
            and category = 'ingen_beboer'""", [code, year])[0]
        assert got[0] <= n_vacant <= got[1]
    # five municipalities delivered both years; the all-deliverers level says so
    assert rows(warehouse, """select distinct year, n_municipalities_delivered from marts.rpt_target_group_turnover
                              where level = 'delivering_municipalities' order by 1""") == [(2023, 5), (2024, 5)]
    # the fødselsnummer file was refused, logged without being stored; its rows are nowhere
    log = rows(warehouse, "select status, landed_path, message from raw.load_log where original_name like '%med_fnr%'")
    assert [r[0] for r in log] == ["refused"] and "Fødselsnummer" in log[0][2] and log[0][1].startswith("(not stored")
    # the planted deviation (a 2024 register without its innleide dwellings) is a quality finding
    code, year = demo.planted_deviation(demo_world)
    assert rows(warehouse, """select count(*) from quality.findings where kind = 'dwelling_register_kostra'
                              and municipality_code = ? and year = ? and measure = 'dwellings_total'""", [code, year])[0][0] == 1
