"""Benchmark of the dwelling-register marts at national scale (issue 18), part of `make bench`.

1. Generates registers for every municipality over ten years (10 million tenancy rows by default) with
   DuckDB straight into Parquet — synthetic, hash-based, deterministic, no Python loop — and keeps the
   file in .cache/bench_registers/ for the next run. Not part of the timed figures.
2. Timed: loads the Parquet into the real raw.dwelling_register (the importer's table and its `_current`
   view; one load_id per municipality and year, as one file each) with DuckDB's own reader, then builds
   the register models (`dbt run` of stg_dwelling_register__tenancies and everything downstream of it,
   the real models). The few other inputs (municipality year, KOSTRA values) are small stand-in tables.
   The importer's row-by-row validation of spreadsheets is not in the figure.
3. Timed: the same work in pandas — read the Parquet into a DataFrame, then the same aggregation
   (classify dwellings, cells on the full grid, suppression, sums with bounds per municipality / size
   class / all, turnover and median tenancy lengths).
Each of 2 and 3 runs in its own child process, so its peak resident memory (getrusage, children
included) is its own. The pandas results (every row of the turnover mart and of the dwellings mart's
counts, all levels) are compared with the dbt marts, so the two do the same work. Figures go into
docs/benchmarks.md, section «Dwelling registers».
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
YEARS = list(range(2015, 2025))
GROUPS = ["eldre", "nedsatt_funksjonsevne", "psykisk_rus", "flyktninger", "andre_problemer", "uten_behovsproving"]
AGES = ["under_30", "30_66", "67_79", "80_plus"]
UNITS = ["tjenestekontor", "boligkontor", "inntaksteam", "nav", "flyktningtjenesten"]
TYPES = ["kommunal_utleiebolig", "omsorgsbolig", "aldersbolig", "omsorg_pluss", "heldogns_bemanning"]
OWNERSHIP = ["eid", "innleid", "privat_disposisjon"]
MIN_CELL = 3
DUCKDB_MEMORY_LIMIT = "1536MB"  # the 2 GiB peak budget, less room for dbt's own process
DUCKDB_THREADS = 2  # the machine's cores


def _pick(values: list[str], expr: str) -> str:
    listed = ", ".join(f"'{v}'" for v in values)
    return f"([{listed}])[1 + (({expr}) % {len(values)})::int]"


CACHE = ROOT / ".cache" / "bench_registers"


def cached(rows: int) -> tuple[Path, dict]:
    """The generated Parquet for `rows`, made once; a change to generate() makes a new file."""
    import hashlib
    import inspect

    digest = hashlib.sha256(inspect.getsource(generate).encode()).hexdigest()[:12]
    folder = CACHE / f"{rows}-{digest}"
    meta = folder / "meta.json"
    if meta.exists():
        info = json.loads(meta.read_text())
        return folder / "registers.parquet", {**info, "cached": True}
    for old in CACHE.glob("*-*"):  # made by an older generate()
        if not old.name.endswith(digest):
            shutil.rmtree(old, ignore_errors=True)
    info = generate(folder, rows)
    meta.write_text(json.dumps(info))
    return folder / "registers.parquet", {**info, "cached": False}


def generate(folder: Path, rows: int) -> dict:
    """Per year and municipality a dwelling stock sized by a skewed draw: 92 % occupied, 13 % re-let during
    the year (their previous tenancy ended in the year is a second row); ~1.13 rows per dwelling."""
    import duckdb

    folder.mkdir(parents=True, exist_ok=True)
    codes = [f"{n:04d}" for n in range(301, 301 + 357)]  # 357 municipalities (codes are labels here)
    per_year = round(rows / len(YEARS) / 1.13)  # 13 % of dwellings add their previous tenancy
    started = time.perf_counter()
    con = duckdb.connect()
    con.execute("create table m as select unnest(?::varchar[]) as municipality_code", [codes])
    # dwelling stock per municipality: a skewed share of the year's rows (a few large, many small)
    con.execute("""create table w as select municipality_code, row_number() over () as i,
                   pow(hash(municipality_code) % 1000 / 1000.0 + 0.01, 3) as w from m""")
    con.execute(f"create table sizes as select municipality_code, i, greatest(5, round({per_year} * w / sum(w) over ()))::bigint as n from w")
    h = "hash(municipality_code, dwelling, y)"
    con.execute(f"""
        copy (
            with years as (select unnest({YEARS}) as y),
            dwellings as (
                select s.municipality_code, y, d.dwelling
                from sizes s, years, range(0, s.n) d(dwelling)
            ),
            base as (
                select municipality_code, y, dwelling, {h} as h,
                       (hash(municipality_code, dwelling) % 5)::int as t,
                       ({h} // 7 % 100)::int as r
                from dwellings
            )
            select
                municipality_code,
                make_date(y, 12, 31)                                        as reference_date,
                y                                                           as reference_year,
                'B' || municipality_code || '-' || dwelling::varchar        as dwelling_id,
                {_pick(TYPES, 't')}                                         as dwelling_type,
                {_pick(OWNERSHIP, 'h // 11 % 10 // 7')}                     as ownership,
                (h // 13 % 2 = 0)                                           as wheelchair_accessible,
                case when r < 92 then 'bebodd' when r < 97 then 'ledig' else 'under_oppussing' end as status,
                {_pick(GROUPS, 'h // 19 % 6 + t')}                          as target_group,
                case when r < 92 then {_pick(AGES, 'h // 23 % 4')} end      as age_band,
                case when r < 92 then {_pick(UNITS, 'h // 29 % 5')} end     as allocating_unit,
                -- re-let this year (r < 13): moved in after the predecessor left; else an older tenancy
                case when r < 13 then make_date(y, 1, 1) + (h // 53 % 150)::int + 5
                     when r < 92 then make_date(y, 1, 1) - (h // 31 % 4000)::int end as tenancy_start,
                cast(null as date)                                          as tenancy_end,
                true                                                        as synthetic
            from base
            union all
            -- the previous tenancies of dwellings re-let this year (about 13 %): ended during the year
            select municipality_code, make_date(y, 12, 31), y, 'B' || municipality_code || '-' || dwelling::varchar,
                   {_pick(TYPES, 't')}, {_pick(OWNERSHIP, 'h // 11 % 10 // 7')}, (h // 13 % 2 = 0), 'bebodd',
                   {_pick(GROUPS, 'h // 37 % 6 + t')}, {_pick(AGES, 'h // 41 % 4')}, {_pick(UNITS, 'h // 43 % 5')},
                   make_date(y, 1, 1) - (h // 47 % 3000)::int, make_date(y, 1, 1) + (h // 53 % 150)::int, true
            from base where r < 13
        ) to '{folder}/registers.parquet' (format parquet)
    """)
    n = con.execute(f"select count(*) from '{folder}/registers.parquet'").fetchone()[0]
    elapsed = time.perf_counter() - started
    size = (folder / "registers.parquet").stat().st_size
    con.close()
    return {"rows": n, "generate_s": round(elapsed, 2), "parquet_mib": round(size / 2**20, 1)}


# --- DuckDB: the real dbt models -------------------------------------------------------------------


def _stand_ins(db: Path, parquet: Path) -> None:
    """The register models' small inputs besides the register (not timed)."""
    import duckdb

    con = duckdb.connect(str(db))
    con.execute("create schema if not exists raw; create schema if not exists intermediate")
    con.execute(f"""create or replace table intermediate.int_municipality_year as
        select municipality_code, y as year, 'Kommune ' || municipality_code as municipality_name,
               (hash(municipality_code) % 60000 + 300)::bigint as population,
               (hash(municipality_code) % 3000 + 20)::bigint as population_80_plus,
               case when hash(municipality_code) % 60000 + 300 < 5000 then 'small'
                    when hash(municipality_code) % 60000 + 300 < 20000 then 'medium' else 'large' end as size_class
        from (select distinct municipality_code from '{parquet}'), unnest({YEARS}) t(y)""")
    con.execute("create or replace table intermediate.int_kostra_values_latest_release as select '0301' as municipality_code, 2020 as year, "
                "'dwellings_total' as measure, 1.0 as value, cast(null as varchar) as status_symbol")
    con.execute("create or replace table intermediate.int_national_values_latest_release as select 'residents_80plus_nursing_homes' as measure, "
                "2020 as year, 1.0 as value")
    con.close()


def load(db: str, parquet: str) -> None:
    """The register into the importer's own raw table (its DDL and `_current` view), one load per municipality
    and year as if each came in its own file; DuckDB reads the Parquet itself (no pandas, no Python rows)."""
    import duckdb

    from orchestration.ingest.files import dwelling_register, inbox  # imported before the clock starts

    con = duckdb.connect(db, config={"memory_limit": DUCKDB_MEMORY_LIMIT, "threads": DUCKDB_THREADS})
    inbox.ensure_table(con, dwelling_register.SPEC)
    con.execute(f"""
        insert into raw.dwelling_register by name
        select * exclude (synthetic),
               'bench/' || municipality_code || '_' || reference_year || '.csv'  as source_file,
               '(bench: not landed)'                                               as landed_path,
               timestamp '2025-01-01 00:00:00'                                     as received_at,
               'bench'                                                             as checksum,
               cast(null as varchar)                                               as sheet,
               0                                                                   as row_number,  -- not simulated
               synthetic,
               (reference_year - {YEARS[0]}) * 10000 + cast(municipality_code as integer) as load_id
        from '{parquet}'""")
    con.execute("checkpoint")
    con.close()


def duckdb_child(db: str, parquet: str) -> None:
    """Load the register and run the register models with dbt against `db`; print timings and peak memory."""
    env = {**os.environ, "BOLIGSOSIAL_DBT_DATABASE": db}
    dbt = str(Path(sys.executable).with_name("dbt"))
    target = Path(db).parent / "target"
    target.mkdir(exist_ok=True)
    # The project's profile with DuckDB capped to the budget (its default is 80 % of RAM and all cores).
    profile = yaml.safe_load((ROOT / "dbt_project" / "profiles.yml").read_text(encoding="utf-8"))
    profile["boligsosial"]["outputs"]["build"]["settings"] = {"memory_limit": DUCKDB_MEMORY_LIMIT, "threads": DUCKDB_THREADS}
    (target / "profiles.yml").write_text(yaml.safe_dump(profile), encoding="utf-8")
    common = ["--project-dir", str(ROOT / "dbt_project"), "--profiles-dir", str(target), "--target-path", str(target),
              "--log-path", str(Path(db).parent / "logs")]
    # Not timed: the project parsed once with this profile, as the pipeline keeps its parse between runs.
    subprocess.run([dbt, "parse", *common], capture_output=True, text=True, env=env, check=True)
    import orchestration.ingest.files.dwelling_register  # noqa: F401 — Python's imports are not the load's time

    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    before_cpu = own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime
    started = time.perf_counter()
    load(db, parquet)
    loaded = time.perf_counter()
    out = subprocess.run([dbt, "run", "--select", "stg_dwelling_register__tenancies+", *common],
                         capture_output=True, text=True, env=env)
    done = time.perf_counter()
    if out.returncode != 0:
        raise SystemExit(out.stdout[-4000:] + out.stderr[-2000:])
    results = json.loads((target / "run_results.json").read_text())["results"]
    models = {r["unique_id"].rsplit(".", 1)[1]: round(r["execution_time"], 2) for r in results}
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    print(json.dumps({"load_s": round(loaded - started, 2), "dbt_s": round(done - loaded, 2),
                      "elapsed_s": round(done - started, 2), "models_s": round(sum(models.values()), 2), "models": models,
                      "cpu_s": round(own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime - before_cpu, 1),
                      "peak_rss_mib": round(max(own.ru_maxrss, kids.ru_maxrss) / 1024, 1)}))


# --- pandas: the same aggregation ------------------------------------------------------------------


def pandas_aggregate(frame, municipalities):
    """The register marts' aggregation in pandas, step for step as the dbt models do it; returns the turnover
    table and the dwellings counts (every level)."""
    import numpy as np
    import pandas as pd

    ref = frame["reference_date"]
    start, end = frame["tenancy_start"], frame["tenancy_end"]
    has_t = start.notna()
    running = has_t & (start <= ref) & (end.isna() | (end > ref))
    key = ["municipality_code", "reference_year", "dwelling_id"]
    cols = ["dwelling_type", "status", "target_group", "age_band", "allocating_unit"]
    for col, extra in (("target_group", ["ikke_oppgitt"]), ("age_band", ["ingen_beboer"]),
                       ("allocating_unit", ["ingen_beboer", "ikke_oppgitt"])):
        frame[col] = frame[col].cat.add_categories(extra)
    # occupied: the running tenancy's row describes the dwelling (the importer allows exactly one)
    occupied = frame.loc[running & (frame["status"] == "bebodd"), key + cols]
    occupied = occupied.fillna({"target_group": "ikke_oppgitt", "age_band": "ingen_beboer", "allocating_unit": "ikke_oppgitt"})
    # the other dwellings: grouped; a vacant one keeps the group it is meant for (its row without tenancy)
    rest = frame[frame["status"] != "bebodd"]
    vacant = rest.groupby(key, observed=True, sort=False)[["dwelling_type", "status"]].first()
    vacant["target_group"] = rest[rest["tenancy_start"].isna()].groupby(key, observed=True, sort=False)["target_group"].first()
    vacant = vacant.reset_index()
    vacant["target_group"] = vacant["target_group"].fillna("ikke_oppgitt")
    for col in ("age_band", "allocating_unit"):
        vacant[col] = pd.Categorical(["ingen_beboer"] * len(vacant), dtype=frame[col].dtype)
    dwell = pd.concat([occupied.assign(occupied=True), vacant.assign(occupied=False)], ignore_index=True)

    year_start = pd.to_datetime(frame["reference_year"].astype(str) + "-01-01")
    t = frame.loc[has_t, ["municipality_code", "reference_year", "target_group"]].copy()
    t["moved"] = ((start >= year_start) & (start <= ref))[has_t]
    t["completed"] = (end.notna() & (end >= year_start) & (end <= ref))[has_t]
    t["running"] = running[has_t]
    t["length"] = ((np.minimum(end.fillna(ref), ref) - start).dt.days / 365.25).round(4)[has_t]

    g = ["municipality_code", "reference_year"]
    parts = []
    for breakdown in ("age_band", "allocating_unit", "status", "dwelling_type"):
        c = dwell.groupby(g + ["target_group", breakdown], observed=True).size().rename("n").reset_index()
        parts.append(c.rename(columns={breakdown: "category"}).assign(measure="dwellings", breakdown=breakdown))
    occ = dwell[dwell["occupied"]]
    c = occ.groupby(g + ["dwelling_type", "target_group", "age_band"], observed=True).size().rename("n").reset_index()
    parts.append(c.rename(columns={"dwelling_type": "breakdown", "age_band": "category"}).assign(measure="residents"))
    parts.append(occ.groupby(g + ["target_group"], observed=True).size().rename("n").reset_index()
                 .assign(measure="dwellings_used", breakdown="total", category="i_alt"))
    for flag, measure in (("moved", "moved_in"), ("completed", "completed_tenancies")):
        parts.append(t[t[flag]].groupby(g + ["target_group"], observed=True).size().rename("n").reset_index()
                     .assign(measure=measure, breakdown="total", category="i_alt"))
    counts = pd.concat(parts, ignore_index=True)
    for col in ("municipality_code", "target_group", "category", "breakdown"):
        counts[col] = counts[col].astype(str)
    # the full grid: every key seen in a year × every municipality delivering that year
    keys = counts[["reference_year", "measure", "breakdown", "target_group", "category"]].drop_duplicates()
    delivered = dwell[g].drop_duplicates().astype({"municipality_code": str})
    grid = delivered.merge(keys, on="reference_year")
    cells = grid.merge(counts, on=list(grid.columns), how="left")
    cells["n"] = cells["n"].fillna(0)
    small = (cells["n"] >= 1) & (cells["n"] < MIN_CELL)
    cells["low"] = np.where(small, 1, cells["n"])
    cells["high"] = np.where(small, MIN_CELL - 1, cells["n"])
    cells["supp"] = small.astype(int)
    municipalities = municipalities.astype({"municipality_code": str})
    cells = cells.merge(municipalities, on=g, how="left")
    levels = []
    for level, unit in (("municipality", cells["municipality_code"]), ("size_class", cells["size_class"]),
                        ("delivering_municipalities", pd.Series("all", index=cells.index))):
        agg = cells.assign(level=level, unit_code=unit).groupby(
            ["level", "unit_code", "reference_year", "measure", "breakdown", "target_group", "category"], observed=True
        ).agg(n_mun=("municipality_code", "size"), supp=("supp", "sum"), low=("low", "sum"), high=("high", "sum"))
        levels.append(agg.reset_index())
    agg = pd.concat(levels, ignore_index=True)
    agg = agg[(agg.level == "municipality") | (agg.n_mun >= 2)]
    agg["value"] = np.where(agg.supp == 0, agg.low, np.nan)
    # turnover per group: a measure without a cell for the group is an exact 0
    tv = agg[agg.measure.isin(["dwellings_used", "moved_in", "completed_tenancies"])].pivot_table(
        index=["level", "unit_code", "reference_year", "target_group"], columns="measure",
        values=["value", "low", "high"], aggfunc="first")
    tv.columns = [f"{m}_{v}" for v, m in tv.columns]
    tv = tv.reset_index()
    for m in ("dwellings_used", "moved_in", "completed_tenancies"):
        for v in ("value", "low", "high"):
            tv[f"{m}_{v}"] = tv.get(f"{m}_{v}", np.nan)
        absent = tv[f"{m}_low"].isna()
        tv.loc[absent, [f"{m}_value", f"{m}_low", f"{m}_high"]] = 0
    used, moved = tv["dwellings_used_value"], tv["moved_in_value"]
    tv["turnover_pct"] = (100 * moved / used).where(used > 0)
    tv["turnover_pct_low"] = (100 * tv["moved_in_low"] / tv["dwellings_used_high"]).where(tv["dwellings_used_high"] > 0)
    tv["turnover_pct_high"] = (100 * tv["moved_in_high"] / tv["dwellings_used_low"]).where(tv["dwellings_used_low"] > 0)
    # median tenancy lengths per level (shown from MIN_CELL tenancies on)
    t = t[t["completed"] | t["running"]].astype({"municipality_code": str}).merge(municipalities, on=g, how="left")
    med = []
    for level, unit in (("municipality", t["municipality_code"]), ("size_class", t["size_class"]),
                        ("delivering_municipalities", pd.Series("all", index=t.index))):
        tt = t.assign(level=level, unit_code=unit)
        gk = ["level", "unit_code", "reference_year", "target_group"]
        done = tt[tt.completed].groupby(gk, observed=True)["length"].agg(["size", "median"])
        runs = tt[tt.running].groupby(gk, observed=True)["length"].agg(["size", "median"])
        med.append(done.join(runs, lsuffix="_completed", rsuffix="_running", how="outer").reset_index())
    med = pd.concat(med, ignore_index=True).astype({"target_group": str})
    tv = tv.merge(med, on=["level", "unit_code", "reference_year", "target_group"], how="left")
    for kind in ("completed", "running"):
        tv[f"median_{kind}"] = tv[f"median_{kind}"].where(tv[f"size_{kind}"] >= MIN_CELL)
    dwellings = agg[agg.measure == "dwellings"][["level", "unit_code", "reference_year", "breakdown", "target_group",
                                                 "category", "value", "low", "high"]]
    return tv, dwellings


def pandas_child(parquet: str, db: str, out: str) -> None:
    import duckdb
    import pandas as pd

    municipalities = duckdb.connect(db, read_only=True).execute(
        "select municipality_code, year as reference_year, size_class from intermediate.int_municipality_year").df()
    started = time.perf_counter()
    frame = pd.read_parquet(parquet, columns=["municipality_code", "reference_date", "reference_year", "dwelling_id",
                                              "dwelling_type", "status", "target_group", "age_band",
                                              "allocating_unit", "tenancy_start", "tenancy_end"])
    for col in ("municipality_code", "dwelling_type", "status", "target_group", "age_band", "allocating_unit"):
        frame[col] = frame[col].astype("category")
    for col in ("reference_date", "tenancy_start", "tenancy_end"):  # Parquet dates arrive as Python dates
        frame[col] = pd.to_datetime(frame[col])
    loaded = time.perf_counter()
    tv, dwellings = pandas_aggregate(frame, municipalities)
    done = time.perf_counter()
    own = resource.getrusage(resource.RUSAGE_SELF)
    tv.to_parquet(Path(out) / "pandas_turnover.parquet")
    dwellings.to_parquet(Path(out) / "pandas_dwellings.parquet")
    print(json.dumps({"load_s": round(loaded - started, 2), "aggregate_s": round(done - loaded, 2),
                      "elapsed_s": round(done - started, 2), "peak_rss_mib": round(own.ru_maxrss / 1024, 1),
                      "cpu_s": round(own.ru_utime + own.ru_stime, 1)}))


def compare(db: Path, out: Path) -> list[str]:
    """Where pandas and the dbt marts differ: every row of rpt_target_group_turnover (counts, bounds, turnover
    to 0.05 %-points as the mart rounds to 0.1, medians to 0.05 years) and the dwellings counts of
    rpt_dwelling_target_groups. Empty when they agree."""
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    problems = []
    got = con.execute(f"""
        with p as (select * from '{out}/pandas_turnover.parquet')
        select m.level, m.unit_code, m.year, m.target_group, p.level is null as only_dbt
        from marts.rpt_target_group_turnover m
        full join p on p.level = m.level and p.unit_code = m.unit_code and p.reference_year = m.year
             and p.target_group = m.target_group
        where p.level is null or m.level is null
           or m.dwellings_used is distinct from cast(p.dwellings_used_value as bigint)
           or m.dwellings_used_low <> p.dwellings_used_low or m.dwellings_used_high <> p.dwellings_used_high
           or m.households_moved_in is distinct from cast(p.moved_in_value as bigint)
           or m.households_moved_in_low <> p.moved_in_low or m.households_moved_in_high <> p.moved_in_high
           or m.completed_tenancies is distinct from cast(p.completed_tenancies_value as bigint)
           or (m.turnover_pct is null) <> (p.turnover_pct is null) or abs(m.turnover_pct - p.turnover_pct) > 0.0501
           or abs(m.turnover_pct_low - p.turnover_pct_low) > 0.0501 or abs(m.turnover_pct_high - p.turnover_pct_high) > 0.0501
           or (m.median_completed_tenancy_years is null) <> (p.median_completed is null)
           or abs(m.median_completed_tenancy_years - p.median_completed) > 0.0501
           or (m.median_running_tenancy_years is null) <> (p.median_running is null)
           or abs(m.median_running_tenancy_years - p.median_running) > 0.0501
        limit 5""").fetchall()
    if got:
        problems.append(f"rpt_target_group_turnover differs, e.g. {got}")
    got = con.execute(f"""
        with p as (select * from '{out}/pandas_dwellings.parquet')
        select m.level, m.unit_code, m.year, m.breakdown, m.target_group, m.category
        from marts.rpt_dwelling_target_groups m
        full join p on p.level = m.level and p.unit_code = m.unit_code and p.reference_year = m.year
             and p.breakdown = m.breakdown and p.target_group = m.target_group and p.category = m.category
        where p.level is null or m.level is null or m.dwellings is distinct from cast(p.value as bigint)
           or m.dwellings_low <> p.low or m.dwellings_high <> p.high
        limit 5""").fetchall()
    if got:
        problems.append(f"rpt_dwelling_target_groups differs, e.g. {got}")
    rows = con.execute("select (select count(*) from marts.rpt_target_group_turnover), "
                       "(select count(*) from marts.rpt_dwelling_target_groups)").fetchone()
    con.close()
    return problems or [f"identical: {rows[0]:,} turnover rows and {rows[1]:,} dwelling-count rows"]


def _child(args: list[str]) -> dict:
    out = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True,
                         env={**os.environ, "GX_ANALYTICS_ENABLED": "false"})
    if out.returncode != 0:
        raise SystemExit(f"benchmark child {args[0]} failed:\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def write_section(doc: Path, text: str) -> None:
    """Replace (or append) the «Dwelling registers» section of docs/benchmarks.md."""
    current = doc.read_text(encoding="utf-8") if doc.exists() else "# Benchmarks\n"
    pattern = re.compile(r"\n## Dwelling registers\n.*?(?=\n##+ |\Z)", re.S)  # a ### section after it is not ours
    section = "\n## Dwelling registers\n\n" + text.strip() + "\n"
    current = pattern.sub(lambda _: section, current) if pattern.search(current) else current.rstrip() + "\n" + section
    doc.write_text(current, encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks.md")
    parser.add_argument("--child", nargs="*")
    args = parser.parse_args()
    if args.child:
        kind, *rest = args.child
        (duckdb_child if kind == "duckdb" else pandas_child)(*rest)
        return 0
    parquet, gen = cached(args.rows)
    origin = f"cached in {parquet.parent.relative_to(ROOT)}" if gen["cached"] else f"generated in {gen['generate_s']} s"
    print(f"registers: {gen['rows']:,} tenancy rows, {gen['parquet_mib']} MiB Parquet ({origin}; not timed below)", flush=True)
    work = Path(tempfile.mkdtemp(prefix="bench_registers_"))
    try:
        db = work / "bench.duckdb"
        _stand_ins(db, parquet)
        load_before = os.getloadavg()[0]
        duck = _child(["--child", "duckdb", str(db), str(parquet)])
        print(f"DuckDB: load {duck['load_s']} s + dbt run {duck['dbt_s']} s = {duck['elapsed_s']} s, "
              f"CPU {duck['cpu_s']} s, peak {duck['peak_rss_mib']:.0f} MiB", flush=True)
        pd_ = _child(["--child", "pandas", str(parquet), str(db), str(work)])
        load_after = os.getloadavg()[0]
        print(f"pandas: read {pd_['load_s']} s + aggregate {pd_['aggregate_s']} s = {pd_['elapsed_s']} s, "
              f"CPU {pd_['cpu_s']} s, peak {pd_['peak_rss_mib']:.0f} MiB", flush=True)
        same = compare(db, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    speedup = pd_["elapsed_s"] / duck["elapsed_s"]
    speedup_cpu = pd_["cpu_s"] / duck["cpu_s"] if duck["cpu_s"] else float("nan")
    agree = same[0].startswith("identical")
    slowest = sorted(duck["models"].items(), key=lambda kv: -kv[1])
    text = f"""
Measured by `make bench` (scripts/bench_registers.py) on {time.strftime('%Y-%m-%d %H:%M')} UTC: registers for 357
municipalities × {len(YEARS)} years, {gen['rows']:,} tenancy rows ({gen['parquet_mib']} MiB Parquet), generated by
DuckDB once and cached in `.cache/bench_registers/` — the generation is **not** in the figures below.
DuckDB side, timed: the register loaded into the importer's raw table (DuckDB reading the Parquet, one load
per municipality and year) and `dbt run --select stg_dwelling_register__tenancies+` ({len(duck['models'])} models,
dbt start-up included), DuckDB capped at memory_limit {DUCKDB_MEMORY_LIMIT} and {DUCKDB_THREADS} threads. The
importer's row-by-row validation of spreadsheets is not in it. pandas side, timed: `pd.read_parquet` of the
same file and the same aggregation (`pandas_aggregate`: groupby, merge, pivot_table, no Python loops over
rows). Each side runs in its own process; peak = its largest resident set; CPU = user + system time.

| | wall time | CPU time | peak memory |
|---|---:|---:|---:|
| DuckDB: load into raw.dwelling_register | {duck['load_s']} s | | |
| DuckDB: `dbt run` of the register models | {duck['dbt_s']} s (models {duck['models_s']} s) | | |
| **DuckDB: load + dbt run** | **{duck['elapsed_s']} s** | {duck['cpu_s']} s | {duck['peak_rss_mib']:.0f} MiB |
| pandas: read the Parquet into a DataFrame | {pd_['load_s']} s | | |
| pandas: the aggregation | {pd_['aggregate_s']} s | | |
| **pandas: read + aggregation** | **{pd_['elapsed_s']} s** | {pd_['cpu_s']} s | {pd_['peak_rss_mib']:.0f} MiB |

Machine: {os.cpu_count()} cores, {_memory_gib()} GiB RAM, shared with other work; load average (1 min)
{load_before:.1f} before and {load_after:.1f} after the two runs. Wall times stretch with the load, CPU
times much less.

Speed-up, DuckDB against pandas, same input, same run: {speedup:.1f}× in wall time, {speedup_cpu:.1f}× in CPU time.
Same result: {same[0] if agree else 'DIFFERS — ' + '; '.join(same)}.
Targets (issue 18): under 30 s — {'met' if duck['elapsed_s'] < 30 else 'NOT met'} ({duck['elapsed_s']} s);
under 2 GiB — {'met' if duck['peak_rss_mib'] < 2048 else 'NOT met'} ({duck['peak_rss_mib']:.0f} MiB);
at least 5× faster than pandas — {'met' if speedup >= 5 else 'NOT met'} ({speedup:.1f}×).

Slowest models: {', '.join(f'`{k}` {v:.1f} s' for k, v in slowest[:4])}.
"""
    write_section(args.out, text)
    print(text)
    return 0 if agree else 1


def _memory_gib() -> str:
    try:
        kib = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal"))
        return f"{kib / 2**20:.0f}"
    except (OSError, StopIteration):
        return "?"


if __name__ == "__main__":
    sys.exit(main())
