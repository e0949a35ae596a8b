"""KLASS: load the municipality structure (131), its changes and KOSTRA groups (112) into raw, and have
`reference.crosswalk` derive the crosswalk from them.

Demo mode reads the KLASS extract shipped in data/reference/klass (real codes and changes in KLASS's
own JSON shape); live mode asks the KLASS API. Both land the JSON documents as received. The KOSTRA
grouping is asked for each statistics year (`correspondsAt` on 1 January): KOSTRA groups are revised
(2016, 2020, 2024), and a year is compared with the grouping of that year (statistics.md).
"""

import datetime as dt
import json

import duckdb
import pandas as pd

from orchestration import settings
from orchestration.ingest import landing, raw
from orchestration.ingest.klass.tables import CHANGES_TABLE, CODES_TABLE, GROUPS_TABLE
from orchestration.reference import crosswalk
from orchestration.warehouse import relation_exists

SOURCE = "klass"
FIRST_DATE = "2008-01-01"


def reference_date(changes_doc: dict) -> str:
    """The current structure: in force since the latest change up to today (2024-01-01 at the time of writing)."""
    today = dt.date.today().isoformat()
    dates = [c["changeOccurred"][:10] for c in changes_doc["codeChanges"] if c["changeOccurred"][:10] <= today]
    return max(dates, default=FIRST_DATE)


def grouping_years() -> range:
    """The statistics years whose KOSTRA grouping is loaded: FIRST_DATE's year to this year."""
    return range(int(FIRST_DATE[:4]), dt.date.today().year + 1)


def fetch_documents() -> dict[str, tuple[dict, str]]:
    """name -> (KLASS-shaped document, origin); `112_131_correspondence_YYYY` is the answer of
    `correspondsAt` on 1 January of YYYY."""
    if settings.source_mode() == "demo":
        folder = settings.REFERENCE_DATA_DIR / "klass"
        docs = {
            "131_codes": (json.loads((folder / "131_codes.json").read_text(encoding="utf-8")), str(folder)),
            "131_changes": (json.loads((folder / "131_changes.json").read_text(encoding="utf-8")), str(folder)),
        }
        dated = {p.stem.rsplit("_", 1)[1]: p for p in folder.glob("112_131_correspondence_*.json")}
        for year in grouping_years():  # KLASS's rule: the answer in force on the date asked
            day = max((d for d in dated if d <= f"{year}-01-01"), default=None)
            if day is not None:
                docs[f"112_131_correspondence_{year}"] = (
                    json.loads(dated[day].read_text(encoding="utf-8")), str(dated[day]))
        return docs
    from orchestration.ingest.klass.client import KOSTRA_GROUPS, MUNICIPALITIES, KlassClient

    client = KlassClient(max_retries=settings.http_retries(), backoff=settings.http_backoff_seconds())
    until = (dt.date.today() + dt.timedelta(days=1)).isoformat()
    docs = {
        "131_codes": ({"codes": client.codes(MUNICIPALITIES, FIRST_DATE, until)}, client.base_url),
        "131_changes": ({"codeChanges": client.changes(MUNICIPALITIES, FIRST_DATE, until)}, client.base_url),
    }
    for year in grouping_years():
        docs[f"112_131_correspondence_{year}"] = (
            {"correspondenceItems": client.corresponds_at(KOSTRA_GROUPS, MUNICIPALITIES, f"{year}-01-01")},
            client.base_url)
    return docs


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
    groups = pd.DataFrame([
        {"year": int(name.rsplit("_", 1)[1]), "kostra_group_code": i["sourceCode"],
         "kostra_group_name": i["sourceName"], "municipality_code": i["targetCode"],
         "synthetic": bool(doc.get("synthetic", False))}
        for name, doc in sorted(docs.items()) if name.startswith("112_131_correspondence_")
        for i in doc["correspondenceItems"]
    ], columns=["year", "kostra_group_code", "kostra_group_name", "municipality_code", "synthetic"])
    return {CODES_TABLE: codes, CHANGES_TABLE: changes, GROUPS_TABLE: groups}


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
    if not landed_new and relation_exists(con, crosswalk.TABLE):
        log("KLASS: structure unchanged, nothing loaded")
        crosswalk.write_split_weights(con, log)
        return counts
    # KLASS tables are snapshots of one classification version: replace them; the landing zone keeps history.
    con.execute("create schema if not exists raw")
    for table, frame in _frames({k: v[0] for k, v in docs.items()}).items():
        con.register("_frame", frame)
        con.execute(f"create or replace table raw.{table} as select * from _frame")
        con.unregister("_frame")
        counts[table] = len(frame)
    counts["municipality_crosswalk"] = crosswalk.write_crosswalk(
        con, docs["131_changes"][0], docs["131_codes"][0], FIRST_DATE, reference_date(docs["131_changes"][0]))
    log("KLASS: " + ", ".join(f"{t} {n:,} rows" for t, n in counts.items()))
    crosswalk.write_split_weights(con, log)
    return counts
