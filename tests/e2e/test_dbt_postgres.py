"""The same dbt models on PostgreSQL: the session's demo warehouse (DuckDB) gives its raw and reference
schemas, copied with the publisher's COPY into a throwaway PostgreSQL server on loopback; `dbt seed` and
`dbt run --target postgres` build every SQL model there, and every mart must equal DuckDB's (same columns,
same rows; floats to 1e-9 relative). The tagger's three Python models run only in DuckDB: their tables are
copied, and the marts built on them (fct_answer_theme, rpt_qualitative_*) are computed by PostgreSQL."""

from __future__ import annotations

import datetime as dt
import decimal
import math
import re
from pathlib import Path

import duckdb
import pytest

from orchestration import settings


@pytest.fixture(scope="module")
def built(demo_warehouse, postgres_server, tmp_path_factory):
    """(PostgreSQL URL, the dbt run's output, its target folder), from the demo warehouse's raw data."""
    import psycopg

    from orchestration.serve.dbt_postgres import build_models

    with psycopg.connect(postgres_server.url(), autocommit=True) as admin:
        admin.execute("drop database if exists boligsosial_dbt")
        admin.execute("create database boligsosial_dbt")
    url = postgres_server.url(database="boligsosial_dbt")
    target = tmp_path_factory.mktemp("dbt-postgres-target")
    run = build_models(url, demo_warehouse.path, target_path=target)
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
    return url, run.stdout, target


def _cell(value):
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.replace(tzinfo=None)
    return value


def _sort_key(row):
    # floats rounded for ordering only (compared below within a tolerance); None first
    return tuple((v is not None, f"{v:.6g}" if isinstance(v, float) else str(v)) for v in row)


def _same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    return a == b


def test_every_sql_model_builds_on_postgres_with_postgres_sql(built):
    from orchestration.serve.dbt_postgres import DUCKDB_ONLY_MODELS

    _, output, target = built
    models = settings.DBT_PROJECT_DIR / "models"
    sql_models = len(list(models.rglob("*.sql")))
    python_models = sorted(p.stem for p in models.rglob("*.py"))
    assert python_models == sorted(DUCKDB_ONLY_MODELS)  # a new Python model must be copied too
    assert f"PASS={sql_models} WARN=0 ERROR=0 SKIP=0" in output, output[-3000:]
    # the dispatched macros wrote PostgreSQL's SQL, not DuckDB's
    compiled = next(Path(target).rglob("int_register_dwellings_classified.sql")).read_text()
    assert "array_agg(target_group order by tenancy_start desc)" in compiled and "arg_max(" not in compiled


def test_the_data_and_unit_tests_pass_on_postgres(built):
    """The project's tests (grain, not-null, relationships, accepted values, and the unit tests, whose names
    dbt turns into relations of at most PostgreSQL's 63 characters) on the PostgreSQL build."""
    from orchestration.serve.dbt_postgres import run_dbt

    url, _, target = built
    tested = run_dbt(url, "test", target_path=target)
    assert tested.returncode == 0, tested.stdout[-6000:]
    done = re.search(r"Done\. PASS=(\d+) WARN=\d+ ERROR=0 SKIP=0", tested.stdout)
    assert done and int(done.group(1)) >= 150, tested.stdout[-3000:]


def test_every_mart_on_postgres_equals_duckdb(built, demo_warehouse):
    import psycopg

    url, _, _ = built
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
            assert pg_columns == columns, mart
            select = f'select {", ".join(chr(34) + c + chr(34) for c in columns)} from marts."{mart}"'
            ours = sorted((tuple(map(_cell, r)) for r in duck.execute(select).fetchall()), key=_sort_key)
            theirs = sorted((tuple(map(_cell, r)) for r in pg.execute(select).fetchall()), key=_sort_key)
            assert ours, f"marts.{mart} is empty in DuckDB: the comparison would prove nothing"
            if len(ours) != len(theirs):
                problems.append(f"{mart}: {len(ours)} rows in DuckDB, {len(theirs)} in PostgreSQL")
                continue
            for d_row, p_row in zip(ours, theirs):
                bad = [(c, d, p) for c, d, p in zip(columns, d_row, p_row) if not _same(d, p)]
                if bad:
                    problems.append(f"{mart}: first differing row, (column, DuckDB, PostgreSQL): {bad[:4]}")
                    break
            compared[mart] = len(ours)
    assert not problems, "\n".join(problems)
    print("equal on DuckDB and PostgreSQL:", compared)
