"""The same dbt models in a PostgreSQL server (dbt-postgres, the profile's `postgres` target).

The loaders write DuckDB, so a build in PostgreSQL starts by copying its inputs there: the schemas `raw` and
`reference` of a DuckDB warehouse, table by table with the publisher's COPY, replaced in one transaction.
The tagger's dbt Python models (tag `duckdb_only`: dbt-postgres runs no Python models) are copied as they
are, computed by DuckDB, into `intermediate`; every other model is built by PostgreSQL, and tested there,
with `dbt build --target postgres --exclude tag:duckdb_only`. The SQL that differs between the two databases is in
dbt_project/macros/portable.sql, one dispatched macro per function.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

import duckdb

from orchestration.serve.contract import postgres_type
from orchestration.serve.postgres import connect, copy_rows

SOURCE_SCHEMAS = ("raw", "reference")
DUCKDB_ONLY_TAG = "duckdb_only"
# The Python models' tables (schema intermediate), copied from DuckDB rather than built in PostgreSQL.
DUCKDB_ONLY_MODELS = ("int_answer_classified", "int_answer_theme_tagged", "int_qualitative_themes")


@dataclass(frozen=True)
class SourceCopy:
    tables: dict[str, int]  # schema.table → rows


def copy_sources(url: str, warehouse: Path) -> SourceCopy:
    """Replace the raw and reference schemas and the Python models' tables in the database at `url` by the
    DuckDB warehouse's (column types mapped as the marts' contracts are); one transaction, so a failed copy
    leaves the previous ones."""
    from psycopg import sql

    if not warehouse.exists():
        raise FileNotFoundError(f"no warehouse at {warehouse}: run `make demo` first")
    counts: dict[str, int] = {}
    with duckdb.connect(str(warehouse), read_only=True) as duck, connect(url) as pg, pg.cursor() as cur:
        for schema in SOURCE_SCHEMAS:
            cur.execute(sql.SQL("drop schema if exists {} cascade").format(sql.Identifier(schema)))
            cur.execute(sql.SQL("create schema {}").format(sql.Identifier(schema)))
            tables = duck.execute("select table_name from duckdb_tables() where schema_name = ? order by 1",
                                  [schema]).fetchall()
            for (table,) in tables:
                counts[f"{schema}.{table}"] = _copy_table(cur, duck, schema, table)
        cur.execute("create schema if not exists intermediate")
        for table in DUCKDB_ONLY_MODELS:
            cur.execute(sql.SQL("drop table if exists {} cascade").format(sql.Identifier("intermediate", table)))
            counts[f"intermediate.{table}"] = _copy_table(cur, duck, "intermediate", table)
        pg.commit()
    return SourceCopy(counts)


def _copy_table(cur, duck: duckdb.DuckDBPyConnection, schema: str, table: str) -> int:
    from psycopg import sql

    columns = duck.execute("select column_name, data_type from duckdb_columns() "
                           "where schema_name = ? and table_name = ? order by column_index", [schema, table]).fetchall()
    if not columns:
        raise FileNotFoundError(f"the warehouse has no table {schema}.{table}: run the pipeline (make demo) first")
    target = sql.Identifier(schema, table)
    definitions = [sql.SQL("{} {}").format(sql.Identifier(name),
                                           sql.SQL(postgres_type(kind, f"{schema}.{table}.{name}")))
                   for name, kind in columns]
    cur.execute(sql.SQL("create table {} ({})").format(target, sql.SQL(", ").join(definitions)))
    rows = copy_rows(cur, duck, f'"{schema}"."{table}"', target, [name for name, _ in columns])
    cur.execute(sql.SQL("analyze {}").format(target))
    return rows


def profile_env(url: str) -> dict[str, str]:
    """The environment the profile's `postgres` target reads, from a postgresql:// URL."""
    parts = urlsplit(url)
    return {
        "BOLIGSOSIAL_DBT_PG_HOST": parts.hostname or "localhost",
        "BOLIGSOSIAL_DBT_PG_PORT": str(parts.port or 5432),
        "BOLIGSOSIAL_DBT_PG_USER": unquote(parts.username or ""),
        "BOLIGSOSIAL_DBT_PG_PASSWORD": unquote(parts.password or ""),
        "BOLIGSOSIAL_DBT_PG_DATABASE": parts.path.lstrip("/") or "postgres",
    }


def run_dbt(url: str, *args: str, target_path: Path | None = None) -> subprocess.CompletedProcess:
    """`dbt <args> --target postgres` in the dbt project, against the database at `url`."""
    from orchestration.project import POSTGRES_TARGET_DIR, dbt_executable
    from orchestration.settings import DBT_PROJECT_DIR as dbt_project

    # PGOPTIONS (unless set): the models are one-off queries over CTEs whose rows PostgreSQL cannot estimate
    # (a union, a recursive walk: 6 rows guessed, 6,426 there), so it picked nested loops that compared
    # millions of pairs (int_cohort_codes_mapped 564 s, int_municipality_year 5.9 s → 0.5 s without); and
    # JIT compiling cost more than it saved (int_municipality_year: 4.8 s of 9.1 s).
    env = {"PGOPTIONS": "-c jit=off -c enable_nestloop=off", **os.environ, **profile_env(url)}
    return subprocess.run([dbt_executable(), *args, "--target", "postgres", "--project-dir", str(dbt_project),
                           "--profiles-dir", str(dbt_project), "--target-path", str(target_path or POSTGRES_TARGET_DIR)],
                          capture_output=True, text=True, env=env, cwd=dbt_project)


def build_models(url: str, warehouse: Path, *, target_path: Path | None = None) -> subprocess.CompletedProcess:
    """Copy the inputs, then one `dbt build` in PostgreSQL: seeds, every SQL model, the data and unit tests
    (one process, so the project is parsed once); check returncode."""
    copy_sources(url, warehouse)
    return run_dbt(url, "build", "--exclude", f"tag:{DUCKDB_ONLY_TAG}", target_path=target_path)
