"""The dbt project stays buildable on PostgreSQL (tests/e2e/test_dbt_postgres.py builds it there): no
DuckDB-only SQL outside macros/portable.sql, unit-test names within PostgreSQL's 63-character relation
names, and the `postgres` target's connection read from a URL."""

from __future__ import annotations

import re

import pytest
import yaml
from repo_paths import REPO_ROOT

DBT = REPO_ROOT / "dbt_project"

# What DuckDB accepts and PostgreSQL does not, with what to write instead (macros/portable.sql).
DUCKDB_ONLY = {
    r"\bqualify\b": "a ranked subquery or `distinct on`",
    r"\bgroup\s+by\s+all\b": "the grouped columns by name",
    r"\*\s*(exclude|replace|rename)\s*\(": "the columns by name",
    r"\bunion\s+all\s+by\s+name\b": "union all with the columns in the same order",
    r"\bas\s+double\s*\)": "double precision",
    r"(?<![\w.])(?<!\{\{ )(arg_max|arg_min|printf|strftime|regexp_matches|json_extract_string|string_split|try_cast|"
    r"date_diff|median|any_value|list_\w+)\s*\(": "the macro in macros/portable.sql (any_value: dbt.any_value)",
    r"(?<![\w'{])round\s*\(": "round_double (PostgreSQL rounds numerics only)",
}


def _sql_without_comments(text: str) -> str:
    text = re.sub(r"\{#.*?#\}", "", text, flags=re.S)
    return re.sub(r"--[^\n]*", "", text)


def test_models_and_macros_use_only_sql_both_databases_accept():
    found = []
    for path in sorted([*DBT.glob("models/**/*.sql"), *DBT.glob("macros/**/*.sql"), *DBT.glob("tests/**/*.sql")]):
        if path.name == "portable.sql":
            continue
        text = _sql_without_comments(path.read_text(encoding="utf-8"))
        for pattern, instead in DUCKDB_ONLY.items():
            for match in re.finditer(pattern, text, flags=re.I):
                line = text.count("\n", 0, match.start()) + 1
                found.append(f"{path.relative_to(DBT)}:{line}: {match.group(0)!r} → {instead}")
    assert not found, "DuckDB-only SQL:\n" + "\n".join(found)


def test_contract_types_are_spelt_the_way_both_databases_accept():
    found = []
    for path in sorted(DBT.glob("models/**/*.yml")):
        for model in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("models") or []:
            for column in model.get("columns") or []:
                if str(column.get("data_type", "")).strip().lower() in ("double", "float"):
                    found.append(f"{path.relative_to(DBT)}: {model['name']}.{column['name']} "
                                 f"({column['data_type']}: write double precision)")
    assert not found, "\n".join(found)


def test_unit_test_names_fit_postgresql_relation_names():
    """dbt names a relation after each unit test; PostgreSQL refuses names longer than 63 characters."""
    names = [(u["name"], path.relative_to(DBT)) for path in sorted(DBT.glob("models/**/*.yml"))
             for u in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("unit_tests") or []]
    assert len(names) >= 15
    too_long = [f"{where}: {name} ({len(name)})" for name, where in names if len(name) > 63]
    assert not too_long, "\n".join(too_long)


@pytest.mark.parametrize("url,expected", [
    ("postgresql://dbt%40team:p%C3%A5ss%3Aw@db.example.org:6543/bygg",
     {"BOLIGSOSIAL_DBT_PG_HOST": "db.example.org", "BOLIGSOSIAL_DBT_PG_PORT": "6543",
      "BOLIGSOSIAL_DBT_PG_USER": "dbt@team", "BOLIGSOSIAL_DBT_PG_PASSWORD": "påss:w",
      "BOLIGSOSIAL_DBT_PG_DATABASE": "bygg"}),
    ("postgresql://u@localhost/x",
     {"BOLIGSOSIAL_DBT_PG_HOST": "localhost", "BOLIGSOSIAL_DBT_PG_PORT": "5432", "BOLIGSOSIAL_DBT_PG_USER": "u",
      "BOLIGSOSIAL_DBT_PG_PASSWORD": "", "BOLIGSOSIAL_DBT_PG_DATABASE": "x"}),
])
def test_the_postgres_target_reads_its_connection_from_the_url(url, expected):
    from orchestration.serve.dbt_postgres import profile_env

    assert profile_env(url) == expected
