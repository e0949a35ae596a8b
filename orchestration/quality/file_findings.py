"""What the load log says of received files, as quality findings for the working group. Each is national
(municipality 0000) with the file as its measure (source, name and checksum), and stays open until the
follow-up register closes it or a later file settles it:

- `file_rejected` (check `files_loaded_or_replaced`): a file rejected as a whole (a row, column or code at fault)
  or refused at the door (personal data), so none of its figures are in the warehouse. The run goes on and
  publishes (earlier data stays), so without a finding the missing figures would reach no one but the data
  team's run log. The corrected export settles it: a file of the same source received with it or later that
  loads, named as it was or with something added to its name (`x.xlsx` → `x.xlsx`, `x_rettet.xlsx`, `x v2.csv`).
- `file_coverage_changed` (check `files_coverage_unchanged`, issue 13): a superseding file that drops or adds
  municipalities. The file importers write «coverage changed: this file drops … and adds …» into its `loaded`
  row (`ingest.files.inbox.coverage_change`). Usually it is an export filtered differently, not a change in the
  world, so the working group hears of it; a later file that replaces it settles it.
"""

from __future__ import annotations

import duckdb

from orchestration.quality import store
from orchestration.quality.findings import finding_id
from orchestration.warehouse import relation_exists

COVERAGE_KIND = "file_coverage_changed"
COVERAGE_CHECK = "files_coverage_unchanged"
REJECTED_KIND = "file_rejected"
REJECTED_CHECK = "files_loaded_or_replaced"
NATIONAL = "0000"
_REASONS_SHOWN = 3  # of a rejected file's messages (one per row and column at fault); the run log has them all


def _finding(kind: str, check: str, severity: str, source: str, name: str, checksum: str, table: str,
             message: str) -> dict:
    measure = f"{source}/{name}#{checksum[:12]}"
    return {
        "finding_id": finding_id(kind, NATIONAL, None, measure), "kind": kind, "severity": severity,
        "municipality_code": NATIONAL, "year": None, "measure": measure, "observed": None, "expected": None,
        "deviation": None, "relative_deviation": None, "message": message, "check_name": check,
        "table_name": f"raw.{table}",
    }


def evaluate_rejected(con: duckdb.DuckDBPyConnection, severity: str = "WARNING") -> list[dict]:
    """One finding per rejected or refused file that no corrected export has settled (see the module doc)."""
    if not relation_exists(con, "raw.load_log"):
        return []
    rows = con.execute(r"""
        select r.source, r.original_name, r.checksum, r.target_table, r.status, r.message
        from raw.load_log r
        where r.status in ('rejected', 'refused')
          and not exists (select 1 from raw.load_log l
                          where l.status = 'loaded' and l.source = r.source
                            and coalesce(l.received_at, '') >= coalesce(r.received_at, '')  -- ISO 8601, UTC
                            and starts_with(regexp_replace(l.original_name, '\.[^.]*$', ''),
                                            regexp_replace(r.original_name, '\.[^.]*$', '')))
        qualify row_number() over (partition by r.target_table, r.checksum order by r.loaded_at) = 1
        order by r.loaded_at, r.original_name""").fetchall()
    findings = []
    for source, name, checksum, table, status, message in rows:
        prefix = f"{source}/{name}: "  # each reason names its file; the finding names it once
        reasons = [line.removeprefix(prefix) for line in (message or "").splitlines() if line.strip()]
        shown = "; ".join(reasons[:_REASONS_SHOWN]) or "no reason recorded"
        if len(reasons) > _REASONS_SHOWN:
            shown += f" (+{len(reasons) - _REASONS_SHOWN} more in the run's log)"
        verdict = "refused (personal data)" if status == "refused" else "rejected"
        findings.append(_finding(REJECTED_KIND, REJECTED_CHECK, severity, source, name, checksum, table,
                                 f"{source}/{name} was {verdict}, none of its figures are in the warehouse: "
                                 f"{shown}"))
    return findings


def evaluate_coverage(con: duckdb.DuckDBPyConnection, severity: str = "WARNING") -> list[dict]:
    """One finding per loaded file whose coverage changed, while no later file has superseded it."""
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
        findings.append(_finding(COVERAGE_KIND, COVERAGE_CHECK, severity, source, name, checksum, table,
                                 f"{source}/{name} replaced earlier rows and its {change}"))
    return findings


def record(con: duckdb.DuckDBPyConnection, run_id: str, severity: str = "WARNING") -> list[dict]:
    """Both checks' results and findings for the run (merge_findings resolves what they no longer see)."""
    found = []
    for check, kind, evaluated in ((REJECTED_CHECK, REJECTED_KIND, evaluate_rejected(con, severity)),
                                   (COVERAGE_CHECK, COVERAGE_KIND, evaluate_coverage(con, severity))):
        store.record_source_check(con, run_id, check, "raw.load_log", severity, passed=not evaluated,
                                  skipped=False, kinds=[kind], findings=evaluated, details={"files": len(evaluated)})
        found += evaluated
    return found
