"""The marts' contract as dbt declares it: column names, types, not-null constraints, descriptions and the
grain (the `unique` / `unique_combination` test). PostgreSQL publication and the exports both serve exactly
this, and refuse a warehouse whose marts no longer match it (built before a contract change)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

MARTS_SCHEMA = "marts"


@dataclass(frozen=True)
class Column:
    name: str
    data_type: str          # as written in the dbt contract (both databases accept it), lower case
    description: str = ""
    not_null: bool = False


@dataclass(frozen=True)
class Mart:
    name: str
    description: str
    columns: tuple[Column, ...]
    grain: tuple[str, ...] = ()       # the columns dbt tests unique together; () when none is tested
    contract_enforced: bool = False
    kind: str = field(default="mart")

    @property
    def grain_is_primary_key(self) -> bool:
        """A primary key needs NOT NULL columns; a grain with nullable columns becomes a unique index."""
        by_name = {c.name: c for c in self.columns}
        return bool(self.grain) and all(by_name[c].not_null for c in self.grain if c in by_name)

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)


class ContractMismatch(RuntimeError):
    """The published warehouse does not hold what the dbt contract promises."""


def manifest_path() -> Path:
    from orchestration.project import ensure_manifest  # dbt parse when the manifest is missing or stale

    return ensure_manifest()


def load_marts(manifest: Path | None = None) -> dict[str, Mart]:
    """Every model materialised in the marts schema, by name, from dbt's manifest.json."""
    data = json.loads((manifest or manifest_path()).read_text())
    models = {uid: n for uid, n in data["nodes"].items()
              if n["resource_type"] == "model" and n["config"].get("schema") == MARTS_SCHEMA
              and n["config"].get("materialized") != "ephemeral"}
    grains: dict[str, tuple[str, ...]] = {}
    for node in data["nodes"].values():
        if node["resource_type"] != "test" or node.get("attached_node") not in models:
            continue
        meta = node.get("test_metadata") or {}
        kwargs = meta.get("kwargs") or {}
        if meta.get("name") == "unique_combination":
            grain = tuple(kwargs.get("columns") or ())
        elif meta.get("name") == "unique" and node.get("column_name"):
            grain = (node["column_name"],)
        else:
            continue
        current = grains.get(node["attached_node"])
        if current is None or len(grain) < len(current):  # the narrowest tested grain
            grains[node["attached_node"]] = grain
    marts = {}
    for uid, node in models.items():
        columns = tuple(
            Column(name=c["name"], data_type=(c.get("data_type") or "").lower(),
                   description=(c.get("description") or "").strip(),
                   not_null=any(k.get("type") == "not_null" for k in c.get("constraints") or []))
            for c in node["columns"].values())
        name = node.get("alias") or node["name"]
        marts[name] = Mart(name=name, description=(node.get("description") or "").strip(), columns=columns,
                           grain=grains.get(uid, ()),
                           contract_enforced=bool(node["config"].get("contract", {}).get("enforced")),
                           kind="report" if name.startswith("rpt_") else "mart")
    return marts


def warehouse_marts(con: duckdb.DuckDBPyConnection, contracts: dict[str, Mart]) -> list[Mart]:
    """The marts of a DuckDB warehouse, checked against the contract; in name order.

    A table with a contract must have exactly the contract's columns, in order, with its types; a mart table
    without one (not expected) is served with DuckDB's own types and no descriptions.
    """
    tables = [r[0] for r in con.execute(
        "select table_name from duckdb_tables() where schema_name = ? order by table_name", [MARTS_SCHEMA]
    ).fetchall()]
    if not tables:
        raise ContractMismatch(f"the warehouse has no tables in schema {MARTS_SCHEMA!r}: run `make demo` first")
    result = []
    for table in tables:
        actual = con.execute(
            "select column_name, data_type from duckdb_columns() where schema_name = ? and table_name = ? "
            "order by column_index", [MARTS_SCHEMA, table]).fetchall()
        mart = contracts.get(table)
        if mart is None or not mart.columns:
            comment = con.execute("select comment from duckdb_tables() where schema_name = ? and table_name = ?",
                                  [MARTS_SCHEMA, table]).fetchone()[0]
            mart = Mart(name=table, description=comment or "",
                        columns=tuple(Column(n, t.lower()) for n, t in actual))
        else:
            expected = [(c.name, _normalise(c.data_type)) for c in mart.columns]
            found = [(n, _normalise(t)) for n, t in actual]
            if expected != found:
                missing = [c for c in expected if c not in found]
                extra = [c for c in found if c not in expected]
                raise ContractMismatch(
                    f"marts.{table} in the warehouse does not match its dbt contract "
                    f"(missing {missing or 'none'}, unexpected {extra or 'none'}): rebuild the warehouse "
                    "(`make demo` or a run of full_pipeline) before serving it")
        result.append(mart)
    missing_tables = sorted(set(contracts) - set(tables))
    if missing_tables:
        raise ContractMismatch(f"the warehouse lacks the marts {missing_tables}: rebuild it before serving it")
    return result


_ALIASES = {"varchar": "varchar", "text": "varchar", "string": "varchar", "int": "integer", "int4": "integer",
            "integer": "integer", "int8": "bigint", "bigint": "bigint", "long": "bigint", "smallint": "smallint",
            "int2": "smallint", "double": "double", "float8": "double", "double precision": "double",
            "float": "float", "real": "float", "float4": "float", "bool": "boolean", "boolean": "boolean",
            "date": "date", "timestamp": "timestamp", "timestamp with time zone": "timestamptz",
            "timestamptz": "timestamptz", "hugeint": "hugeint"}


def _normalise(data_type: str) -> str:
    t = re.sub(r"\s+", " ", data_type.strip().lower())
    if t.startswith(("decimal", "numeric")):
        return t.replace("numeric", "decimal").replace(" ", "")
    return _ALIASES.get(t, t)


def duckdb_type(data_type: str) -> str:
    """A contract type as DuckDB names it ('double precision', which both databases accept, is 'double')."""
    return _normalise(data_type)


# DuckDB type (as normalised above) → PostgreSQL type.
_POSTGRES_TYPES = {"varchar": "text", "integer": "integer", "bigint": "bigint", "smallint": "smallint",
                   "double": "double precision", "float": "real", "boolean": "boolean", "date": "date",
                   "timestamp": "timestamp", "timestamptz": "timestamptz", "hugeint": "numeric(38,0)"}


def postgres_type(data_type: str, where: str = "") -> str:
    """The PostgreSQL column type for a contract type; unknown types are refused by name."""
    t = _normalise(data_type)
    if t.startswith("decimal"):
        return t.replace("decimal", "numeric")
    if t in _POSTGRES_TYPES:
        return _POSTGRES_TYPES[t]
    raise ContractMismatch(f"{where or 'a column'} has type {data_type!r}, which has no PostgreSQL mapping here")
