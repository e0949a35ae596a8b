"""KLASS: the municipality structure (131), its changes, KOSTRA groups (112) and the crosswalk that maps
every as-reported code onto the reference structure.

Demo mode reads the KLASS extract shipped in data/reference/klass (real codes and changes in KLASS's
own JSON shape); live mode asks the KLASS API. Both land the JSON documents as received.
"""

import datetime as dt
import json

import dagster as dg
import duckdb
import pandas as pd

from orchestration import harmonise, landing, raw, settings
from orchestration.resources import WarehouseResource

SOURCE = "klass"
FIRST_DATE = "2008-01-01"


def reference_date(changes_doc: dict) -> str:
    """The current structure: in force since the latest change up to today (2024-01-01 at the time of writing)."""
    today = dt.date.today().isoformat()
    dates = [c["changeOccurred"][:10] for c in changes_doc["codeChanges"] if c["changeOccurred"][:10] <= today]
    return max(dates, default=FIRST_DATE)


def fetch_documents() -> dict[str, tuple[dict, str]]:
    """name -> (KLASS-shaped document, origin)."""
    if settings.source_mode() == "demo":
        folder = settings.REFERENCE_DATA_DIR / "klass"
        correspondence = sorted(folder.glob("112_131_correspondence_*.json"))[-1]
        return {
            "131_codes": (json.loads((folder / "131_codes.json").read_text(encoding="utf-8")), str(folder)),
            "131_changes": (json.loads((folder / "131_changes.json").read_text(encoding="utf-8")), str(folder)),
            "112_131_correspondence": (json.loads(correspondence.read_text(encoding="utf-8")), str(correspondence)),
        }
    from orchestration.sources.klass import KOSTRA_GROUPS, MUNICIPALITIES, KlassClient

    client = KlassClient(max_retries=settings.http_retries(), backoff=settings.http_backoff_seconds())
    until = (dt.date.today() + dt.timedelta(days=1)).isoformat()
    return {
        "131_codes": ({"codes": client.codes(MUNICIPALITIES, FIRST_DATE, until)}, client.base_url),
        "131_changes": ({"codeChanges": client.changes(MUNICIPALITIES, FIRST_DATE, until)}, client.base_url),
        "112_131_correspondence": (
            {"correspondenceItems": client.corresponds_at(KOSTRA_GROUPS, MUNICIPALITIES, dt.date.today().isoformat())},
            client.base_url),
    }


def _frames(docs: dict[str, dict]) -> dict[str, pd.DataFrame]:
    codes = pd.DataFrame([
        {"code": c["code"], "name": c["name"],
         "valid_from": c.get("validFrom") or c.get("validFromInRequestedRange"),
         "valid_to": c.get("validTo")}
        for c in docs["131_codes"]["codes"] if c["code"] != "9999"
    ])
    changes = pd.DataFrame([
        {"old_code": c.get("oldCode"), "old_name": c.get("oldName"), "new_code": c.get("newCode"),
         "new_name": c.get("newName"), "change_occurred": c["changeOccurred"][:10]}
        for c in docs["131_changes"]["codeChanges"]
    ])
    synthetic_groups = bool(docs["112_131_correspondence"].get("synthetic", False))
    groups = pd.DataFrame([
        {"kostra_group_code": i["sourceCode"], "kostra_group_name": i["sourceName"],
         "municipality_code": i["targetCode"], "synthetic": synthetic_groups}
        for i in docs["112_131_correspondence"]["correspondenceItems"]
    ])
    years = range(int(FIRST_DATE[:4]), dt.date.today().year + 1)
    crosswalk = harmonise.build_crosswalk(
        docs["131_changes"], harmonise.codes_by_year(docs["131_codes"], years=years),
        reference_date=reference_date(docs["131_changes"]),
    )
    return {"klass_municipality_codes": codes, "klass_changes": changes, "klass_kostra_groups": groups,
            "klass_crosswalk": crosswalk}


def ingest(con: duckdb.DuckDBPyConnection, log=print) -> dict[str, int]:
    docs = fetch_documents()
    landed_new = False
    for name, (doc, origin) in docs.items():
        payload = json.dumps(doc, ensure_ascii=False, sort_keys=True).encode("utf-8")
        landed, _ = landing.land_bytes(SOURCE, f"{name}.json", payload, origin,
                                       {"synthetic": bool(doc.get("synthetic", False))})
        if not raw.is_loaded(con, landed, f"klass_{name}"):
            raw.record(con, landed, f"klass_{name}", "loaded")
            landed_new = True
        else:  # fetched and unchanged: the source is fresh even though nothing new was loaded
            raw.record(con, landed, f"klass_{name}", "checked", rows=0, message="unchanged")
    counts: dict[str, int] = {}
    exists = con.execute("select count(*) from duckdb_tables() where schema_name='raw' and table_name='klass_crosswalk'"
                         ).fetchone()[0]
    if not landed_new and exists:
        log("KLASS: structure unchanged, nothing loaded")
        _write_split_weights(con, log)
        _write_reference_crosswalk(con)
        return counts
    # KLASS tables are snapshots of one classification version: replace them; the landing zone keeps history.
    con.execute("create schema if not exists raw")
    for table, frame in _frames({k: v[0] for k, v in docs.items()}).items():
        con.register("_frame", frame)
        con.execute(f"create or replace table raw.{table} as select * from _frame")
        con.unregister("_frame")
        counts[table] = len(frame)
    log("KLASS: " + ", ".join(f"{t} {n:,} rows" for t, n in counts.items()))
    _write_split_weights(con, log)
    _write_reference_crosswalk(con)
    return counts


def _write_reference_crosswalk(con: duckdb.DuckDBPyConnection) -> None:
    # dbt reads the harmonised crosswalk from schema `reference` (derived, not raw); stand-in until
    # orchestration/reference/crosswalk.py writes it there itself (issue 10, Python side)
    con.execute("create schema if not exists reference")
    con.execute("create or replace table reference.municipality_crosswalk as select * from raw.klass_crosswalk")


def _write_split_weights(con: duckdb.DuckDBPyConnection, log) -> None:
    """Allocation keys for split municipalities, from the population SSB delivered (table 07459).

    The residual rule (harmonise.allocation_weights) estimates how the split municipality's own
    inhabitants were divided, which plain population shares of the receiving municipalities get wrong
    (Tysfjord went about half to Narvik and half to Hamarøy, not 9:1). dbt uses these weights when present.
    """
    has_population = con.execute(
        "select count(*) from duckdb_tables() where schema_name = 'raw' and table_name = 'ssb_observations'"
    ).fetchone()[0]
    if not has_population:
        return
    population = con.execute("""
        select cast(period as integer) as year, region_code as code, max(value) as population
        from raw.ssb_observations
        where table_id = '07459' and dimensions = '{}' and value is not null
          and regexp_matches(region_code, '^[0-9]{4}$')
        group by all
    """).df()
    if population.empty:
        return
    crosswalk = con.execute(
        "select year, reported_code, reference_code, weight_kind, split_flag from raw.klass_crosswalk").df()
    weighted = harmonise.allocation_weights(crosswalk, population)
    con.register("_weighted", weighted)
    con.execute("create or replace table raw.klass_crosswalk as select * from _weighted")
    con.unregister("_weighted")
    splits = weighted[weighted["split_flag"]]
    log(f"KLASS: split weights for {splits.reported_code.nunique()} split codes "
        f"({(splits.weight_basis == 'residual').sum()} rows by the residual rule)")


KLASS_TABLES = {
    "klass_municipality_codes": "KLASS 131: every municipality code valid since 2008, with its validity.",
    "klass_changes": "KLASS 131 changes since 2008 (merges, splits, renumberings).",
    "klass_kostra_groups": "KLASS 112 ↔ 131: KOSTRA group of each current municipality.",
    "klass_crosswalk": "Every as-reported code and year mapped onto the reference structure (splits flagged).",
}


@dg.multi_asset(
    specs=[dg.AssetSpec(["raw", table], description=text, group_name="raw_klass", kinds={"duckdb", "python"},
                        # split weights need the population SSB delivered in the same run
                        deps=[dg.AssetKey(["raw", "ssb_observations"])] if table == "klass_crosswalk" else [])
           for table, text in KLASS_TABLES.items()],
    retry_policy=dg.RetryPolicy(max_retries=2, delay=settings.step_retry_delay_seconds(),
                                backoff=dg.Backoff.EXPONENTIAL),
)
def klass_structure(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    with warehouse.build(context).connect() as con:
        counts = ingest(con, log=context.log.info)
    for table in KLASS_TABLES:
        yield dg.MaterializeResult(asset_key=["raw", table],
                                   metadata={"rows_loaded_this_run": counts.get(table, 0)})
