"""Exports of the marts for readers without a database: Parquet for every mart, CSV for the report tables,
and `manifest.json` describing them (columns, types, descriptions, rows, source vintages, checksums).

Layout (default `<warehouse folder>/exports`, or BOLIGSOSIAL_EXPORTS):

    manifest.json
    parquet/<mart>.parquet                      one file per mart
    parquet/<mart>/<mart>_<year>.parquet        one file per year for marts above LARGE_ROWS rows
    csv/<rpt_…>.csv                             UTF-8, ',' separator, '.' decimals (RFC 4180)
    csv-excel-no/<rpt_…>.csv                    UTF-8 with BOM, ';' separator, ',' decimals, CRLF:
                                                opens in Excel with Norwegian regional settings

The per-year files are plain Parquet with the `year` column kept (not hive `year=…` folders), so a folder
reads as one table in DuckDB (`read_parquet('…/*.parquet')`) and pandas (`read_parquet(folder)`).
A new export is written beside the old one and swapped in, so a reader never finds half of one.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import re
import shutil
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from orchestration.serve.contract import MARTS_SCHEMA, Mart, duckdb_type, load_marts, warehouse_marts
from orchestration.warehouse import duckdb_settings

LARGE_ROWS = 50_000
EXPORT_WRITERS = 2  # files written side by side (the machine's two cores; +75 MiB measured alone)
MANIFEST_VERSION = 1
# A cell starting with one of these is a formula to Excel, LibreOffice and Google Sheets (OWASP «CSV injection»).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"^[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?$")


def neutralise(text: str) -> str:
    """Free text cannot become a spreadsheet formula: prefix `'` to a cell that starts like one and is not a
    number. Spreadsheets show the apostrophe-prefixed text as typed."""
    if text.startswith(FORMULA_STARTS) and not _NUMBER.match(text):
        return "'" + text
    return text


# The same rule in SQL, so report tables are formatted by DuckDB rather than cell by cell in Python.
_SQL_FORMULA = r"^[=+\-@\t\r]"


def _csv_expression(name: str, data_type: str, decimal_comma: bool) -> str:
    """One column as CSV text: numbers as DuckDB prints them (optionally with a decimal comma), booleans
    true/false, text neutralised; null stays null (an empty cell)."""
    column = f'"{name}"'
    t = data_type.lower()
    if t in ("double", "float", "real", "float4", "float8", "double precision") or t.startswith(("decimal", "numeric")):
        text = f"cast({column} as varchar)"
        return f"replace({text}, '.', ',')" if decimal_comma else text
    if t in ("varchar", "text", "string", ""):
        quote = "''''"  # SQL for one apostrophe
        return (f"case when regexp_matches({column}, '{_SQL_FORMULA}') and not regexp_matches({column}, "
                f"'{_NUMBER.pattern}') then {quote} || {column} else {column} end")
    return f"cast({column} as varchar)"


def write_exports(warehouse: Path, out_dir: Path, *, manifest: Path | None = None, log=print) -> dict:
    """Write every export of the DuckDB `warehouse` (opened read-only) to `out_dir`; returns the manifest."""
    if not warehouse.exists():
        raise FileNotFoundError(f"no published warehouse at {warehouse}: run `make demo` first")
    contracts = load_marts(manifest)
    generated_at = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    staging = out_dir.with_name(f".{out_dir.name}-writing-{generated_at:%Y%m%d%H%M%S}")
    shutil.rmtree(staging, ignore_errors=True)
    (staging / "parquet").mkdir(parents=True)
    duck = duckdb.connect(str(warehouse), read_only=True)
    try:
        _limit_memory(duck)
        marts = warehouse_marts(duck, contracts)
        planned = [_plan_mart(duck, mart, staging) for mart in marts]
        written = iter(_write_files(duck, [w for _table, writes in planned for w in writes], staging))
        tables = [{**table, "files": [next(written) for _ in writes]} for table, writes in planned]
        synthetic = any(t["synthetic"] for t in tables)
        document = {
            "manifest_version": MANIFEST_VERSION,
            "generated_at": generated_at.isoformat(),
            "warehouse": {"path": str(warehouse),
                          "published_at": dt.datetime.fromtimestamp(warehouse.stat().st_mtime, dt.timezone.utc)
                          .replace(microsecond=0).isoformat()},
            "synthetic": synthetic,
            "notice": ("SYNTETISKE DEMODATA: invented figures for demonstration, not official statistics"
                       if synthetic else None),
            "formats": {
                "parquet": "Parquet (zstd); marts above "
                           f"{LARGE_ROWS:,} rows as one file per year in a folder, the year column kept",
                "csv": "UTF-8 without BOM, ',' separator, '.' decimal point, RFC 4180 quoting, LF line ends; "
                       "empty = null",
                "csv-excel-no": "UTF-8 with BOM, ';' separator, ',' decimal comma, CRLF: for Excel with "
                                "Norwegian regional settings; empty = null",
                "formula_neutralisation": "text cells starting with = + - @ TAB or CR that are not numbers are "
                                          "prefixed with an apostrophe (')",
            },
            "sources": _source_vintages(duck),
            "tables": tables,
        }
    except BaseException:
        duck.close()
        shutil.rmtree(staging, ignore_errors=True)
        raise
    duck.close()
    (staging / "manifest.json").write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n",
                                           encoding="utf-8")
    _swap_in(staging, out_dir)
    log(f"exports: {len(tables)} marts to {out_dir} (manifest.json)")
    return document


def _limit_memory(duck: duckdb.DuckDBPyConnection) -> None:
    """The pipeline's memory cap, and one thread per query: DuckDB's CSV writer buffers per thread, and the
    wide rpt_municipality_profile took ≈ 0.5 GiB at two threads, ≈ 0.15 GiB at one, no slower (issue 19);
    `_write_files` runs two queries side by side instead. Set with SET, not connect(config=…): DuckDB refuses a
    second connection to an open file with another configuration."""
    duck.execute("set threads = 1")
    duck.execute(f"set memory_limit = '{duckdb_settings()['memory_limit']}'")


@dataclass(frozen=True)
class _FileWrite:
    """One file of the export: the COPY that writes it, and what its manifest entry says."""

    path: Path
    fmt: str
    copy: str
    bom_from: Path | None = None  # the COPY writes here; `path` gets a byte-order mark and these bytes
    extra: dict = field(default_factory=dict)


def _plan_mart(duck: duckdb.DuckDBPyConnection, mart: Mart, root: Path) -> tuple[dict, list[_FileWrite]]:
    """A mart's manifest entry (without its files) and the files to write for it."""
    names = [c.name for c in mart.columns]
    select = ", ".join(f'"{n}"' for n in names)
    order = ", ".join(f'"{c}"' for c in (mart.grain or names[:1]))
    relation = f'{MARTS_SCHEMA}."{mart.name}"'
    rows = duck.execute(f"select count(*) from {relation}").fetchone()[0]
    writes = []
    partitioned = rows > LARGE_ROWS and "year" in names
    if partitioned:
        folder = root / "parquet" / mart.name
        folder.mkdir()
        years = [r[0] for r in duck.execute(f'select distinct "year" from {relation} order by 1').fetchall()]
        for year in years:
            path = folder / f"{mart.name}_{year}.parquet"
            where = "is null" if year is None else f"= {int(year)}"
            writes.append(_FileWrite(path, "parquet", extra={"year": year}, copy=(
                f"copy (select {select} from {relation} where \"year\" {where} order by {order}) "
                f"to {_sql_path(path)} (format parquet, compression zstd)")))
    else:
        path = root / "parquet" / f"{mart.name}.parquet"
        writes.append(_FileWrite(path, "parquet", copy=(
            f"copy (select {select} from {relation} order by {order}) to {_sql_path(path)} "
            "(format parquet, compression zstd)")))
    if mart.kind == "report":
        for variant, sep, comma, bom, newline in (("csv", ",", False, False, "\n"),
                                                   ("csv-excel-no", ";", True, True, "\r\n")):
            path = root / variant / f"{mart.name}.csv"
            path.parent.mkdir(exist_ok=True)
            cells = ", ".join(f'{_csv_expression(c.name, c.data_type, comma)} as "{c.name}"' for c in mart.columns)
            target = path.with_suffix(".tmp") if bom else path
            # sorted before the cells become text: sorting the text took ≈ 70 MiB more for the profile mart
            writes.append(_FileWrite(path, variant, bom_from=target if bom else None, copy=(
                f"copy (select {cells} from (select * from {relation} order by {order})) to {_sql_path(target)} "
                f"(format csv, header, delimiter '{sep}', quote '\"', new_line '{newline}')")))
    synthetic = "synthetic" in names and bool(
        duck.execute(f"select coalesce(bool_or(synthetic), false) from {relation}").fetchone()[0])
    table = {
        "name": mart.name,
        "kind": mart.kind,
        "description": mart.description,
        "rows": rows,
        "grain": list(mart.grain),
        "synthetic": synthetic,
        "vintages": _vintages(duck, relation) if "vintage" in names else None,
        "partitioned_by": "year" if partitioned else None,
        "columns": [{"name": c.name, "type": duckdb_type(c.data_type), "nullable": not c.not_null,
                     "description": c.description}
                    for c in mart.columns],
    }
    return table, writes


def _write_files(duck: duckdb.DuckDBPyConnection, writes: list[_FileWrite], root: Path) -> list[dict]:
    """Every planned file, two at a time (each query on one thread, see `_limit_memory`): one after another
    the demo's exports took ≈ 2.6 s, ≈ 1.4 s of it the profile mart's two CSV files; side by side ≈ 1.5 s, the
    same bytes. The report tables' CSV files go first, as the largest. Returns the entries in planned order."""
    def write(w: _FileWrite) -> dict:
        cursor = duck.cursor()  # a connection of this thread's own to the same database
        try:
            cursor.execute(w.copy)
        finally:
            cursor.close()
        if w.bom_from:  # DuckDB writes no byte-order mark; Excel needs one to read UTF-8 (æøå)
            with open(w.path, "wb") as out, open(w.bom_from, "rb") as src:
                out.write(b"\xef\xbb\xbf")
                shutil.copyfileobj(src, out, 1 << 20)
            w.bom_from.unlink()
        return _file_entry(root, w.path, w.fmt, **w.extra)

    order = sorted(range(len(writes)), key=lambda i: writes[i].fmt == "parquet")
    entries: list[dict | None] = [None] * len(writes)
    with ThreadPoolExecutor(max_workers=EXPORT_WRITERS, thread_name_prefix="export") as pool:
        for i, entry in zip(order, pool.map(write, [writes[i] for i in order])):
            entries[i] = entry
    return entries


def _sql_path(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def _file_entry(root: Path, path: Path, fmt: str, **extra) -> dict:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return {"path": path.relative_to(root).as_posix(), "format": fmt, "bytes": path.stat().st_size,
            "sha256": digest.hexdigest(), **extra}


def _vintages(duck: duckdb.DuckDBPyConnection, relation: str) -> dict[str, int]:
    return {str(v): n for v, n in duck.execute(
        f"select vintage, count(*) from {relation} group by 1 order by 2 desc, 1").fetchall()}


def _relation_exists(duck: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return bool(duck.execute("select count(*) from duckdb_tables() where schema_name = ? and table_name = ?",
                             [schema, table]).fetchone()[0])


def _source_vintages(duck: duckdb.DuckDBPyConnection) -> list[dict]:
    """Per source: what was loaded, when it was received, and (SSB) each table's release timestamp."""
    sources: list[dict] = []
    if _relation_exists(duck, "raw", "load_log"):
        for source, files, received, loaded, synthetic in duck.execute(
                "select source, count(*), max(received_at), max(loaded_at)::varchar, coalesce(bool_or(synthetic), false) "
                "from raw.load_log where status = 'loaded' group by source order by source").fetchall():
            sources.append({"source": source, "files_loaded": files, "latest_received_at": received,
                            "latest_loaded_at": loaded, "synthetic": bool(synthetic)})
    if _relation_exists(duck, "raw", "ssb_table_versions"):
        tables = [{"table_id": t, "updated": u, "first_year": lo, "last_year": hi}
                  for t, u, lo, hi in duck.execute(
                      "select table_id, max(updated), min(year), max(year) from raw.ssb_table_versions "
                      "group by table_id order by table_id").fetchall()]
        entry = next((s for s in sources if s["source"] == "ssb"), None)
        if entry is None:
            entry = {"source": "ssb"}
            sources.append(entry)
        entry["tables"] = tables
    return sources


def _swap_in(staging: Path, out_dir: Path) -> None:
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    old = out_dir.with_name(f".{out_dir.name}-old")
    shutil.rmtree(old, ignore_errors=True)
    if out_dir.exists():
        out_dir.rename(old)
    staging.rename(out_dir)
    shutil.rmtree(old, ignore_errors=True)
