"""Write `reports/<year>/`: `index.html` (the main report and the municipality finder), `kommune/<code>.html`
for every municipality of the current structure, and `rapport-<year>.pdf` when Chromium is there.

Jinja2 renders with autoescaping on: names and free text from the reports and the findings are escaped.
The municipality pages are drawn in a small process pool (one reused matplotlib figure per process).
"""

from __future__ import annotations

import datetime as dt
import math
import os
import re
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

import jinja2
import pandas as pd

from orchestration import settings
from orchestration.report import charts
from orchestration.report.data import (COUNT_UNITS, PERIOD_LABELS, SIZE_CLASS_LABELS, YES_NO_UNIT, ReportData,
                                       load)

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"

STATUS = {  # colour → (Norwegian label, symbol): the colour is never the only carrier of the verdict
    "green": ("Grønn", "✔"), "yellow": ("Gul", "▲"), "red": ("Rød", "✖"), "none": ("Ingen farge", "–")}
RULE_LABELS = {"met": "nådd", "right_direction_not_met": "riktig vei, ikke nådd", "wrong_direction": "feil vei",
               "far_off": "langt unna", "no_ambition": "ingen ambisjon", "unreliable_data": "upålitelig serie",
               "missing_data": "mangler tall", "near_target": "like under målet"}
TREND_LABELS = {"reversal": "Trendbrudd: snudd", "acceleration": "Trendbrudd: raskere",
                "slowdown": "Trendbrudd: langsommere", "none": "Ingen trendbrudd"}
# rpt_trend_break.verdict: 'break' is told by its kind above; the other verdicts say why there is no kind
VERDICT_LABELS = {"no break": "Ingen trendbrudd", "too noisy": "For usikkert til å si"}
DIRECTION_LABELS = {"up": "opp", "down": "ned", "flat": "flat"}
GROUP_LABELS = {"all": "Landet", "large": "Store", "medium": "Mellomstore", "small": "Små"}
SYMBOLS = {":": "skjult (prikket) av SSB: få enheter", "..": "ikke tilgjengelig", ".": "ikke aktuelt",
           "-": "null", "x": "skjult"}
COMPARED = {"better": "bedre enn landet", "worse": "svakere enn landet", "same": "som landet",
            "uncertain": "usikkert (overlapper landet)"}
TABLE_57_COLUMNS = [("total", "all", "all"), ("size_class_programme", "large", "in"),
                    ("size_class_programme", "large", "out"), ("size_class_programme", "medium", "in"),
                    ("size_class_programme", "medium", "out"), ("size_class_programme", "small", "in"),
                    ("size_class_programme", "small", "out")]
TABLE_57_HEADINGS = ["I alt", "Store med", "Store ikke med", "Mellomstore med", "Mellomstore ikke med", "Små med",
                     "Små ikke med"]
SYNTHETIC_MARK = "SYNTETISKE DEMODATA"
# codes of the marts and the follow-up register, in the report's language (a code not listed is shown as it is)
SOURCE_LABELS = {"own reporting": "kommunenes egenrapportering"}  # dim_indicator.source
FOLLOWUP_LABELS = {"new": "ny", "contacted": "kontaktet", "explained": "forklart", "resolved": "løst"}
SEVERITY_LABELS = {"WARNING": "advarsel", "ERROR": "feil"}
APPLIES_LABELS = {"every ambition": "alle ambisjoner",  # seeds/colour_rules.csv applies_to
                  "every ambition except cumulative_min": "alle ambisjoner unntatt kumulative (cumulative_min)"}
QUALITATIVE_SIZE_COLUMNS = [("large", "Store"), ("medium", "Mellomstore"), ("small", "Små"),
                            ("unknown", "Ukjent størrelse")]
# the figures macros/colour_rule.sql writes into colour_reason: «endring %+.1f %%», «nivå %.1f», «kumulert %.0f»
_OBSERVED = re.compile(r"\b(endring|nivå|kumulert) ([+-]?)(\d+(?:\.\d+)?)( %)?")


def reports_dir() -> Path:
    """`BOLIGSOSIAL_REPORTS`; else `reports/` in the checkout, or beside a warehouse moved elsewhere
    (tests and deployments that move the warehouse keep their reports with it)."""
    if os.environ.get("BOLIGSOSIAL_REPORTS"):
        return Path(os.environ["BOLIGSOSIAL_REPORTS"]).expanduser().resolve()
    if os.environ.get("BOLIGSOSIAL_WAREHOUSE"):
        return settings.warehouse_path().parent / "reports"
    return settings.PROJECT_ROOT / "reports"


@dataclass
class ReportResult:
    year: int
    directory: Path
    index: Path
    municipality_pages: int
    pdf: Path | None
    pdf_note: str | None
    seconds: float
    synthetic: bool
    timings: dict[str, float] = field(default_factory=dict)


# ---------------------------------------------------------------- formatting (also Jinja filters)

def _missing(value) -> bool:
    """None, NaN, NA and NaT alike (the marts' nulls arrive as any of them through pandas)."""
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # lists and other non-scalars are values
        return False


def decimals_for(unit: str | None) -> int:
    return 0 if (unit or "") in COUNT_UNITS else 1


def fmt_number(value, decimals: int = 0) -> str:
    if _missing(value):
        return "–"
    text = f"{float(value):,.{decimals}f}"
    return text.replace(",", "\u202f").replace(".", ",").replace("-", "−")


def fmt_value(value, unit: str | None) -> str:
    if _missing(value):
        return "–"
    if unit in ("prosent", YES_NO_UNIT):
        return fmt_number(value, 1) + " %"
    return fmt_number(value, decimals_for(unit))


def fmt_change_pct(value) -> str:
    if _missing(value):
        return "–"
    return ("+" if value > 0 else "") + fmt_number(value, 0 if abs(value) >= 10 else 1) + " %"


def _jinja_env() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(num=fmt_number, value=fmt_value, change=fmt_change_pct,
                       source=lambda s: SOURCE_LABELS.get(s, s), severity=lambda s: SEVERITY_LABELS.get(s, s),
                       followup=lambda s: FOLLOWUP_LABELS.get(s or "new", s), applies=lambda s: APPLIES_LABELS.get(s, s))
    env.globals.update(STATUS=STATUS, RULE_LABELS=RULE_LABELS, SYNTHETIC_MARK=SYNTHETIC_MARK, SYMBOLS=SYMBOLS)
    return env


# ---------------------------------------------------------------- the main report

def _records(frame: pd.DataFrame | None) -> list[dict]:
    if frame is None or frame.empty:
        return []
    return [{k: (None if _missing(v) else v) for k, v in row.items()} for row in frame.to_dict("records")]


def _definition(ind: dict) -> dict:
    ind = {k: None if _missing(v) else v for k, v in ind.items()}
    return {"id": ind["indicator_id"], "name": ind["name_no"], "numerator": ind.get("numerator_definition"),
            "denominator": ind.get("denominator_definition"), "unit": ind.get("unit"), "source": ind.get("source"),
            "note": ind.get("quality_note"), "series_breaks": ind.get("series_break_years")}


def _attainment_figure(row: dict) -> dict:
    """The figure the ambition is judged on, what it is, its bounds when they differ, and the change to the
    latest year when the ambition was judged earlier (a 2020 target on 2025 data) — as tables 5.1–5.5 show it.

    The years are the mart's: change_from_baseline_pct, cumulative_value and assessed_level run to assessed_year,
    change_pct from start_year to end_year."""
    kind = row.get("ambition_type")
    unit = row.get("unit")
    end = row.get("end_year")
    judged = row.get("assessed_year") or end

    def shown(figure, what, low=None, high=None, value_format=None, later=True):
        value_format = value_format or (lambda v: fmt_value(v, unit))
        bounds = None
        if low and high and not _missing(row.get(low)) and not _missing(row.get(high)):
            lo, hi = value_format(row[low]), value_format(row[high])
            bounds = f"{lo} til {hi}" if lo != hi else None
        to_latest = (f"endring {row.get('start_year')}–{end}: {fmt_change_pct(row['change_pct'])}"
                     if later and judged != end and not _missing(row.get("change_pct")) else None)
        return {"figure": figure, "what": what, "bounds": bounds, "later": to_latest}

    def level(value, year, lower_bound, low=None, high=None, note=""):
        return shown(("minst " if lower_bound else "") + fmt_value(value, unit), f"nivå {year or ''}{note}".strip(),
                     low, high)

    latest = (row.get("latest_value"), end, row.get("national_is_lower_bound"), "latest_value_low",
              "latest_value_high")
    if kind in ("level_min_pct", "level_min"):
        if judged != end and not _missing(row.get("assessed_level")):  # the mart has no bounds for that year
            return level(row["assessed_level"], judged, row.get("assessed_is_lower_bound"), note=" (målåret)")
        return level(*latest)
    if kind == "cumulative_min" and not _missing(row.get("cumulative_value")):
        return shown(("minst " if row.get("cumulative_is_lower_bound") else "") +
                     fmt_value(row["cumulative_value"], unit), f"kumulert {row.get('baseline_year')}–{judged}")
    if row.get("baseline_year") and not _missing(row.get("change_from_baseline_pct")):
        return shown(fmt_change_pct(row["change_from_baseline_pct"]), f"endring {row['baseline_year']}–{judged}",
                     "change_from_baseline_pct_low", "change_from_baseline_pct_high", fmt_change_pct)
    if _missing(row.get("change_pct")):
        return level(*latest)
    if end is not None and row.get("start_year") == end:  # one year with figures: a level, not a change
        return level(*latest, note=" (bare ett år med tall)")
    return shown(fmt_change_pct(row["change_pct"]), f"endring {row.get('start_year')}–{end}",
                 "change_pct_low", "change_pct_high", fmt_change_pct, later=False)


def fmt_reason(text: str | None, unit: str | None) -> str:
    """The mart's colour_reason with the numbers it wrote itself (endring, nivå, kumulert) as the report writes
    numbers — the mart's text is the same on DuckDB and PostgreSQL, with a decimal point: «nivå 108066.0» →
    «nivå 108 066» for a count, «endring -16.3 %» → «endring −16,3 %». Years and targets stay as written."""
    def norwegian(match: re.Match) -> str:
        word, sign, digits, percent = match.groups()
        value = -float(digits) if sign == "-" else float(digits)
        decimals = 1 if percent else 0 if word == "kumulert" else decimals_for(unit)
        return f"{word} " + ("+" if sign == "+" else "") + fmt_number(value, decimals) + (percent or "")

    return _OBSERVED.sub(norwegian, text or "")


def _goal_sections(data: ReportData) -> list[dict]:
    rows = _records(data.attainment)
    by_goal: dict[int, list[dict]] = {}
    for row in rows:
        row["shown"] = _attainment_figure(row)
        row["level_text"] = fmt_value(row.get("latest_value"), row.get("unit"))
        row["reason_text"] = fmt_reason(row.get("colour_reason"), row.get("unit"))
        by_goal.setdefault(int(row["goal_id"]), []).append(row)
    main_goals: list[dict] = []
    for goal in _records(data.goals):
        if not main_goals or main_goals[-1]["id"] != goal["main_goal_id"]:
            main_goals.append({"id": goal["main_goal_id"], "name": goal["main_goal_name_no"], "goals": []})
        main_goals[-1]["goals"].append({"id": goal["goal_id"], "name": goal["name_no"], "note": goal.get("note"),
                                        "rows": by_goal.get(int(goal["goal_id"]), [])})
    return main_goals


def _table_57(data: ReportData) -> dict | None:
    comparison = data.comparison
    if comparison.empty:
        return None
    indicators = data.indicators.set_index("indicator_id")
    rows = []
    for indicator_id, group in comparison.groupby("indicator_id", sort=False):
        cells = []
        for group_type, size, programme in TABLE_57_COLUMNS:
            hit = group[(group.group_type == group_type) & (group.size_class == size) & (group.programme == programme)]
            if hit.empty:
                cells.append({"text": "–", "title": ""})
                continue
            r = hit.iloc[0]
            text = (fmt_value(r.value_shown, r.unit) if r.shown_as == "level" else fmt_change_pct(r.value_shown))
            title = f"{int(r.n_municipalities)} kommuner med tall, {int(r.n_municipalities_matched)} med tall begge år"
            if "method" in r.index and not _missing(r.method):  # bounds and method (docs/statistical_method.md)
                title += f"; {int(r.n_suppressed)} skjult, {int(r.n_absent)} mangler; metode {r.method}"
                if not _missing(r.value_shown_low) and not _missing(r.value_shown_high):
                    title += f"; intervall {r.value_shown_low:.1f}–{r.value_shown_high:.1f}"
            cells.append({"text": text, "title": title})
        first = group.iloc[0]
        ind = indicators.loc[indicator_id] if indicator_id in indicators.index else None
        rows.append({"id": indicator_id,
                     "label": first.indicator_name_no if _missing(first.report_label) else first.report_label,
                     "shown_as": first.shown_as, "cells": cells, "source": None if ind is None else ind.source,
                     "order": (ind.main_goal_id, ind.goal_id) if ind is not None else (99, 99)})
    rows.sort(key=lambda r: (r["source"] != "KOSTRA", r["order"]))
    first = comparison.iloc[0]
    return {"rows": rows, "headings": TABLE_57_HEADINGS, "start": int(first.start_year), "end": int(first.end_year),
            "definitions": [_definition(i) for i in _records(data.indicators) if i["indicator_id"] in
                            set(comparison.indicator_id)]}


def _share_figures(data: ReportData) -> dict | None:
    shares = data.shares
    if shares.empty:
        return None
    indicators = data.indicators.set_index("indicator_id")
    this_year = shares[shares.year == data.year]
    population = this_year[this_year.series_id == "population"].programme_share_pct
    population_80 = this_year[this_year.series_id == "population_80_plus"].programme_share_pct
    kostra, husbanken = [], []
    for r in this_year.itertuples():
        if r.series_kind != "indicator" or r.series_id not in indicators.index:
            continue
        source = indicators.loc[r.series_id, "source"]
        if source in ("KOSTRA", "IPLOS"):
            kostra.append((r.series_name_no, r.programme_share_pct, r.series_id))
        elif source == "Husbanken":
            husbanken.append(r.series_id)
    kostra.sort(key=lambda t: -(t[1] if not _missing(t[1]) else -1))
    first = max(charts.STRATEGY_START, int(shares.year.min()))
    lines = {}
    for series_id in husbanken:
        s = shares[(shares.series_id == series_id) & (shares.year >= first)]
        lines[s.series_name_no.iloc[0]] = (s.year.tolist(), s.programme_share_pct.tolist())
    pop = shares[(shares.series_id == "population") & (shares.year >= first)]
    cohort = int(this_year.n_programme_municipalities.max()) if len(this_year) else 0
    table = [{"name": name, "share": share, "n": int(r.n_programme_municipalities)}
             for r in this_year.itertuples() for name, share in [(r.series_name_no, r.programme_share_pct)]]
    return {
        "fig51": charts.data_uri(charts.share_bars_chart(
            [(name, share) for name, share, _ in kostra],
            None if population.empty else float(population.iloc[0]),
            None if population_80.empty else float(population_80.iloc[0]))),
        "fig52": charts.data_uri(charts.share_lines_chart(lines, (pop.year.tolist(), pop.programme_share_pct.tolist()),
                                                          first, data.year)),
        "cohort": cohort, "table": table,
        "population_share": None if population.empty else float(population.iloc[0]),
        "definitions_51": [_definition(indicators.loc[i].to_dict() | {"indicator_id": i}) for _, _, i in kostra],
        "definitions_52": [_definition(indicators.loc[i].to_dict() | {"indicator_id": i}) for i in husbanken],
    }


def _time_series(data: ReportData) -> list[dict]:
    series = data.group_series
    trend = data.trend
    out = []
    first_year = int(series.year.min()) if len(series) else data.year
    for ind in _records(data.indicators):
        if ind["kind"] not in ("quantitative", "extra") or ind.get("coverage") != "all":
            continue
        s = series[series.indicator_id == ind["indicator_id"]]
        groups = s[s.group_type == "size_class_programme"]
        if groups.value.notna().sum() == 0:
            continue
        lines = {code: (g.dropna(subset=["value"]).year.tolist(), g.dropna(subset=["value"]).value.tolist())
                 for code, g in groups.groupby("group_code")}
        national = None
        if ind["unit"] not in COUNT_UNITS:  # a national count dwarfs the groups' counts
            n = s[(s.group_type == "national")].dropna(subset=["value"])
            national = (n.year.tolist(), n.value.tolist())
        svg = charts.group_series_chart(ind["name_no"], ind["unit"], lines, national, first_year, data.year)
        verdicts = []
        if not trend.empty:
            t = trend[trend.indicator_id == ind["indicator_id"]]
            for r in _records(t.sort_values(["group_type", "group_code"], key=lambda c: c.map(
                    {"national": 0, "size_class": 1, "all": 0, "large": 1, "medium": 2, "small": 3}))):
                verdicts.append({
                    "group": GROUP_LABELS.get(r["group_code"], r["group_code"]),
                    "pre": fmt_change_pct(r.get("avg_annual_change_pre_pct")),
                    "post": fmt_change_pct(r.get("avg_annual_change_post_pct")),
                    "kind": TREND_LABELS.get(r.get("trend_break_kind") or "")
                    or VERDICT_LABELS.get(r.get("verdict") or "", "Ikke vurdert (for få tall)"),
                    "reason": r.get("verdict_reason") or "",
                    "is_break": bool(r.get("is_trend_break")),
                    "desired": {True: "ja", False: "nei"}.get(r.get("break_in_desired_direction"), "–"),
                    "years": f"{r['pre_start_year']}–{r['break_year']}–{r['post_end_year']}"})
        out.append({"id": ind["indicator_id"], "name": ind["name_no"], "unit": ind["unit"],
                    "goal": ind["goal_id"], "chart": charts.data_uri(svg), "verdicts": verdicts,
                    "definition": _definition(ind)})
    return out


def _qualitative(data: ReportData) -> dict | None:
    """Per goal, the themes the programme municipalities describe (rpt_qualitative_summary): the mart's sentence
    for all of them, and how many of each size class, most common theme first."""
    frame = data.qualitative
    if frame is None:
        return None
    goals = dict(zip(data.goals.goal_id, data.goals.name_no))
    present = set(frame.size_class)
    sizes = [(code, label) for code, label in QUALITATIVE_SIZE_COLUMNS if code in present]
    groups: list[dict] = []
    for goal_id, g in frame.groupby("goal_id", sort=True):
        by_class = {(r["theme"], r["size_class"]): r for r in _records(g)}
        everyone = sorted((r for r in by_class.values() if r["size_class"] == "all"),
                          key=lambda r: (-r["share"], r["theme_name"] or r["theme"]))
        rows = []
        for r in everyone:
            cells = []
            for code, label in sizes:
                c = by_class.get((r["theme"], code))
                cells.append({"text": f"{c['n_municipalities']} av {c['n_answered']}" if c else "–",
                              "title": f"{label}: {c['frequency_word']} ({fmt_number(c['share'] * 100)} %)"
                              if c else f"{label}: ingen beskriver temaet"})
            rows.append({"theme": r["theme_name"] or r["theme"], "sentence": r["sentence"], "cells": cells})
        groups.append({"title": f"Mål {goal_id}: {goals.get(goal_id, '')}", "rows": rows})
    years = sorted(set(frame.year))
    return {"groups": groups, "rows": len(frame), "year": years[-1] if years else None,
            "size_headings": [label for _, label in sizes]}


def _findings(data: ReportData, codes: set[str], today: dt.date) -> dict:
    frame = data.findings
    if frame.empty:
        return {"rows": [], "by_kind": [], "total": 0, "overdue": 0}
    unique = frame.drop_duplicates("finding_id")
    links = frame[frame.reference_code.isin(codes)].groupby("finding_id").reference_code.apply(sorted).to_dict()
    rows = []
    for r in _records(unique):
        deadline = r.get("followup_deadline")
        deadline_date = deadline.date() if hasattr(deadline, "date") else deadline
        overdue = bool(deadline_date and deadline_date < today and r.get("followup_status") not in
                       ("resolved", "explained"))
        rows.append(r | {"links": links.get(r["finding_id"], []), "overdue": overdue,
                         "deadline_text": deadline_date.strftime("%d.%m.%Y") if deadline_date else "–",
                         "first_seen_text": r["first_seen"].strftime("%d.%m.%Y") if r.get("first_seen") else "–"})
    by_kind = (unique.assign(followup_status=unique.followup_status.fillna("new"))
               .groupby(["severity", "kind", "followup_status"]).size().reset_index(name="n"))
    return {"rows": rows, "by_kind": _records(by_kind), "total": len(unique),
            "overdue": sum(r["overdue"] for r in rows)}


def _municipality_list(data: ReportData) -> list[dict]:
    return [{"code": m["municipality_code"], "name": m["municipality_name"], "county": m.get("county_name"),
             "size": SIZE_CLASS_LABELS.get(m.get("size_class"), m.get("size_class")),
             "programme": bool(m.get("in_programme"))} for m in _records(data.municipalities)]


# ---------------------------------------------------------------- municipality pages

def _rate_panels(data: ReportData) -> list[tuple[str, str, str]]:
    ids = set(data.profile.indicator_id.unique())
    return [(i["indicator_id"], i["name_no"], i["unit"]) for i in _records(data.indicators)
            if i["indicator_id"] in ids and i["unit"] not in COUNT_UNITS and i["unit"] != YES_NO_UNIT
            and i.get("coverage") == "all"]


def _municipality_contexts(data: ReportData, panels: list[tuple[str, str, str]], findings: dict,
                           only: set[str] | None = None) -> list[dict]:
    indicators = {i["indicator_id"]: i for i in _records(data.indicators)}
    panel_ids = [p[0] for p in panels]
    previous = {m["municipality_code"]: m for m in _records(data.municipalities_previous)}
    finding_rows = {}
    for row in findings["rows"]:
        for code in row["links"]:
            finding_rows.setdefault(code, []).append(row)
    profile = data.profile.sort_values(["municipality_code", "indicator_id", "year"])
    by_code = dict(tuple(profile.groupby("municipality_code", sort=False)))
    contexts = []
    for m in _records(data.municipalities):
        code = m["municipality_code"]
        if only is not None and code not in only:
            continue
        p = by_code.get(code, profile.iloc[0:0])
        series = {}
        for indicator_id, g in p[p.indicator_id.isin(panel_ids)].groupby("indicator_id", sort=False):
            series[indicator_id] = {"year": g.year.tolist(), **{k: g[k].astype(float).tolist() for k in (
                "value", "size_class_value", "kostra_group_value", "national_value")}}
        now = p[p.year == data.year].set_index("indicator_id")
        before = p[p.year == data.year - 1].set_index("indicator_id")
        comparison_rows, change_rows, own_rows = [], [], []
        for indicator_id, ind in indicators.items():
            if indicator_id not in now.index and indicator_id not in before.index:
                continue
            unit = ind["unit"]
            r = now.loc[indicator_id] if indicator_id in now.index else None
            b = before.loc[indicator_id] if indicator_id in before.index else None
            value = None if r is None else r.value
            symbol = None if r is None or _missing(r.status_symbol) else r.status_symbol
            if indicator_id in panel_ids:
                comparison_rows.append({
                    "name": ind["name_no"], "unit": unit, "value": fmt_value(value, unit), "symbol": symbol,
                    "size": fmt_value(None if r is None else r.size_class_value, unit),
                    "kostra": fmt_value(None if r is None else r.kostra_group_value, unit),
                    "national": fmt_value(None if r is None else r.national_value, unit),
                    "compared": COMPARED.get(None if r is None else r.compared_with_national, "–")})
            if ind.get("coverage") == "programme":
                latest = p[(p.indicator_id == indicator_id) & p.value.notna()]
                if len(latest):
                    last = latest.iloc[-1]
                    text = ("Ja" if last.value >= 50 else "Nei") if unit == YES_NO_UNIT else fmt_value(last.value, unit)
                    own_rows.append({"name": ind["name_no"], "answer": text, "year": int(last.year)})
                continue
            old = None if b is None else b.value
            change = (None if _missing(value) or _missing(old) or old == 0 else (value - old) / abs(old) * 100)
            change_rows.append({"name": ind["name_no"], "unit": unit, "before": fmt_value(old, unit),
                                "now": fmt_value(value, unit), "symbol": symbol,
                                "before_symbol": None if b is None or _missing(b.status_symbol) else b.status_symbol,
                                "change": fmt_change_pct(change), "big": change is not None and abs(change) >= 20})
        prev = previous.get(code, {})
        changes = []
        if prev:
            if prev.get("size_class") != m.get("size_class"):
                changes.append(f"Størrelsesgruppe: {SIZE_CLASS_LABELS.get(prev.get('size_class'), '–')} → "
                               f"{SIZE_CLASS_LABELS.get(m.get('size_class'), '–')}")
            if prev.get("kostra_group_code") != m.get("kostra_group_code"):
                changes.append(f"KOSTRA-gruppe: {prev.get('kostra_group_name') or '–'} → "
                               f"{m.get('kostra_group_name') or '–'}")
            if bool(prev.get("in_programme")) != bool(m.get("in_programme")):
                changes.append("Kommuneprogrammet: " + ("gikk inn" if m.get("in_programme") else "gikk ut"))
            if prev.get("municipality_name") != m.get("municipality_name"):
                changes.append(f"Navn: {prev.get('municipality_name')} → {m.get('municipality_name')}")
        population_change = (None if _missing(prev.get("population")) or _missing(m.get("population"))
                             or not prev.get("population")
                             else (m["population"] - prev["population"]) / prev["population"] * 100)
        contexts.append({
            "m": m, "size_label": SIZE_CLASS_LABELS.get(m.get("size_class"), "–"), "series": series,
            "comparison_rows": comparison_rows, "change_rows": change_rows, "own_rows": own_rows,
            "classification_changes": changes, "population_change": fmt_change_pct(population_change),
            "population_before": fmt_number(prev.get("population")),
            "findings": finding_rows.get(code, []),
            "definitions": [_definition(indicators[i]) for i in panel_ids],
        })
    return contexts


_WORKER: dict = {}


def _init_worker(panels, first_year, last_year, common) -> None:
    _WORKER["chart"] = charts.MunicipalityChart(panels, first_year, last_year)
    _WORKER["template"] = _jinja_env().get_template("municipality.html")
    _WORKER["common"] = common


def _render_municipalities(batch: list[dict], out_dir: str) -> int:
    chart, template, common = _WORKER["chart"], _WORKER["template"], _WORKER["common"]
    for ctx in batch:
        ctx["chart"] = charts.data_uri(chart.draw(ctx.pop("series")))
        html = template.render(**common, **ctx)
        Path(out_dir, f"{ctx['m']['municipality_code']}.html").write_text(html, encoding="utf-8")
    return len(batch)


def _workers() -> int:
    configured = os.environ.get("BOLIGSOSIAL_REPORT_WORKERS")
    if configured:
        return max(1, int(configured))
    return max(1, min(4, os.cpu_count() or 1))


# ---------------------------------------------------------------- entry point

def build_report(year: int | None = None, out_dir: Path | None = None, warehouse: Path | None = None,
                 pdf: bool = True, municipalities: set[str] | None = None) -> ReportResult:
    """Render the report for `year` (default: the latest year with data) from the published warehouse;
    `municipalities` limits the pages to those codes (the index still lists every municipality)."""
    started = time.perf_counter()
    timings: dict[str, float] = {}
    html = _write_html(year, out_dir, warehouse, municipalities, timings)
    pdf_path, pdf_note = None, None
    # The PDF after the pages, with the report's frames gone: Chromium (≈ 0.55 GiB) beside the page workers
    # took `make demo` past 1 GiB.
    if pdf:
        from orchestration.memory import return_freed_memory
        from orchestration.report.pdf import print_pdf

        return_freed_memory()
        t = time.perf_counter()
        pdf_path, pdf_note = print_pdf(html.index, html.directory / f"rapport-{html.year}.pdf")
        timings["pdf"] = time.perf_counter() - t
    return replace(html, pdf=pdf_path, pdf_note=pdf_note, seconds=time.perf_counter() - started,
                   timings={k: round(v, 2) for k, v in timings.items()})


def _write_html(year: int | None, out_dir: Path | None, warehouse: Path | None, municipalities: set[str] | None,
                timings: dict[str, float]) -> ReportResult:
    """`index.html` and the municipality pages (no PDF yet); the frames they are made from die with this call."""
    started = time.perf_counter()
    data = load(warehouse or settings.warehouse_path(), year)
    timings["read"] = time.perf_counter() - started
    target = (out_dir or reports_dir()) / str(data.year)
    pages_dir = target / "kommune"
    pages_dir.mkdir(parents=True, exist_ok=True)
    for stale in pages_dir.glob("*.html") if municipalities is None else []:
        stale.unlink()  # a municipality that no longer exists must not keep a page
    today = dt.date.today()
    generated = dt.datetime.now().strftime("%d.%m.%Y %H:%M")
    common = {"year": data.year, "synthetic": data.synthetic, "generated": generated,
              "published": data.warehouse_published_at, "root": "../"}
    codes = set(data.municipalities.municipality_code)
    findings = _findings(data, codes, today)

    # The municipality pages go to the process pool first; the main page is made meanwhile.
    t = time.perf_counter()
    panels = _rate_panels(data)
    contexts = _municipality_contexts(data, panels, findings, municipalities)
    timings["municipality_data"] = time.perf_counter() - t
    first_year = int(data.profile.year.min())
    workers = min(_workers(), max(1, len(contexts) // 20))
    batches = [contexts[i::workers * 4] for i in range(workers * 4)] if contexts else []
    pool, pending = None, []
    if workers > 1:
        import multiprocessing

        # spawn, not fork: the parent may be a Dagster run with threads (DuckDB, gRPC) that fork would copy
        pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=_init_worker, initargs=(panels, first_year, data.year, common))
        pending = [pool.submit(_render_municipalities, batch, str(pages_dir)) for batch in batches]
    try:
        t = time.perf_counter()
        env = _jinja_env()
        main = {
            **common, "root": "",
            "years": data.years, "latest_year": data.latest_year,
            "goal_sections": _goal_sections(data), "period": data.attainment_period,
            "period_label": PERIOD_LABELS.get(data.attainment_period, data.attainment_period),
            "period_note": data.attainment_note, "notes": data.notes,
            "colour_rules": _records(data.colour_rules),
            "colour_counts": data.attainment.status_colour.value_counts().to_dict() if len(data.attainment) else {},
            "table_57": _table_57(data), "shares": _share_figures(data), "time_series": _time_series(data),
            "qualitative": _qualitative(data), "findings": findings, "municipalities": _municipality_list(data),
            "warehouse": data.warehouse_path,
        }
        index = target / "index.html"
        index.write_text(env.get_template("index.html").render(**main), encoding="utf-8")
        timings["main_page"] = time.perf_counter() - t

        t = time.perf_counter()
        if pool is None:
            _init_worker(panels, first_year, data.year, common)
            written = sum(_render_municipalities(b, str(pages_dir)) for b in batches)
        else:
            written = sum(f.result() for f in pending)
        timings["municipality_pages_after_main"] = time.perf_counter() - t
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    return ReportResult(year=data.year, directory=target, index=index, municipality_pages=written, pdf=None,
                        pdf_note=None, seconds=0.0, synthetic=data.synthetic)
