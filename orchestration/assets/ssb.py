"""SSB statistics (KOSTRA, IPLOS, population): fetch when a table's `updated` moved, land, load raw.

Demo mode reads the embedded demo release files (the same json-stat2 documents the API answers);
live mode calls the API. Both go through the same landing and parsing, and both keep every release
(KOSTRA's unrevised 15 March and revised 15 June figures) instead of overwriting.
"""


import json
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd
import yaml

from orchestration import landing, raw, settings
from orchestration.resources import WarehouseResource

SOURCE = "ssb"
RAW_TABLE = "ssb_observations"


def load_table_config(path: Path | None = None) -> list[dict]:
    return yaml.safe_load((path or settings.CONFIG_DIR / "ssb_tables.yaml").read_text(encoding="utf-8"))["tables"]


class RejectedData(RuntimeError):
    """Input that can never load as it is: retrying would not help, a person must look."""


@dataclass
class Release:
    """One release of one table: its `GET /tables/{id}` answer and its data documents."""

    table_id: str
    updated: str
    info: bytes
    documents: dict[str, bytes]  # query name -> json-stat2 bytes
    origin: str
    synthetic: bool


def demo_releases(table: dict, demo_dir: Path) -> list[Release]:
    """The demo release folders of a table, oldest first."""
    base = demo_dir / "ssb" / table["table_id"]
    folders = sorted((base / "vintages").glob("*")) + [base] if base.exists() else []
    releases = []
    for folder in folders:
        info = (folder / "table.json").read_bytes()
        docs = {p.stem.removeprefix("data__"): p.read_bytes() for p in sorted(folder.glob("data__*.json"))}
        releases.append(Release(table["table_id"], json.loads(info)["updated"], info, docs, str(folder), True))
    return sorted(releases, key=lambda r: r.updated)


def live_release(table: dict, client, known_updated: str | None) -> Release | None:
    """Ask SSB whether the table moved (`GET /tables/{id}`); download it only then."""
    from orchestration.sources.ssb import SsbError

    changed, updated = client.has_changed(table["table_id"], known_updated)  # compares instants, not strings
    if not changed:
        return None
    info = client.table_info(table["table_id"])
    documents: dict[str, bytes] = {}
    for query in table["queries"]:
        try:
            docs = client.fetch(table["table_id"], query["selection"], query.get("codelists"))
        except SsbError as err:
            raise SsbError(f"SSB table {table['table_id']} ({table['title']}), query {query['name']}: {err}") from err
        for i, doc in enumerate(docs):
            name = query["name"] if len(docs) == 1 else f"{query['name']}__part{i + 1:03d}"
            documents[name] = json.dumps(doc, ensure_ascii=False).encode("utf-8")
    if not updated:  # v0 has no table-level `updated`: fall back to the data's own stamp
        updated = max((json.loads(d).get("updated") or "" for d in documents.values()), default="")
    return Release(table["table_id"], updated, json.dumps(info).encode(), documents, client.base_url, False)


VERSIONS_DDL = """
create schema if not exists raw;
create table if not exists raw.ssb_table_versions (
    table_id varchar not null,
    updated varchar not null,       -- the table's `updated` (GET /tables/{id}): what change detection compares
    origin varchar,
    loaded_at timestamp not null,
    cells bigint,
    synthetic boolean
);
"""


def known_updates(con: duckdb.DuckDBPyConnection) -> dict[str, set[str]]:
    """The table-level `updated` stamps already loaded, per table."""
    con.execute(VERSIONS_DDL)
    out: dict[str, set[str]] = {}
    for table_id, updated in con.execute("select distinct table_id, updated from raw.ssb_table_versions").fetchall():
        out.setdefault(table_id, set()).add(updated)
    return out


def load_release(con: duckdb.DuckDBPyConnection, table: dict, release: Release) -> int:
    """Land the release's files and append their cells to raw.ssb_observations."""
    from orchestration.sources.jsonstat import parse_jsonstat2

    stamp = release.updated.replace(":", "")
    landing.land_bytes(SOURCE, f"{release.table_id}__{stamp}__table.json", release.info, release.origin,
                       {"table_id": release.table_id, "updated": release.updated, "synthetic": release.synthetic})
    total = 0
    for query, payload in release.documents.items():
        landed, _ = landing.land_bytes(
            SOURCE, f"{release.table_id}__{stamp}__{query}.json", payload, release.origin,
            {"table_id": release.table_id, "updated": release.updated, "query": query,
             "synthetic": release.synthetic},
        )
        if raw.is_loaded(con, landed, RAW_TABLE):
            continue
        try:
            frame = parse_jsonstat2(json.loads(payload), table_id=release.table_id)
        except Exception as err:  # a malformed answer must name the table and stop the run
            raw.record(con, landed, RAW_TABLE, "rejected", message=str(err))
            landing.mark_rejected(landed, str(err))
            raise RejectedData(f"SSB table {release.table_id} ({table['title']}), {landed.path}: {err}") from err
        frame["table_updated"] = frame["table_updated"].fillna(release.updated)
        frame["query_name"] = query
        frame["source_url"] = release.origin
        frame["landed_path"] = landed.path
        frame["checksum"] = landed.checksum
        frame["fetched_at"] = pd.Timestamp(landed.received_at).tz_convert(None)
        frame["synthetic"] = release.synthetic
        rows = raw.append_frame(con, RAW_TABLE, frame)
        raw.record(con, landed, RAW_TABLE, "loaded", rows=rows)
        total += rows
    con.execute(
        "insert into raw.ssb_table_versions values (?, ?, ?, now()::timestamp, ?, ?)",
        [release.table_id, release.updated, release.origin, total, release.synthetic],
    )
    return total


def write_contents_map(con: duckdb.DuckDBPyConnection, tables: list[dict]) -> None:
    """The configured ContentsCode → measure mapping, for staging to join (configuration as data)."""
    rows = [
        {"table_key": t["key"], "table_id": t["table_id"], "contents_code": code, "measure": spec["measure"],
         "kind": spec["kind"], "confirmed": bool(spec.get("confirmed", False)), "kostra": bool(t.get("kostra"))}
        for t in tables for code, spec in t["contents"].items()
    ]
    con.execute("create schema if not exists raw")
    con.register("_map", pd.DataFrame(rows))
    con.execute("create or replace table raw.ssb_contents_map as select * from _map")
    con.unregister("_map")


def ingest(con: duckdb.DuckDBPyConnection, log=print) -> dict[str, int]:
    tables = load_table_config()
    write_contents_map(con, tables)
    known = known_updates(con)
    loaded: dict[str, int] = {}
    client = None
    if settings.source_mode() == "live":
        from orchestration.sources.ssb import SsbClient

        client = SsbClient(base_url=settings.ssb_api_url())
    for table in tables:
        seen = known.get(table["table_id"], set())
        if client is None:
            releases = [r for r in demo_releases(table, settings.demo_data_dir()) if r.updated not in seen]
        else:
            latest = max(seen) if seen else None
            release = live_release(table, client, latest)
            releases = [release] if release else []
        rows = sum(load_release(con, table, r) for r in releases)
        loaded[table["table_id"]] = rows
        log(f"SSB {table['table_id']} {table['title']}: {len(releases)} new release(s), {rows:,} cells loaded")
    return loaded


@dg.asset(
    key=["raw", RAW_TABLE],
    group_name="raw",
    kinds={"duckdb", "python"},
    description="Every cell of the configured SSB tables (KOSTRA, IPLOS, population), one row per cell, "
    "status symbols kept, every release kept.",
    retry_policy=dg.RetryPolicy(max_retries=2, delay=10, backoff=dg.Backoff.EXPONENTIAL),
)
def ssb_observations(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    with warehouse.build(context).connect() as con:
        try:
            loaded = ingest(con, log=context.log.info)
        except RejectedData as err:  # the retry policy is for the network, not for bad data
            raise dg.Failure(description=str(err), allow_retries=False) from err
        total_rows = con.execute(f"select count(*) from raw.{RAW_TABLE}").fetchone()[0]
    return dg.MaterializeResult(
        metadata={"cells_loaded_this_run": sum(loaded.values()), "cells_total": total_rows,
                  "per_table": dg.MetadataValue.json(loaded), "mode": settings.source_mode()}
    )
