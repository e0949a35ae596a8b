"""Loading landed files into the warehouse's `raw` schema, once each, with provenance.

`raw.load_log` records every landed file a run looked at: loaded, skipped as already loaded, or
rejected with the reason. A file whose checksum is in the log as loaded is not loaded again.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd
import pyarrow as pa

from orchestration.ingest.landing import LandedFile
from orchestration.warehouse import relation_exists

LOAD_LOG_DDL = """
create schema if not exists raw;
create table if not exists raw.load_log (
    source varchar not null,
    target_table varchar not null,
    original_name varchar not null,
    landed_path varchar not null,
    origin varchar,
    checksum varchar not null,
    received_at varchar,
    loaded_at timestamp not null,
    status varchar not null,          -- loaded | rejected | superseded | checked (fetched, unchanged)
    rows_loaded bigint,
    message varchar,
    synthetic boolean default false
);
"""


def ensure_load_log(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(LOAD_LOG_DDL)


def is_loaded(con: duckdb.DuckDBPyConnection, landed: LandedFile, target_table: str) -> bool:
    ensure_load_log(con)
    row = con.execute(
        "select count(*) from raw.load_log where checksum = ? and target_table = ? and status = 'loaded'",
        [landed.checksum, target_table],
    ).fetchone()
    return bool(row and row[0])


def record(
    con: duckdb.DuckDBPyConnection,
    landed: LandedFile,
    target_table: str,
    status: str,
    rows: int | None = None,
    message: str | None = None,
) -> None:
    ensure_load_log(con)
    con.execute(
        "insert into raw.load_log values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            landed.source,
            target_table,
            landed.original_name,
            landed.path,
            landed.origin,
            landed.checksum,
            landed.received_at,
            dt.datetime.now(dt.timezone.utc).replace(tzinfo=None),
            status,
            rows,
            message,
            bool(landed.extra.get("synthetic", False)),
        ],
    )


def append_frame(con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame | pa.Table) -> int:
    """Append a DataFrame or an Arrow table to a raw table, creating the table from its columns on first use."""
    if len(frame) == 0:
        return 0
    con.execute("create schema if not exists raw")
    con.register("_incoming", frame)
    try:
        if relation_exists(con, f"raw.{table}"):
            con.execute(f"insert into raw.{table} by name select * from _incoming")
        else:
            con.execute(f"create table raw.{table} as select * from _incoming")
    finally:
        con.unregister("_incoming")
    return len(frame)
