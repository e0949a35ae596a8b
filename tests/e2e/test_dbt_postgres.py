"""The same dbt models on PostgreSQL, from the same raw data: the session's demo warehouse (DuckDB) gives its
raw and reference schemas (and the tagger's Python models' tables, which dbt-postgres cannot run), copied
with COPY into a throwaway PostgreSQL server on loopback; one `dbt build --target postgres` seeds, builds
every SQL model and runs the project's data and unit tests there; then every mart must equal DuckDB's.

Equal means: the same marts, the same columns in the same order, the same rows matched on the mart's grain
(its unique / unique_combination test), integers, text, dates and booleans exactly, floats within a relative
1e-9 (or 1e-9 absolute near zero). Why a tolerance for floats: both databases compute in IEEE doubles, but
not with the same algorithms (PostgreSQL's regr_slope, its ln/exp, numeric → double conversions), so a
result may differ in its last bits; sums are order-free in both (macros/exact_sum.sql), so nothing larger
may differ. A value rounded in SQL (round_double) is compared like any other float: a tie rounded the
other way would show as a difference of 0.1 and fail."""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections import defaultdict
from pathlib import Path

import duckdb
import pytest

from orchestration import settings

REL_TOL = ABS_TOL = 1e-9


@pytest.fixture(scope="module")
def built(demo_warehouse, postgres_server, tmp_path_factory):
    """(PostgreSQL URL, the dbt build's output, its target folder), from the demo warehouse's raw data."""
    import psycopg

    from orchestration.serve.dbt_postgres import build_models

    with psycopg.connect(postgres_server.url(), autocommit=True) as admin:
        admin.execute("drop database if exists boligsosial_dbt")
        admin.execute("create database boligsosial_dbt")
    url = postgres_server.url(database="boligsosial_dbt")
    target = tmp_path_factory.mktemp("dbt-postgres-target")
    run = build_models(url, demo_warehouse.path, target_path=target)
    return url, run, target


def test_dbt_build_on_postgres_builds_every_sql_model_and_passes_every_test(built):
    from orchestration.serve.dbt_postgres import DUCKDB_ONLY_MODELS

    _, run, target = built
    results = [r for r in json.loads((target / "run_results.json").read_text())["results"]
               if not r["unique_id"].startswith("exposure.")]  # exposures are listed, never run
    failed = [f"{r['unique_id']}: {r['status']} {(r.get('message') or '')[:300]}" for r in results
              if r["status"] not in ("success", "pass")]
    assert run.returncode == 0 and not failed, "\n".join(failed) or (run.stdout[-6000:] + run.stderr[-2000:])
    by_type = defaultdict(int)
    for r in results:
        by_type[r["unique_id"].split(".")[0]] += 1
    models = settings.DBT_PROJECT_DIR / "models"
    assert sorted(p.stem for p in models.rglob("*.py")) == sorted(DUCKDB_ONLY_MODELS)  # a new one must be copied
    assert by_type["model"] == len(list(models.rglob("*.sql")))
    assert by_type["seed"] == len(list((settings.DBT_PROJECT_DIR / "seeds").glob("*.csv")))
    assert by_type["test"] >= 150 and by_type["unit_test"] >= 15, dict(by_type)
    assert re.search(r"Done\. PASS=\d+ WARN=0 ERROR=0 SKIP=0", run.stdout), run.stdout[-3000:]
    # the dispatched macros wrote PostgreSQL's SQL, not DuckDB's
    compiled = next(Path(target).rglob("compiled/**/int_cohort_crosswalk.sql")).read_text()
    assert "~ '^[0-9]{4}$'" in compiled and "regexp_matches(" not in compiled


def _same(a, b) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        if a is None or b is None:
            return a is b
        a, b = float(a), float(b)
        return (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=REL_TOL, abs_tol=ABS_TOL)
    if isinstance(a, dt.datetime) and isinstance(b, dt.datetime):  # timestamptz comes back aware
        a, b = a.replace(tzinfo=None), b.replace(tzinfo=None)
    return a == b


def _order(row):
    """Rows within one key in a stable order: floats rounded so last-bit noise cannot reorder them."""
    return tuple((v is not None, f"{v:.6g}" if isinstance(v, float) else str(v)) for v in row)


def mart_differences(mart: str, columns: list[str], grain: tuple[str, ...], ours: list[tuple],
                     theirs: list[tuple]) -> list[str]:
    """What differs between DuckDB's rows (`ours`) and PostgreSQL's, named by mart, key and column."""
    floats = {i for i, _ in enumerate(columns) if any(isinstance(r[i], float) for r in ours)}
    key_at = [columns.index(c) for c in grain] or [i for i in range(len(columns)) if i not in floats]
    groups: dict[tuple, list[list[tuple]]] = defaultdict(lambda: [[], []])
    for side, rows in enumerate((ours, theirs)):
        for row in rows:
            groups[tuple(row[i] for i in key_at)][side].append(row)
    keys = [columns[i] for i in key_at]
    unmatched, differing = [], defaultdict(list)
    for key, (d_rows, p_rows) in groups.items():
        if len(d_rows) != len(p_rows):
            unmatched.append(f"{dict(zip(keys, key))}: {len(d_rows)} rows in DuckDB, {len(p_rows)} in PostgreSQL")
            continue
        for d_row, p_row in zip(sorted(d_rows, key=_order), sorted(p_rows, key=_order)):
            for column, d, p in zip(columns, d_row, p_row):
                if not _same(d, p):
                    differing[column].append((dict(zip(keys, key)), d, p))
    problems = [f"{mart}: {len(unmatched)} keys with other rows (first {unmatched[0]})"] if unmatched else []
    for column, cases in differing.items():
        where, d, p = cases[0]
        problems.append(f"{mart}.{column}: {len(cases)} values differ (first at {where}: DuckDB {d!r}, "
                        f"PostgreSQL {p!r})")
    return problems


def test_mart_differences_name_the_mart_the_key_and_the_column():
    """The comparison below is not vacuous: a changed value, a missing row and last-bit noise."""
    rows = [("0301", 2019, 1.0, "a"), ("1103", 2019, 2.0, "b")]
    assert mart_differences("m", ["code", "year", "value", "label"], ("code", "year"), rows, rows) == []
    noise = [("0301", 2019, 1.0 + 1e-13, "a"), ("1103", 2019, 2.0, "b")]
    assert mart_differences("m", ["code", "year", "value", "label"], ("code", "year"), rows, noise) == []
    changed = [("0301", 2019, 1.1, "a"), ("1103", 2019, 2.0, "B")]
    assert mart_differences("m", ["code", "year", "value", "label"], ("code", "year"), rows, changed) == [
        "m.value: 1 values differ (first at {'code': '0301', 'year': 2019}: DuckDB 1.0, PostgreSQL 1.1)",
        "m.label: 1 values differ (first at {'code': '1103', 'year': 2019}: DuckDB 'b', PostgreSQL 'B')"]
    assert mart_differences("m", ["code", "year", "value", "label"], ("code", "year"), rows, rows[:1]) == [
        "m: 1 keys with other rows (first {'code': '1103', 'year': 2019}: 1 rows in DuckDB, 0 in PostgreSQL)"]


def test_every_mart_on_postgres_equals_duckdb(built, demo_warehouse):
    import psycopg

    from orchestration.serve.contract import load_marts

    url, run, target = built
    assert run.returncode == 0, "the build failed: see the test above"
    grains = {name: mart.grain for name, mart in load_marts(target / "manifest.json").items()}
    with duckdb.connect(str(demo_warehouse.path), read_only=True) as duck, psycopg.connect(url) as pg:
        marts = [r[0] for r in duck.execute(
            "select table_name from duckdb_tables() where schema_name = 'marts' order by 1").fetchall()]
        assert len(marts) >= 17
        pg_marts = [r[0] for r in pg.execute(
            "select table_name from information_schema.tables where table_schema = 'marts' order by 1").fetchall()]
        assert pg_marts == marts
        problems, compared = [], {}
        for mart in marts:
            columns = [r[0] for r in duck.execute(
                "select column_name from duckdb_columns() where schema_name = 'marts' and table_name = ? "
                "order by column_index", [mart]).fetchall()]
            pg_columns = [r[0] for r in pg.execute(
                "select column_name from information_schema.columns where table_schema = 'marts' "
                "and table_name = %s order by ordinal_position", [mart]).fetchall()]
            if pg_columns != columns:
                problems.append(f"{mart}: columns {columns} in DuckDB, {pg_columns} in PostgreSQL")
                continue
            select = f'select {", ".join(chr(34) + c + chr(34) for c in columns)} from marts."{mart}"'
            ours, theirs = duck.execute(select).fetchall(), pg.execute(select).fetchall()
            assert ours, f"marts.{mart} is empty in DuckDB: the comparison would prove nothing"
            problems += mart_differences(mart, columns, grains.get(mart, ()), ours, theirs)
            compared[mart] = len(ours)
    assert not problems, "\n".join(problems)
    print("equal on DuckDB and PostgreSQL:", compared)
