"""Benchmark of the dwelling-register marts at national scale (issue 18), part of `make bench`.

1. Generates registers for every municipality over ten years (10 million tenancy rows by default) with
   DuckDB straight into Parquet — synthetic, hash-based, no Python loop.
2. Builds the register models (`dbt run` of stg_dwelling_register__tenancies and everything downstream of
   it, the real models) on a DuckDB file where raw.dwelling_register_current is a view on that Parquet
   and the few other inputs (municipality year, KOSTRA values) are small stand-in tables.
3. Runs the same aggregation written in pandas (classify dwellings, cells on the full grid, suppression,
   sums with bounds per municipality / size class / all, turnover and median tenancy lengths).
Each of 2 and 3 runs in its own child process, so its peak resident memory (getrusage, children
included) is its own. The pandas result is compared with the dbt marts (turnover per group for all
delivering municipalities) so the two do the same work. Figures go into docs/benchmarks.md, section
«Dwelling registers».
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
    import duckdb

    con = duckdb.connect(str(db))
    con.execute("create schema if not exists raw; create schema if not exists intermediate")
    con.execute(f"create or replace view raw.dwelling_register_current as select *, 'bench' as source_file, 0 as row_number, "
                f"now()::timestamp as received_at from '{parquet}'")
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


def duckdb_child(db: str) -> None:
    """Run the register models with dbt against `db`; print timings and peak memory."""
    env = {**os.environ, "BOLIGSOSIAL_DBT_DATABASE": db}
    dbt = str(Path(sys.executable).with_name("dbt"))
    target = Path(db).parent / "target"
    target.mkdir(exist_ok=True)
    saved = ROOT / "dbt_project" / "target" / "partial_parse.msgpack"
    if saved.exists():  # as the pipeline does: reuse the project's parse, so dbt start-up is not the figure
        shutil.copy(saved, target / "partial_parse.msgpack")
    # The project's profile with DuckDB capped to the budget (its default is 80 % of RAM and all cores).
    profile = yaml.safe_load((ROOT / "dbt_project" / "profiles.yml").read_text(encoding="utf-8"))
    profile["boligsosial"]["outputs"]["build"]["settings"] = {"memory_limit": DUCKDB_MEMORY_LIMIT, "threads": DUCKDB_THREADS}
    (target / "profiles.yml").write_text(yaml.safe_dump(profile), encoding="utf-8")
    started = time.perf_counter()
    out = subprocess.run([dbt, "run", "--select", "stg_dwelling_register__tenancies+",
                          "--project-dir", str(ROOT / "dbt_project"), "--profiles-dir", str(target),
                          "--target-path", str(target), "--log-path", str(Path(db).parent / "logs")],
                         capture_output=True, text=True, env=env)
    elapsed = time.perf_counter() - started
    if out.returncode != 0:
        raise SystemExit(out.stdout[-4000:] + out.stderr[-2000:])
    results = json.loads((target / "run_results.json").read_text())["results"]
    models = {r["unique_id"].rsplit(".", 1)[1]: round(r["execution_time"], 2) for r in results}
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(json.dumps({"elapsed_s": round(elapsed, 2), "models_s": round(sum(models.values()), 2), "models": models,
                      "cpu_s": round(kids.ru_utime + kids.ru_stime, 1), "peak_rss_mib": round(kids.ru_maxrss / 1024, 1)}))


# --- pandas: the same aggregation ------------------------------------------------------------------


def pandas_aggregate(frame, municipalities):
    """The register marts' aggregation in pandas; returns the turnover table (all levels)."""
    import numpy as np
    import pandas as pd

    ref = frame["reference_date"]
    start, end = frame["tenancy_start"], frame["tenancy_end"]
    has_t = start.notna()
    running = has_t & (start <= ref) & (end.isna() | (end > ref))
    key = ["municipality_code", "reference_year", "dwelling_id"]
    dwell = frame.groupby(key, observed=True, sort=False).agg(
        dwelling_type=("dwelling_type", "first"), status=("status", "first")).reset_index()
    run = frame.loc[running, key + ["target_group", "age_band", "allocating_unit"]].drop_duplicates(key)
    intended = frame.loc[~has_t, key + ["target_group"]].rename(columns={"target_group": "intended"})
    dwell = dwell.merge(run, on=key, how="left").merge(intended, on=key, how="left")
    dwell["target_group"] = dwell["target_group"].astype(object).fillna(dwell["intended"].astype(object)).fillna("ikke_oppgitt")
    dwell["age_band"] = dwell["age_band"].astype(object).fillna("ingen_beboer")
    dwell["allocating_unit"] = dwell["allocating_unit"].astype(object).fillna("ingen_beboer")
    occupied = dwell["status"] == "bebodd"

    year_start = pd.to_datetime(frame["reference_year"].astype(str) + "-01-01")
    t = frame.loc[has_t, ["municipality_code", "reference_year", "target_group"]].copy()
    t["moved"] = ((start >= year_start) & (start <= ref))[has_t]
    t["completed"] = (end.notna() & (end >= year_start) & (end <= ref))[has_t]
    t["running"] = running[has_t]
    t["length"] = ((np.minimum(end.fillna(ref), ref) - start).dt.days / 365.25)[has_t]

    g = ["municipality_code", "reference_year"]
    parts = []
    for breakdown in ("age_band", "allocating_unit", "status", "dwelling_type"):
        c = dwell.groupby(g + ["target_group", breakdown], observed=True).size().rename("n").reset_index()
        parts.append(c.rename(columns={breakdown: "category"}).assign(measure="dwellings", breakdown=breakdown))
    occ = dwell[occupied]
    c = occ.groupby(g + ["dwelling_type", "target_group", "age_band"], observed=True).size().rename("n").reset_index()
    parts.append(c.rename(columns={"dwelling_type": "breakdown", "age_band": "category"}).assign(measure="residents"))
    parts.append(occ.groupby(g + ["target_group"], observed=True).size().rename("n").reset_index()
                 .assign(measure="dwellings_used", breakdown="total", category="i_alt"))
    for flag, measure in (("moved", "moved_in"), ("completed", "completed_tenancies")):
        parts.append(t[t[flag]].groupby(g + ["target_group"], observed=True).size().rename("n").reset_index()
                     .assign(measure=measure, breakdown="total", category="i_alt"))
    counts = pd.concat(parts, ignore_index=True)
    for col in ("target_group", "category", "breakdown"):
        counts[col] = counts[col].astype(str)
    # the full grid: every key seen in a year × every municipality delivering that year
    keys = counts[["reference_year", "measure", "breakdown", "target_group", "category"]].drop_duplicates()
    delivered = dwell[g].drop_duplicates()
    grid = delivered.merge(keys, on="reference_year")
    cells = grid.merge(counts, on=list(grid.columns), how="left")
    cells["n"] = cells["n"].fillna(0)
    small = (cells["n"] >= 1) & (cells["n"] < MIN_CELL)
    cells["low"] = np.where(small, 1, cells["n"])
    cells["high"] = np.where(small, MIN_CELL - 1, cells["n"])
    cells["supp"] = small.astype(int)
    cells = cells.merge(municipalities, on=g, how="left")
    levels = []
    for level, unit in (("municipality", cells["municipality_code"]), ("size_class", cells["size_class"]),
                        ("delivering_municipalities", pd.Series("all", index=cells.index))):
        agg = cells.assign(level=level, unit_code=unit).groupby(
            ["level", "unit_code", "reference_year", "measure", "breakdown", "target_group", "category"], observed=True
        ).agg(n_mun=("municipality_code", "nunique"), supp=("supp", "sum"), low=("low", "sum"), high=("high", "sum"))
        levels.append(agg.reset_index())
    agg = pd.concat(levels, ignore_index=True)
    agg = agg[(agg.level == "municipality") | (agg.n_mun >= 2)]
    agg["value"] = np.where(agg.supp == 0, agg.low, np.nan)
    # turnover per group and medians of tenancy length per level
    tv = agg[agg.measure.isin(["dwellings_used", "moved_in", "completed_tenancies"])].pivot_table(
        index=["level", "unit_code", "reference_year", "target_group"], columns="measure",
        values=["value", "low", "high"], aggfunc="first")
    tv.columns = [f"{m}_{v}" for v, m in tv.columns]
    tv = tv.reset_index()
    tv["turnover_pct"] = (100 * tv["moved_in_value"] / tv["dwellings_used_value"]).round(1)
    tv["turnover_pct_low"] = (100 * tv["moved_in_low"] / tv["dwellings_used_high"]).round(1)
    tv["turnover_pct_high"] = (100 * tv["moved_in_high"] / tv["dwellings_used_low"]).round(1)
    t = t.merge(municipalities, on=g, how="left")
    med = []
    for level, unit in (("municipality", t["municipality_code"]), ("size_class", t["size_class"]),
                        ("delivering_municipalities", pd.Series("all", index=t.index))):
        tt = t.assign(level=level, unit_code=unit)
        gk = ["level", "unit_code", "reference_year", "target_group"]
        done = tt[tt.completed].groupby(gk, observed=True)["length"].agg(["size", "median"])
        runs = tt[tt.running].groupby(gk, observed=True)["length"].agg(["size", "median"])
        med.append(done.join(runs, lsuffix="_completed", rsuffix="_running", how="outer").reset_index())
    tv = tv.merge(pd.concat(med, ignore_index=True), on=["level", "unit_code", "reference_year", "target_group"], how="left")
    return tv


def pandas_child(parquet: str, db: str) -> None:
    import duckdb
    import pandas as pd

    started = time.perf_counter()
    con = duckdb.connect()
    frame = con.execute(f"select * exclude (synthetic) from '{parquet}'").df()  # no pyarrow here: DuckDB hands pandas the frame
    for col in ("municipality_code", "dwelling_type", "ownership", "status", "target_group", "age_band", "allocating_unit"):
        frame[col] = frame[col].astype("category")
    municipalities = duckdb.connect(db, read_only=True).execute(
        "select municipality_code, year as reference_year, size_class from intermediate.int_municipality_year").df()
    municipalities["municipality_code"] = municipalities["municipality_code"].astype(frame["municipality_code"].dtype)
    loaded = time.perf_counter()
    tv = pandas_aggregate(frame, municipalities)
    done = time.perf_counter()
    national = tv[tv.level == "delivering_municipalities"][["reference_year", "target_group", "turnover_pct"]]
    own = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({"load_s": round(loaded - started, 2), "aggregate_s": round(done - loaded, 2),
                      "elapsed_s": round(done - started, 2), "peak_rss_mib": round(own.ru_maxrss / 1024, 1),
                      "cpu_s": round(own.ru_utime + own.ru_stime, 1),
                      "national_turnover": national.astype({"reference_year": int}).values.tolist()}))


def _child(args: list[str]) -> dict:
    out = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True,
                         env={**os.environ, "GX_ANALYTICS_ENABLED": "false"})
    if out.returncode != 0:
        raise SystemExit(f"benchmark child {args[0]} failed:\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def write_section(doc: Path, text: str) -> None:
    """Replace (or append) the «Dwelling registers» section of docs/benchmarks.md."""
    current = doc.read_text(encoding="utf-8") if doc.exists() else "# Benchmarks\n"
    pattern = re.compile(r"\n## Dwelling registers\n.*?(?=\n## |\Z)", re.S)
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
    import duckdb

    work = Path(tempfile.mkdtemp(prefix="bench_registers_"))
    try:
        gen = generate(work, args.rows)
        print(f"generated {gen['rows']:,} tenancy rows in {gen['generate_s']} s ({gen['parquet_mib']} MiB Parquet)", flush=True)
        db = work / "bench.duckdb"
        parquet = work / "registers.parquet"
        _stand_ins(db, parquet)
        duck = _child(["--child", "duckdb", str(db)])
        print(f"dbt (DuckDB): {duck['elapsed_s']} s, models {duck['models_s']} s, peak {duck['peak_rss_mib']} MiB", flush=True)
        con = duckdb.connect(str(db), read_only=True)
        dbt_national = {(int(y), g): v for y, g, v in con.execute(
            "select year, target_group, turnover_pct from marts.rpt_target_group_turnover "
            "where level = 'delivering_municipalities'").fetchall()}
        con.close()
        pd_ = _child(["--child", "pandas", str(parquet), str(db)])
        print(f"pandas: load {pd_['load_s']} s, aggregate {pd_['aggregate_s']} s, peak {pd_['peak_rss_mib']} MiB", flush=True)
        pandas_national = {(int(y), g): v for y, g, v in pd_["national_turnover"]}
        same = dbt_national.keys() == pandas_national.keys() and all(
            (a is None and (b is None or b != b)) or (a is not None and b is not None and abs(a - b) < 0.05)
            for k in dbt_national for a, b in [(dbt_national[k], pandas_national[k])])
    finally:
        shutil.rmtree(work, ignore_errors=True)
    speedup = pd_["aggregate_s"] / duck["models_s"] if duck["models_s"] else float("nan")
    speedup_total = (pd_["elapsed_s"]) / duck["elapsed_s"]
    text = f"""
Measured by `make bench` (scripts/bench_registers.py) on {time.strftime('%Y-%m-%d')}: registers for 357
municipalities × {len(YEARS)} years, {gen['rows']:,} tenancy rows generated by DuckDB into Parquet
({gen['parquet_mib']} MiB) in {gen['generate_s']} s. DuckDB side: the real dbt models
(`dbt run --select stg_dwelling_register__tenancies+`, {len(duck['models'])} models) reading that Parquet.
pandas side: the same aggregation (scripts/bench_registers.py `pandas_aggregate`), its frame handed over
by DuckDB (no pyarrow installed). Each side runs in its own process; peak = largest resident set.

| | wall time | CPU time | peak memory |
|---|---:|---:|---:|
| DuckDB: the register models (sum of model times) | {duck['models_s']} s | | |
| DuckDB: `dbt run` as a whole (start-up, parse, models) | {duck['elapsed_s']} s | {duck['cpu_s']} s | {duck['peak_rss_mib']:.0f} MiB |
| pandas: load the 10 M rows into a DataFrame | {pd_['load_s']} s | | |
| pandas: the aggregation | {pd_['aggregate_s']} s | | |
| pandas: load + aggregation | {pd_['elapsed_s']} s | {pd_['cpu_s']} s | {pd_['peak_rss_mib']:.0f} MiB |

Load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (other work shares the machine; wall
times stretch with it, CPU times much less).

Speed-up, aggregation against aggregation: {speedup:.1f}×; whole `dbt run` against pandas load +
aggregation: {speedup_total:.1f}×. Same result: national turnover per group and year
{'identical (to 0.05 %-points) in both' if same else 'DIFFERS between the two — see the script'}.
Targets (issue 18): under 30 s and under 2 GiB, at least 5× faster than pandas. Here: time
{'met' if duck['elapsed_s'] < 30 else 'NOT met'} ({duck['elapsed_s']} s), memory {'met' if duck['peak_rss_mib'] < 2048 else 'NOT met'}
({duck['peak_rss_mib']:.0f} MiB; DuckDB capped at memory_limit {DUCKDB_MEMORY_LIMIT}, threads {DUCKDB_THREADS}),
speed-up {'met' if speedup >= 5 else 'NOT met'} ({speedup:.1f}× on the aggregation).

Slowest models: {', '.join(f'`{k}` {v:.1f} s' for k, v in sorted(duck['models'].items(), key=lambda kv: -kv[1])[:4])}.
"""
    write_section(args.out, text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
