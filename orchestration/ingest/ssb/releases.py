"""SSB releases (KOSTRA, IPLOS, population): fetch when a table's `updated` moved, land, load raw.

Demo mode reads the embedded demo release files (the same json-stat2 documents the API answers);
live mode calls the API. Both go through the same landing and parsing, and both keep every release
(KOSTRA's unrevised 15 March and revised 15 June figures) instead of overwriting.
"""


import json
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from orchestration import settings
from orchestration.ingest import landing, raw
from orchestration.warehouse import relation_exists

SOURCE = "ssb"
RAW_TABLE = "ssb_observations"


def load_table_config(path: Path | None = None) -> list[dict]:
    """The configured tables with `contents` built from the per-measure catalogue (ingest/ssb/catalogue.py)."""
    from orchestration.ingest.ssb.catalogue import load_tables

    return load_tables(path)


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


def live_release(table: dict, client, known_updated: str | None, years: list[int] | None = None) -> Release | None:
    """Ask SSB whether the table moved (`GET /tables/{id}`); download it (for `years` only) only then.

    `years` are the periods to ask for; a table is never asked for a year it does not hold (SSB answers
    400 «Non-existent value»), so callers pass the years the catalogue and the table's metadata agree on.
    """
    from orchestration.ingest.ssb.client import SsbError

    info = client.table_info(table["table_id"])
    changed, updated = client.changed_since(info, known_updated)  # compares instants, not strings
    if not changed:
        return None
    documents: dict[str, bytes] = {}
    for query in table["queries"]:
        selection = dict(query["selection"])
        if years:
            selection["Tid"] = [str(y) for y in years]
        elif "Tid" not in selection:  # periods unknown: from the table's own first period on
            selection["Tid"] = f"from({info.get('firstPeriod')})" if info.get("firstPeriod") else "*"
        try:
            docs = client.fetch(table["table_id"], selection, query.get("codelists"))
        except SsbError as err:
            # keep the class: a query error (no retry) must stay distinguishable from a service failure
            raise type(err)(f"SSB table {table['table_id']} ({table['title']}), query {query['name']}: {err}") from err
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
    year integer not null,          -- one row per statistics year loaded from that release
    origin varchar,
    loaded_at timestamp not null,
    cells bigint,
    synthetic boolean
);
"""


def loaded_years(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], set[int]]:
    """(table, `updated` stamp) → the statistics years already loaded from that release."""
    con.execute(VERSIONS_DDL)
    out: dict[tuple[str, str], set[int]] = {}
    for table_id, updated, year in con.execute("select table_id, updated, year from raw.ssb_table_versions").fetchall():
        out.setdefault((table_id, updated), set()).add(year)
    return out


def window_for(table: dict, years: list[int] | None) -> list[int] | None:
    """Population is dated 1 January: a statistics year also needs the next year's figure."""
    if years is None or table["key"] != "population":
        return years
    return sorted(set(years) | {y + 1 for y in years})


def load_release(con: duckdb.DuckDBPyConnection, table: dict, release: Release, years: set[int] | None = None,
                 reload: bool = False) -> int:
    """Land the release's files and append their cells (for `years`, default all) to raw.ssb_observations."""
    from orchestration.ingest.ssb.jsonstat import parse_jsonstat2_arrow

    stamp = release.updated.replace(":", "")
    loaded_now: set[int] = set()
    landing.land_bytes(SOURCE, f"{release.table_id}__{stamp}__table.json", release.info, release.origin,
                       {"table_id": release.table_id, "updated": release.updated, "synthetic": release.synthetic})
    total = 0
    if reload and years:
        # Once, before any document loads: deleting per document made the release's second query (07459's
        # 80+) delete the first one's (the total) freshly loaded cells, and vice versa.
        _delete_years(con, release, years)
    for query, payload in release.documents.items():
        landed, _ = landing.land_bytes(
            SOURCE, f"{release.table_id}__{stamp}__{query}.json", payload, release.origin,
            {"table_id": release.table_id, "updated": release.updated, "query": query,
             "synthetic": release.synthetic},
        )
        if raw.is_loaded(con, landed, RAW_TABLE) and years is None and not reload:
            continue
        try:
            cells = parse_jsonstat2_arrow(json.loads(payload), table_id=release.table_id)
        except Exception as err:  # a malformed answer must name the table and stop the run
            raw.record(con, landed, RAW_TABLE, "rejected", message=str(err))
            landing.mark_rejected(landed, str(err))
            raise RejectedData(f"SSB table {release.table_id} ({table['title']}), {landed.path}: {err}") from err
        cell_years = statistics_years(cells["period"])
        if years is not None:
            keep = np.isin(cell_years, list(years))
            cells, cell_years = cells.filter(pa.array(keep)), cell_years[keep]
        rows = raw.append_frame(con, RAW_TABLE, with_provenance(cells, release, query, landed))
        raw.record(con, landed, RAW_TABLE, "loaded", rows=rows, message=_years_note(years))
        total += rows
        loaded_now.update(int(y) for y in np.unique(cell_years[~np.isnan(cell_years)]))
    if reload and years:
        con.execute(f"delete from raw.ssb_table_versions where table_id = ? and updated = ? "
                    f"and year in ({', '.join(str(int(y)) for y in years)})", [release.table_id, release.updated])
    # Record every year this release was consulted for, also those it has no cells for (an unrevised
    # release covers only its newest year), so the next run does not consult it again.
    # One statement for all the years (a row per year, one insert each took ≈ 2 ms, ≈ 200 a cold load).
    consulted = sorted(int(y) for y in loaded_now | (years or set()))
    if consulted:
        con.execute("insert into raw.ssb_table_versions select ?, ?, unnest(?::integer[]), ?, now()::timestamp, ?, ?",
                    [release.table_id, release.updated, consulted, release.origin, total, release.synthetic])
    return total


def with_provenance(cells: pa.Table, release: Release, query: str, landed: landing.LandedFile) -> pa.Table:
    """The cells with where they came from. The release is identified by the table's `updated`
    (GET /tables/{id}); the dataset's own stamp can differ and is kept beside it as `data_updated`."""
    from orchestration.ingest.ssb.jsonstat import constant

    n = cells.num_rows
    received = pd.Timestamp(landed.received_at).tz_convert(None).to_pydatetime()
    provenance = {"data_updated": cells["table_updated"], "query_name": constant(query, n),
                  "source_url": constant(release.origin, n), "landed_path": constant(landed.path, n),
                  "checksum": constant(landed.checksum, n),
                  "fetched_at": pa.repeat(pa.scalar(received, pa.timestamp("us")), n),
                  "synthetic": pa.repeat(bool(release.synthetic), n)}
    cells = cells.set_column(cells.schema.get_field_index("table_updated"), "table_updated",
                             constant(release.updated, n))
    for name, column in provenance.items():
        cells = cells.append_column(name, column)
    return cells


def statistics_years(periods: pa.ChunkedArray) -> np.ndarray:
    """Each cell's statistics year (NaN where it has no period or its period names none), worked out once per
    distinct period."""
    periods = periods.combine_chunks()
    if not pa.types.is_dictionary(periods.type):  # an empty document's table
        periods = periods.dictionary_encode()
    years = pd.to_numeric(pd.Series(periods.dictionary.to_pylist(), dtype=object).str[:4], errors="coerce")
    years = np.append(years.to_numpy(dtype=float), np.nan)  # the last: a cell without a period
    return years[periods.indices.fill_null(len(years) - 1).to_numpy()]


def _years_note(years: set[int] | None) -> str | None:
    return None if years is None else f"years {min(years)}–{max(years)}" if years else "no years"


def query_of(document: str) -> str:
    """The configured query a document answers: a long answer comes in parts `<query>__partNNN`."""
    return document.split("__part", 1)[0]


def _delete_years(con: duckdb.DuckDBPyConnection, release: Release, years: set[int]) -> int:
    """A reload replaces the cells of exactly what it reloads: this table, this release, the queries the
    release brings (in whatever parts they came before) and these years. Returns the cells deleted."""
    if not relation_exists(con, f"raw.{RAW_TABLE}"):
        return 0
    queries = sorted({query_of(name) for name in release.documents})
    if not queries:
        return 0
    where = (f"table_id = ? and table_updated = ? "
             f"and split_part(query_name, '__part', 1) in ({', '.join('?' for _ in queries)}) "
             f"and try_cast(left(period, 4) as integer) in ({', '.join(str(int(y)) for y in sorted(years))})")
    params = [release.table_id, release.updated, *queries]
    deleted = con.execute(f"select count(*) from raw.{RAW_TABLE} where {where}", params).fetchone()[0]
    con.execute(f"delete from raw.{RAW_TABLE} where {where}", params)
    return deleted


def write_contents_map(con: duckdb.DuckDBPyConnection, tables: list[dict], verification=None) -> None:
    """The configured ContentsCode → measure mapping, for staging to join (configuration as data), with what
    this run's verification of SSB's metadata said of each code: `catalogue_status` present | code_missing |
    table_missing (not_verified: demo files, no metadata read) and, for a gap, `missing_reason`, the words
    the marts show beside an empty indicator (dbt: stg_ssb__catalogue_gaps)."""
    from orchestration.ingest.ssb import catalogue as cat

    gaps = {(g.span.table_id, g.span.code): g for g in verification.gaps} if verification else {}
    indicators = cat.indicators_by_measure()
    rows = []
    for t in tables:
        for code, spec in t["contents"].items():
            gap = gaps.get((t["table_id"], code))
            rows.append({
                "table_key": t["key"], "table_id": t["table_id"], "contents_code": code, "measure": spec["measure"],
                "kind": spec["kind"], "confirmed": bool(spec.get("confirmed", False)), "kostra": bool(t.get("kostra")),
                # the years this table serves the measure (catalogue), and whether its first year is a generation seam
                "first_year": spec.get("first_year"), "last_year": spec.get("last_year"),
                "series_break": bool(spec.get("series_break", False)),
                "catalogue_status": gap.reason if gap else "present" if verification else "not_verified",
                "missing_reason": gap.reason_text() if gap else None,
                "indicators": ",".join(indicators.get(spec["measure"], []))})
    con.execute("create schema if not exists raw")
    con.register("_map", pd.DataFrame(rows))
    con.execute("""create or replace table raw.ssb_contents_map as
        select table_key, table_id, contents_code, measure, kind, confirmed, kostra,
               cast(first_year as integer) as first_year, cast(last_year as integer) as last_year, series_break,
               cast(catalogue_status as varchar) as catalogue_status, cast(missing_reason as varchar) as missing_reason,
               cast(indicators as varchar) as indicators
        from _map""")
    con.unregister("_map")


def ingest(con: duckdb.DuckDBPyConnection, years: list[int] | None = None, reload: bool = False,
           log=print, run_id: str | None = None) -> dict[str, int]:
    """Load what is new for the statistics `years` (None: all); `reload` replaces those years.

    Live: every configured table's metadata is read first and compared with the catalogue
    (`catalogue.verify`); gaps stop the run before anything is loaded, unless `on_missing` is `continue`,
    which loads what exists and records one quality finding per gap for `run_id`.
    """
    from orchestration.ingest.ssb import catalogue as cat

    config = cat.load()
    tables = config.tables
    done = loaded_years(con)
    loaded: dict[str, int] = {}
    client = None
    verification = None
    if settings.source_mode() == "live":
        from orchestration.ingest.ssb.client import SsbClient, SsbError

        client = SsbClient(base_url=settings.ssb_api_url(), max_retries=settings.http_retries(),
                           backoff_base=settings.http_backoff_seconds())
        verification = cat.verify(client, config)
        if verification.errors:  # metadata unreadable (5xx after retries): a service failure, retried
            raise SsbError(verification.message())
        if verification.gaps:
            if cat.on_missing_setting(config) == "stop":
                raise cat.CatalogueMismatch(verification)
            log(verification.message())
        if run_id:
            cat.record_findings(con, run_id, verification)
    write_contents_map(con, tables, verification)
    for table in tables:
        window = window_for(table, years)
        if client is None:
            releases = demo_releases(table, settings.demo_data_dir())
        else:
            meta = verification.metadata[table["table_id"]]
            if meta.status != "ok":  # a 404 table under on_missing=continue: its gaps are findings
                loaded[table["table_id"]] = 0
                log(f"SSB {table['table_id']} {table['title']}: not at SSB, skipped")
                continue
            window = config.years_for(table["table_id"], meta.years, window)
            if not window:  # an ended generation outside the run's years: not asked at all
                loaded[table["table_id"]] = 0
                continue
            stamps = [u for (t, u), ys in done.items() if t == table["table_id"] and (window is None or set(window) <= ys)]
            release = live_release(table, client, None if reload or not stamps else max(stamps), window)
            releases = [release] if release else []
        rows, used = 0, 0
        before = _cells(con, table["table_id"], window) if reload and window else None
        for release in releases:
            have = done.get((release.table_id, release.updated), set())
            if reload:
                wanted = set(window) if window is not None else None
            elif window is not None:
                wanted = set(window) - have
                if not wanted:
                    continue
            else:
                if have:
                    continue
                wanted = None
            rows += load_release(con, table, release, wanted, reload)
            used += 1
        loaded[table["table_id"]] = rows
        log(f"SSB {table['table_id']} {table['title']}: {used} release(s) loaded, {rows:,} cells")
        if before is not None:  # a backfill says what it replaced, so it can be checked
            after = _cells(con, table["table_id"], window)
            for query, year in sorted(before.keys() | after.keys()):
                log(f"  replaced {table['table_id']} {query} {year}: "
                    f"{before.get((query, year), 0):,} → {after.get((query, year), 0):,} cells")
    return loaded


def _cells(con: duckdb.DuckDBPyConnection, table_id: str, years: list[int]) -> dict[tuple[str, int], int]:
    """(query, year) → cells of the table in raw, every release together."""
    if not relation_exists(con, f"raw.{RAW_TABLE}"):
        return {}
    return {(q, y): n for q, y, n in con.execute(
        f"select split_part(query_name, '__part', 1), try_cast(left(period, 4) as integer) as y, count(*) "
        f"from raw.{RAW_TABLE} where table_id = ? and y in ({', '.join(str(int(y)) for y in years)}) group by all",
        [table_id]).fetchall()}
