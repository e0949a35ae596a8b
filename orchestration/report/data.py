"""Everything the report shows, read from the published warehouse read-only, for one statistics year.

The report computes nothing the marts compute: colours, changes, ratios of sums, shares and trend verdicts
come from the marts as they are. A warehouse built before a mart existed (marts.rpt_qualitative_summary,
rpt_programme_comparison, …) still gets its report, with a note where that mart's section would be.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from orchestration.warehouse import relation_exists as warehouse_relation_exists

# Units that are counts: a municipality's count beside the country's says nothing (statistics.md), so the
# municipality pages compare rates only.
COUNT_UNITS = {"boliger", "husstander", "personer"}
# Own-reported yes/no answers: one municipality's value is 0 or 100, shown as Ja/Nei, not as a curve.
YES_NO_UNIT = "prosent ja"

SIZE_CLASS_LABELS = {"small": "Liten (under 5 000 innb.)", "medium": "Mellomstor (5 000–19 999 innb.)",
                     "large": "Stor (20 000 innb. og flere)"}
PERIOD_LABELS = {"latest": "siste tilgjengelige år", "report": "rapportens periode",
                 "strategy": "strategiperioden"}


class ReportDataError(RuntimeError):
    """The warehouse cannot give a report (not published yet, or the year asked for has no data)."""


@dataclass
class ReportData:
    year: int
    years: list[int]
    latest_year: int
    synthetic: bool
    warehouse_path: str
    warehouse_published_at: str
    indicators: pd.DataFrame
    goals: pd.DataFrame
    colour_rules: pd.DataFrame
    attainment: pd.DataFrame
    attainment_period: str
    attainment_note: str | None
    comparison: pd.DataFrame
    shares: pd.DataFrame
    group_series: pd.DataFrame
    trend: pd.DataFrame
    qualitative: pd.DataFrame | None
    findings: pd.DataFrame
    municipalities: pd.DataFrame
    municipalities_previous: pd.DataFrame
    profile: pd.DataFrame
    notes: list[str] = field(default_factory=list)


def relation_exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return warehouse_relation_exists(con, f"{schema}.{table}")


def available_years(con: duckdb.DuckDBPyConnection) -> list[int]:
    """Statistics years with at least one municipal value."""
    return [r[0] for r in con.execute(
        "select distinct year from marts.rpt_municipality_profile where value is not null order by year").fetchall()]


def choose_attainment_period(periods: pd.DataFrame, year: int, latest_year: int) -> tuple[str, str | None]:
    """Which of rpt_goal_attainment's periods answers for `year`: the latest for the latest year, the
    report's or the strategy's period when it ends in `year`; otherwise the latest, and say so."""
    ends = dict(zip(periods["period"], periods["period_end_year"]))
    if year == latest_year and "latest" in ends:
        return "latest", None
    for name in ("report", "strategy"):
        if ends.get(name) == year:
            return name, None
    fallback = "latest" if "latest" in ends else next(iter(ends), "latest")
    return fallback, (f"Måloppnåelse beregnes i lageret for periodene {', '.join(sorted(ends))} "
                      f"(dbt-variablene report_period_*, strategy_period_*, latest_period_start); ingen slutter i "
                      f"{year}, så tabellene viser perioden «{PERIOD_LABELS.get(fallback, fallback)}».")


def load(warehouse: Path, year: int | None = None) -> ReportData:
    if not warehouse.exists():
        raise ReportDataError(f"no published warehouse at {warehouse}: run `make demo` first")
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return _load(con, warehouse, year)
    finally:
        con.close()


def _load(con: duckdb.DuckDBPyConnection, warehouse: Path, year: int | None) -> ReportData:
    for table in ("rpt_goal_attainment", "rpt_municipality_profile", "dim_municipality", "dim_indicator"):
        if not relation_exists(con, "marts", table):
            raise ReportDataError(f"marts.{table} is missing in {warehouse}: run `make demo` first")
    years = available_years(con)
    if not years:
        raise ReportDataError(f"{warehouse} has no indicator values yet")
    latest = years[-1]
    year = latest if year is None else int(year)
    if year not in years:
        raise ReportDataError(f"no data for {year}: the warehouse has {years[0]}–{latest}")
    notes: list[str] = []

    def df(sql: str, params: list | None = None) -> pd.DataFrame:
        return con.execute(sql, params or []).df()

    indicators = df("select * from marts.dim_indicator order by main_goal_id, goal_id, indicator_id")
    goals = df("select * from marts.dim_goal order by goal_id")
    colour_rules = (df("select * from catalogue.colour_rules order by rule_order")
                    if relation_exists(con, "catalogue", "colour_rules") else pd.DataFrame())

    periods = df("select period, max(period_end_year) as period_end_year from marts.rpt_goal_attainment group by 1")
    period, period_note = choose_attainment_period(periods, year, latest)
    attainment = df("""
        select g.*, i.name_no, i.kind, i.goal_id, i.goal_name_no, i.main_goal_id, i.main_goal_name_no, i.unit,
               i.source, i.report_label, i.quality_note, n.is_lower_bound as national_is_lower_bound,
               a.is_lower_bound as assessed_is_lower_bound,
               (select bool_or(c.is_lower_bound) from marts.fct_indicator_group_value c
                where c.indicator_id = g.indicator_id and c.group_type = 'national'
                  and c.year between g.baseline_year and coalesce(g.assessed_year, g.end_year))
                 as cumulative_is_lower_bound
        from marts.rpt_goal_attainment g
        join marts.dim_indicator i using (indicator_id)
        left join marts.fct_indicator_group_value n
          on n.indicator_id = g.indicator_id and n.year = g.end_year and n.group_type = 'national'
        left join marts.fct_indicator_group_value a  -- a target year's level is judged there (assessed_year)
          on a.indicator_id = g.indicator_id and a.year = g.assessed_year and a.group_type = 'national'
        where g.period = ?
        order by i.main_goal_id, i.goal_id, i.kind desc, i.indicator_id""", [period])

    comparison = (df("select * from marts.rpt_programme_comparison")
                  if relation_exists(con, "marts", "rpt_programme_comparison") else pd.DataFrame())
    shares = (df("select * from marts.rpt_programme_share where year <= ? order by series_id, year", [year])
              if relation_exists(con, "marts", "rpt_programme_share") else pd.DataFrame())
    group_series = df("""
        select indicator_id, year, group_type, group_code, value, n_municipalities, n_missing, is_lower_bound
        from marts.fct_indicator_group_value
        where group_type in ('national', 'size_class', 'size_class_programme') and year <= ?
        order by indicator_id, group_type, group_code, year""", [year])
    trend = (df("select * from marts.rpt_trend_break")
             if relation_exists(con, "marts", "rpt_trend_break") else pd.DataFrame())

    qualitative = None
    if relation_exists(con, "marts", "rpt_qualitative_summary"):
        qualitative = df("select * from marts.rpt_qualitative_summary")
        if "year" in qualitative.columns and len(qualitative):
            shown = qualitative.loc[qualitative["year"] <= year, "year"]
            qualitative = qualitative[qualitative["year"] == shown.max()] if len(shown) else qualitative.iloc[0:0]

    findings = _open_findings(con)

    municipalities = df("select * from marts.dim_municipality where year = ? order by municipality_code", [year])
    previous = df("select * from marts.dim_municipality where year = ? order by municipality_code", [year - 1])
    profile = df("""
        select municipality_code, year, indicator_id, value, numerator, denominator, status_symbol,
               size_class_value, kostra_group_value, national_value, compared_with_national
        from marts.rpt_municipality_profile where year <= ?""", [year])

    synthetic = bool(con.execute("select coalesce(bool_or(synthetic), false) from marts.dim_municipality").fetchone()[0]
                     or con.execute("select coalesce(bool_or(synthetic), false) from marts.rpt_goal_attainment")
                     .fetchone()[0])
    published = dt.datetime.fromtimestamp(warehouse.stat().st_mtime).strftime("%d.%m.%Y %H:%M")
    return ReportData(
        year=year, years=years, latest_year=latest, synthetic=synthetic, warehouse_path=str(warehouse),
        warehouse_published_at=published, indicators=indicators, goals=goals, colour_rules=colour_rules,
        attainment=attainment, attainment_period=period, attainment_note=period_note,
        comparison=comparison, shares=shares, group_series=group_series, trend=trend, qualitative=qualitative,
        findings=findings, municipalities=municipalities, municipalities_previous=previous, profile=profile,
        notes=notes)


def _open_findings(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Open findings, each with the reference-structure municipalities it concerns (a finding on an old
    code, e.g. 0105 Sarpsborg, belongs on today's 3105 page)."""
    if not relation_exists(con, "quality", "findings"):
        return pd.DataFrame(columns=["finding_id", "reference_code"])
    findings = con.execute("""
        select * from quality.findings where status = 'open'
        order by case severity when 'ERROR' then 0 else 1 end, kind, municipality_code, year""").df()
    crosswalk_table = next((f"{s}.{t}" for s, t in (("reference", "municipality_crosswalk"),
                                                     ("intermediate", "int_municipality_crosswalk"))
                            if relation_exists(con, s, t)), None)
    if crosswalk_table:
        crosswalk = con.execute(f"select distinct reported_code, reference_code from {crosswalk_table}").df()
        findings = findings.merge(crosswalk, how="left", left_on="municipality_code", right_on="reported_code")
        findings["reference_code"] = findings["reference_code"].fillna(findings["municipality_code"])
        findings = findings.drop(columns=["reported_code"])
    else:
        findings["reference_code"] = findings["municipality_code"]
    return findings
