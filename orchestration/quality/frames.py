"""Frames the suites validate: small pandas tables built from staging and raw, one row per unit a rule judges.

GX is good at row-level rules, so each rule that spans measures, sources or years gets a frame of its
own here (a municipality × year table of skjema 13, the KMD survey beside IPLOS, year-on-year changes …)
and the suite in `expectations/` states the rule. A builder returns a DataFrame, or a string starting with
"skipped:" when a table it needs is not in the warehouse.

Municipality structure: the KLASS codes the pipeline loads (`raw.klass_municipality_codes`, or before
they exist the KLASS extract committed in `data/reference/klass`) and the one harmonisation,
`reference.municipality_crosswalk`.
Sources that report in the structure of their year (the KMD survey, Husbanken) are mapped onto the
current structure with the crosswalk before they are compared with KOSTRA: merges add up, splits cannot
be compared without an allocation key and are left out (and said so in the frame's notes).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import lru_cache

import duckdb
import numpy as np
import pandas as pd

from orchestration import settings
from orchestration.ingest.klass.tables import CODES_TABLE
from orchestration.reference.crosswalk import TABLE as CROSSWALK_TABLE
from orchestration.reference.groupings import county_name, size_class, size_label
from orchestration.warehouse import relation_exists

BUILDERS: dict[str, Callable] = {}
# What a builder reads besides its suite's `table`: a suite hangs on an asset downstream of all of it, so a
# changed-only run reruns the check when any of it moves (tests/integration/test_check_attachment.py). Unlike a
# suite's `requires` (absent → the check is skipped), an absent table here is the builder's to handle.
BUILDER_READS: dict[str, tuple[str, ...]] = {}
OPEN_END = "9999-12-31"
KLASS_CODES_TABLE = f"raw.{CODES_TABLE}"


def builder(name: str, reads: tuple[str, ...] = ()):
    def register(fn):
        BUILDERS[name] = fn
        BUILDER_READS[name] = reads
        return fn
    return register


def tables_read(suite) -> list[str]:
    """Every table a suite's check reads: its table, the tables it requires and its frame builder's."""
    return [suite.table, *suite.requires, *BUILDER_READS.get((suite.frame or {}).get("builder"), ())]


def build(name: str, con: duckdb.DuckDBPyConnection, config: dict, **params) -> pd.DataFrame | str:
    if name not in BUILDERS:
        raise ValueError(f"unknown frame builder {name!r} (known: {', '.join(sorted(BUILDERS))})")
    return BUILDERS[name](con, config, **params)


def _exists(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return relation_exists(con, name)


def _current(con: duckdb.DuckDBPyConnection, table: str) -> str:
    """An inbox source's current rows (`raw.<table>_current`) when that view exists, else the table."""
    return f"{table}_current" if _exists(con, f"{table}_current") else table


def _notes(frame: pd.DataFrame, notes: list[str]) -> pd.DataFrame:
    frame.attrs["notes"] = list(notes)
    return frame


# --------------------------------------------------------------------------------------------- KLASS


@lru_cache(maxsize=1)
def _reference_codes_file() -> pd.DataFrame:
    doc = json.loads((settings.REFERENCE_DATA_DIR / "klass" / "131_codes.json").read_text(encoding="utf-8"))
    return pd.DataFrame([
        {"code": c["code"], "name": c["name"], "valid_from": c.get("validFrom") or c.get("validFromInRequestedRange"),
         "valid_to": c.get("validTo")}
        for c in doc["codes"] if c["code"] != "9999"
    ])


def klass_codes(con: duckdb.DuckDBPyConnection) -> tuple[pd.DataFrame, str]:
    """Municipality codes with validity (valid_to exclusive, open end 9999-12-31) and where they came from."""
    if _exists(con, KLASS_CODES_TABLE):
        frame = con.execute(f"select code, name, valid_from, valid_to from {KLASS_CODES_TABLE}").df()
        source = KLASS_CODES_TABLE
    else:
        frame, source = _reference_codes_file().copy(), "data/reference/klass/131_codes.json"
    frame["code"] = frame["code"].astype(str)
    for col in ("valid_from", "valid_to"):
        frame[col] = frame[col].map(lambda v: None if v is None or (isinstance(v, float) and np.isnan(v)) else str(v)[:10])
    frame["valid_from"] = frame["valid_from"].fillna("0001-01-01")
    frame["valid_to"] = frame["valid_to"].fillna(OPEN_END)
    return frame, source


def klass_crosswalk(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Per year and code as reported: its reference code and weight kind, from the one harmonisation
    (`reference.municipality_crosswalk`, written by `reference.crosswalk`); empty before KLASS has loaded."""
    if not _exists(con, CROSSWALK_TABLE):
        return pd.DataFrame({"year": pd.Series(dtype=int), "reported_code": pd.Series(dtype=str),
                             "reference_code": pd.Series(dtype=str), "weight_kind": pd.Series(dtype=str)})
    # one row per reported code: a split's several targets are excluded from comparisons anyway
    return con.execute(f"""
        select year, reported_code, min(reference_code) as reference_code,
               min(weight_kind) as weight_kind  -- a split's rows all say 'split'
        from {CROSSWALK_TABLE} group by all""").df().astype({"year": int})


def codes_at(codes: pd.DataFrame, date: str) -> set[str]:
    return set(codes[(codes.valid_from <= date) & (codes.valid_to > date)].code)


def current_codes(codes: pd.DataFrame) -> set[str]:
    return set(codes[codes.valid_to == OPEN_END].code)


def municipality_names(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """code → the newest name KLASS knows for it."""
    codes, _ = klass_codes(con)
    latest = codes.sort_values("valid_from").groupby("code").tail(1)
    return dict(zip(latest.code, latest.name))


def detect_structure(present: set[str], year: int, codes: pd.DataFrame) -> tuple[str, set[str]]:
    """Which structure a year's codes follow: 'year' (valid at 31 Dec of that year) or 'current'."""
    year_codes = codes_at(codes, f"{year}-12-31")
    now = current_codes(codes)
    if len(present & now) > len(present & year_codes):
        return "current", now
    return "year", year_codes


def to_reference(frame: pd.DataFrame, con: duckdb.DuckDBPyConnection, code: str = "municipality_code",
                 year: str = "year") -> pd.DataFrame:
    """Add `reference_code` and `weight_kind` (identity | merge | split | unknown) to a frame of codes and years.

    Per year the frame's codes are taken to follow the year's own structure or the current one
    (`detect_structure`); only the former are mapped through the crosswalk.
    """
    codes, _ = klass_codes(con)
    crosswalk = klass_crosswalk(con)
    out = []
    for y, part in frame.groupby(year, sort=True):
        part = part.copy()
        structure, _ = detect_structure(set(part[code]), int(y), codes)
        cw = crosswalk[crosswalk.year == int(y)]
        if structure == "current" or cw.empty:
            part["reference_code"] = part[code]
            part["weight_kind"] = "identity"
            out.append(part)
            continue
        kinds = cw.set_index("reported_code")[["reference_code", "weight_kind"]]
        part = part.merge(kinds, left_on=code, right_index=True, how="left")
        part["weight_kind"] = part["weight_kind"].fillna("unknown")
        part["reference_code"] = part["reference_code"].fillna(part[code])
        out.append(part)
    if not out:
        return frame.assign(reference_code=pd.Series(dtype=str), weight_kind=pd.Series(dtype=str))
    return pd.concat(out, ignore_index=True)


def _population(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    if not _exists(con, "intermediate.int_population_pivoted_by_age"):
        return pd.DataFrame(columns=["municipality_code", "year", "population"])
    return con.execute(
        "select municipality_code, population_date_year as year, population from intermediate.int_population_pivoted_by_age"
    ).df()


# ------------------------------------------------------------------------------------------ builders


def read_frame(con: duckdb.DuckDBPyConnection, sql: str) -> pd.DataFrame:
    """`con.execute(sql).df()` with the text columns converted through Arrow: DuckDB's own conversion makes a
    Python object per string first, which more than doubled the pipeline's peak memory on raw.ssb_observations
    (issue 19). Same columns, dtypes and values; the other columns keep DuckDB's conversion."""
    import pyarrow as pa

    table = con.sql(sql).to_arrow_table()  # the relation API: no extra copy of the rows
    is_view = getattr(pa.types, "is_string_view", lambda _: False)
    text = [f.name for f in table.schema if (pa.types.is_string(f.type) or pa.types.is_large_string(f.type)
                                             or is_view(f.type))
            and table.column(f.name).null_count < table.num_rows]  # DuckDB makes an all-null column object
    if not text or len(set(table.column_names)) != len(table.column_names):
        return con.execute(sql).df()
    frame = table.select(text).to_pandas()
    others = [name for name in table.column_names if name not in text]
    if others:
        rest = con.from_arrow(table.select(others)).df()
        for name in others:
            frame[name] = rest[name]
    return frame[table.column_names]


def only_needed(con: duckdb.DuckDBPyConnection, sql: str, needed: set[str] | None) -> str:
    """`sql` cut to the columns in `needed` (DuckDB pushes the projection down), in the same order and rows:
    a check reads what its rules and findings mention, not provenance columns it never looks at."""
    if not needed:
        return sql
    columns = [d[0] for d in con.execute(f"select * from ({sql}) as q limit 0").description]
    keep = [c for c in columns if c in needed]
    if not keep or len(keep) == len(columns):
        return sql
    return "select " + ", ".join('"' + c.replace('"', '""') + '"' for c in keep) + f" from ({sql}) as q"


@builder("current_rows")
def current_rows(con, config, table: str, columns: str = "*", needed: set[str] | None = None) -> pd.DataFrame:
    """An inbox source's current rows (`raw.<table>_current`, the latest file per coverage), else the table."""
    source = _current(con, table)
    sql = only_needed(con, f"select {columns} from {source}", needed)
    return _notes(read_frame(con, sql), [f"rows from {source}"])


# builders that take `needed` (the column names a suite mentions) and read only those columns
READS_NEEDED_ONLY = {"current_rows"}


@builder("kostra_wide")
def kostra_wide(con, config, measures: list[str], table: str = "intermediate.int_kostra_values_latest_release",
                derived: dict[str, str] | None = None) -> pd.DataFrame:
    """Municipality × year, one column per measure (null where not reported), plus derived columns."""
    present = {m for (m,) in con.execute(f"select distinct measure from {table}").fetchall()}
    columns = ", ".join(
        f"max(value) filter (where measure = '{m}') as {m}" for m in measures)
    frame = con.execute(
        f"select municipality_code, year, {columns} from {table} "
        f"where measure in ({', '.join(repr(m) for m in measures)}) group by all order by 1, 2").df()
    for name, expression in (derived or {}).items():
        frame[name] = frame.eval(expression)
    missing = sorted(set(measures) - present)
    return _notes(frame, [f"measure {m} not in {table}" for m in missing])


@builder("kmd_iplos", reads=(KLASS_CODES_TABLE, CROSSWALK_TABLE, "intermediate.int_kostra_values_latest_release"))
def kmd_iplos(con, config) -> pd.DataFrame | str:
    """The KMD survey's omsorgsboliger beside IPLOS care dwellings, per municipality, county and nation.

    Compared on the current structure; a current municipality is compared only when every survey code
    that became part of it answered, and never across a split. County = first two digits of the code.
    """
    cfg = config["kmd_iplos"]
    survey_table = _current(con, "raw.kmd_survey")
    survey = con.execute(
        f"select municipality_code, survey_year as year, answered, value from {survey_table} "
        f"where measure = ? and survey_year = ?", [cfg["survey_measure"], int(cfg["survey_year"])]).df()
    if survey.empty:
        return f"skipped: no {cfg['survey_measure']} for {cfg['survey_year']} in {survey_table}"
    iplos = con.execute(
        "select municipality_code, year, value from intermediate.int_kostra_values_latest_release "
        "where measure = ? and year = ? and value is not null",
        [cfg["iplos_measure"], int(cfg["iplos_year"])]).df()
    if iplos.empty:
        return f"skipped: no {cfg['iplos_measure']} for {cfg['iplos_year']} in intermediate.int_kostra_values_latest_release"

    notes: list[str] = []
    codes, _ = klass_codes(con)
    survey_structure, _ = detect_structure(set(survey.municipality_code), int(cfg["survey_year"]), codes)
    iplos_structure, _ = detect_structure(set(iplos.municipality_code), int(cfg["iplos_year"]), codes)
    now = to_reference(survey[["municipality_code", "year"]].copy(), con)
    names = municipality_names(con)
    current_of = {r.municipality_code: (r.reference_code if r.weight_kind != "split" else "delt")
                  for r in now.itertuples()}
    if int(cfg["survey_year"]) == int(cfg["iplos_year"]) and survey_structure == iplos_structure:
        # Both in the same structure (as reported in the survey year): compare code by code, nothing lost.
        survey = survey.assign(reference_code=survey.municipality_code, weight_kind="identity")
        iplos = iplos.assign(reference_code=iplos.municipality_code, weight_kind="identity")
        notes.append(f"compared code by code in the {survey_structure} structure of {cfg['survey_year']}")
    else:
        survey = to_reference(survey, con)
        iplos = to_reference(iplos, con)
        notes.append("compared on the current structure (survey and IPLOS follow different structures)")
    survey["usable"] = survey["answered"].astype(bool) & survey["value"].notna() & (survey.weight_kind != "split")
    parts = survey.groupby("reference_code").agg(
        kmd=("value", "sum"), usable=("usable", "all"), parts=("municipality_code", lambda s: "+".join(sorted(s))),
        answered=("answered", "any"), split=("weight_kind", lambda s: (s == "split").any()))
    incomplete = parts[parts.answered & ~parts.usable]
    if len(incomplete):
        notes.append(f"{len(incomplete)} current municipalities not compared: a part did not answer or was split "
                     f"({', '.join(incomplete.index[:15])}{' …' if len(incomplete) > 15 else ''})")
    parts = parts[parts.usable]
    iplos = iplos[iplos.weight_kind != "split"].groupby("reference_code").agg(iplos=("value", "sum"))
    units = parts.join(iplos, how="inner")
    units = units[units.iplos.notna()]

    def today(code: str) -> str:
        current = current_of.get(code)
        if current is None or current == code:
            return ""
        return " (i dag delt)" if current == "delt" else f" (i dag {current} {names.get(current, '')})".rstrip()

    rows = [{"level": "municipality", "municipality_code": code, "name": names.get(code, code),
             "survey_codes": r.parts, "today": today(code) if "+" not in r.parts else "",
             "kmd": r.kmd, "iplos": r.iplos, "n_municipalities": 1}
            for code, r in units.iterrows()]
    counties = units.groupby(units.index.str[:2]).agg(kmd=("kmd", "sum"), iplos=("iplos", "sum"),
                                                      n=("kmd", "size"))
    rows += [{"level": "county", "municipality_code": county, "name": county_name(county), "survey_codes": "",
              "kmd": r.kmd, "iplos": r.iplos, "n_municipalities": int(r.n)} for county, r in counties.iterrows()]
    rows.append({"level": "national", "municipality_code": "0000", "name": "Hele landet", "survey_codes": "",
                 "kmd": units.kmd.sum(), "iplos": units.iplos.sum(), "n_municipalities": len(units)})
    frame = pd.DataFrame(rows)
    frame["year"] = int(cfg["survey_year"])
    frame["measure"] = cfg["survey_measure"]
    frame["deviation"] = frame.kmd - frame.iplos
    frame["abs_deviation"] = frame.deviation.abs()
    frame["rel_deviation"] = np.where(frame.iplos > 0, frame.deviation / frame.iplos.where(frame.iplos > 0), np.nan)
    frame["rel_pct"] = (frame.rel_deviation * 100).round(1)
    return _notes(frame, notes)


@builder("bostotte_pairs", reads=(KLASS_CODES_TABLE, CROSSWALK_TABLE, "intermediate.int_husbanken_instruments_by_year",
                                   "intermediate.int_kostra_values_latest_release"))
def bostotte_pairs(con, config) -> pd.DataFrame | str:
    """KOSTRA's kommunal bostøtte beside Husbanken's statlig bostøtte, per current municipality and year.

    Statlig bostøtte is a monthly count of households; its yearly figure is dbt's
    (int_husbanken_instruments_by_year: the mean of its 12 months, or Husbanken's yearly figure), so the check
    and the warehouse judge the same number.
    """
    cfg = config["bostotte_confusion"]
    table = "intermediate.int_husbanken_instruments_by_year"
    state = con.execute(
        f"select municipality_code, year, value from {table} where instrument = ? and measure = ?",
        [cfg["husbanken_instrument"], cfg["husbanken_measure"]]).df()
    if state.value.isna().all():
        return f"skipped: no {cfg['husbanken_instrument']}/{cfg['husbanken_measure']} rows in {table}"
    municipal = con.execute(
        "select municipality_code, year, value from intermediate.int_kostra_values_latest_release "
        "where measure = ?", [cfg["municipal_measure"]]).df()
    if municipal.value.isna().all():
        return f"skipped: no {cfg['municipal_measure']} in intermediate.int_kostra_values_latest_release"
    state = to_reference(state, con)
    municipal = to_reference(municipal, con)
    # a merged municipality's figure is the sum of its parts, unknown when a part is (never the known part alone)
    state = state[state.weight_kind != "split"].groupby(["reference_code", "year"])[["value"]].sum(
        skipna=False).rename(columns={"value": "state"})
    municipal = municipal[municipal.weight_kind != "split"].groupby(["reference_code", "year"])[["value"]].sum(
        skipna=False).rename(columns={"value": "municipal"})
    frame = municipal.join(state, how="inner").dropna().reset_index().rename(
        columns={"reference_code": "municipality_code"})
    frame["measure"] = cfg["municipal_measure"]
    frame["deviation"] = frame.municipal - frame.state
    frame["diff_pct"] = np.where(frame.state > 0, (frame.deviation.abs() / frame.state.where(frame.state > 0)) * 100,
                                 np.nan).round(2)
    return frame


@builder("yoy_changes", reads=("intermediate.int_population_pivoted_by_age",))
def yoy_changes(con, config, table: str = "intermediate.int_kostra_values_latest_release") -> pd.DataFrame | str:
    """Each configured measure's value beside the previous year's, with the measure's limits and the known
    series break (if any) the change falls on."""
    measures: dict = config["yoy"].get("measures") or {}
    if not measures:
        return "skipped: no measures configured under yoy.measures"
    frame = con.execute(
        f"""
        with series as (
            select municipality_code, measure, year, value,
                   lag(value) over w as previous_value, lag(year) over w as previous_year
            from {table}
            where measure in ({', '.join(repr(m) for m in measures)}) and value is not null
            window w as (partition by municipality_code, measure order by year)
        )
        select * from series where previous_year = year - 1
        """).df()
    limits = pd.DataFrame([
        {"measure": m, "min_ratio": 1 - float(v["max_drop_pct"]) / 100, "max_ratio": 1 + float(v["max_rise_pct"]) / 100,
         "min_base": float(v.get("min_base", 0))} for m, v in measures.items()])
    frame = frame.merge(limits, on="measure", how="left")
    frame["ratio"] = np.where(frame.previous_value > 0, frame.value / frame.previous_value.where(frame.previous_value > 0),
                              np.nan)
    frame["change_pct"] = ((frame.ratio - 1) * 100).round(1)
    frame["judged"] = (frame.previous_value >= frame.min_base) & frame.ratio.notna()
    from orchestration.ingest.ssb.catalogue import load as load_catalogue

    # configured breaks, and every SSB table-generation seam the catalogue names (06493 → 12008 in 2015, …)
    breaks = (config.get("series_breaks") or []) + load_catalogue().series_breaks()
    reasons = []
    for measure, year in zip(frame.measure, frame.year):
        reason = next((b["reason"] for b in breaks
                       if int(b["year"]) == int(year) and b["measure"] in ("*", measure)), None)
        reasons.append(reason)
    frame["break_reason"] = reasons
    frame["is_break"] = frame.break_reason.notna()
    frame["outside"] = frame.judged & ((frame.ratio < frame.min_ratio) | (frame.ratio > frame.max_ratio))
    population = _population(con)
    frame = frame.merge(population, on=["municipality_code", "year"], how="left")
    frame["size_class"] = frame.population.map(size_class)
    frame["size_label"] = frame.size_class.map(size_label)
    return frame


@builder("code_validity", reads=(KLASS_CODES_TABLE,))
def code_validity(con, config, table: str, code_column: str = "municipality_code", year_column: str = "year",
                  where: str = "true") -> pd.DataFrame:
    """Distinct (code, year) of a table with whether KLASS knows the code for that year.

    `municipality_codes.validity`: year_or_later (in force at some time from 1 January of the year on:
    history republished in a later structure is fine) or strict_year (in force during the year).
    """
    mode = config["municipality_codes"]["validity"]
    codes, source = klass_codes(con)
    table = _current(con, table)
    frame = con.execute(
        f"select cast({code_column} as varchar) as municipality_code, cast({year_column} as integer) as year, "
        f"count(*) as n_rows from {table} where {where} group by all order by 1, 2").df()
    by_code = codes.groupby("code").agg(first=("valid_from", "min"), last=("valid_to", "max"))
    first = frame.municipality_code.map(by_code["first"])
    last = frame.municipality_code.map(by_code["last"])
    start = frame.year.astype(str) + "-01-01"
    end = frame.year.astype(str) + "-12-31"
    if mode == "strict_year":
        valid = (first <= end) & (last > start)
    elif mode == "year_or_later":
        valid = last > start
    else:
        raise ValueError(f"municipality_codes.validity must be year_or_later or strict_year, not {mode!r}")
    frame["valid"] = valid.fillna(False).astype(bool)
    frame["known_from"] = first
    frame["known_to"] = last
    return _notes(frame, [f"codes from {source}, validity {mode}"])


@builder("completeness", reads=(KLASS_CODES_TABLE,))
def completeness(con, config, table: str, code_column: str = "municipality_code", year_column: str = "year",
                 where: str = "true") -> pd.DataFrame:
    """Per year: municipalities present, the KLASS list of the structure the data follow, and who is missing."""
    codes, source = klass_codes(con)
    data = con.execute(
        f"select distinct cast({code_column} as varchar) as code, cast({year_column} as integer) as year "
        f"from {_current(con, table)} where {where}").df()
    rows = []
    for year, part in data.groupby("year"):
        present = set(part.code)
        structure, expected = detect_structure(present, int(year), codes)
        missing = sorted(expected - present)
        rows.append({"year": int(year), "structure": structure, "present": len(present & expected),
                     "expected": len(expected), "missing": len(missing),
                     "missing_codes": ", ".join(missing[:25]) + (" …" if len(missing) > 25 else ""),
                     "measure": table})
    frame = pd.DataFrame(rows, columns=["year", "structure", "present", "expected", "missing", "missing_codes",
                                        "measure"])
    frame["deviation"] = -frame["missing"]
    return _notes(frame, [f"codes from {source}"])
