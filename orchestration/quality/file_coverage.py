"""A superseding file that drops or adds municipalities (issue 13) as a quality finding.

The file importers write «coverage changed: this file drops … and adds …» into the file's `loaded` row
of `raw.load_log` (see `ingest.files.inbox.coverage_change`). Usually it is an export filtered
differently, not a change in the world, so the working group hears of it: one `file_coverage_changed`
finding per such file while it is not superseded itself (national: municipality 0000; measure = the
source and file). It stays open until the follow-up register closes it, or a later file replaces it.
"""

from __future__ import annotations

import duckdb

from orchestration.quality import store
from orchestration.quality.findings import finding_id
from orchestration.warehouse import relation_exists

KIND = "file_coverage_changed"
CHECK = "files_coverage_unchanged"
NATIONAL = "0000"


def evaluate(con: duckdb.DuckDBPyConnection, severity: str = "WARNING") -> list[dict]:
    if not relation_exists(con, "raw.load_log"):
        return []
    rows = con.execute("""
        select l.source, l.original_name, l.checksum, l.target_table, l.message
        from raw.load_log l
        where l.status = 'loaded' and l.message like '%coverage changed:%'
          and l.checksum not in (select checksum from raw.load_log where status = 'superseded')
        order by l.loaded_at""").fetchall()
    findings = []
    for source, name, checksum, table, message in rows:
        change = message[message.index("coverage changed:"):]
        measure = f"{source}/{name}#{checksum[:12]}"
        findings.append({
            "finding_id": finding_id(KIND, NATIONAL, None, measure), "kind": KIND, "severity": severity,
            "municipality_code": NATIONAL, "year": None, "measure": measure, "observed": None, "expected": None,
            "deviation": None, "relative_deviation": None,
            "message": f"{source}/{name} replaced earlier rows and its {change}",
            "check_name": CHECK, "table_name": f"raw.{table}",
        })
    return findings


def record(con: duckdb.DuckDBPyConnection, run_id: str, severity: str = "WARNING") -> list[dict]:
    findings = evaluate(con, severity)
    store.record_source_check(con, run_id, CHECK, "raw.load_log", severity, passed=not findings, skipped=False,
                              kinds=[KIND], findings=findings, details={"files": len(findings)})
    return findings
