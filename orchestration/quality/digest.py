"""The digest of one run, read back from what `quality/findings` logged in `quality.digest_log`."""

from __future__ import annotations

import datetime as dt
import json

import duckdb
import pandas as pd

from orchestration.alerts.model import Digest, Finding, FollowUp
from orchestration.quality.store import REGISTER_CHECK
from orchestration.warehouse import relation_exists


def _opt(value):
    if value is None:
        return None
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return value


def _float(value) -> float | None:
    value = _opt(value)
    return float(value) if value is not None else None


def _finding(r: dict) -> Finding:
    year = _opt(r.get("year"))
    return Finding(
        finding_id=r["finding_id"], kind=r["kind"], severity=r["severity"],
        municipality_code=_opt(r.get("municipality_code")) or "", municipality_name=_opt(r.get("municipality_name")) or "",
        year=int(year) if year is not None else None, measure=_opt(r.get("measure")) or "",
        observed=_float(r.get("observed")), expected=_float(r.get("expected")), deviation=_float(r.get("deviation")),
        message=_opt(r.get("message")) or "", previous_deviation=_float(r.get("previous_deviation")),
    )


def digest_for_run(con: duckdb.DuckDBPyConnection, run_id: str, warehouse: str) -> Digest:
    synthetic = False
    if relation_exists(con, "raw.load_log"):
        synthetic = bool(con.execute("select coalesce(bool_or(synthetic), false) from raw.load_log").fetchone()[0])
    digest = Digest(run_id=run_id, generated_at=dt.datetime.now().astimezone(), warehouse=warehouse,
                    synthetic=synthetic)
    if relation_exists(con, "quality.check_results"):
        invalid = con.execute("select details from quality.check_results where run_id = ? and check_name = ? "
                              "and not passed", [run_id, REGISTER_CHECK]).fetchone()
        if invalid:
            details = json.loads(invalid[0] or "{}")
            digest.register_errors = [str(e) for e in details.get("errors") or []] or ["(no detail recorded)"]
            digest.register_path = details.get("path")
    if not (relation_exists(con, "quality.digest_log") and relation_exists(con, "quality.findings")):
        return digest
    rows = con.execute(
        """
        select l.section, l.previous_deviation, l.deadline as logged_deadline, f.*
        from quality.digest_log l left join quality.findings f using (finding_id)
        where l.run_id = ? and l.section in ('new', 'worsened', 'resolved')
        order by l.section, f.kind, f.municipality_code, f.year, f.measure
        """, [run_id]).df()
    for r in rows.to_dict("records"):
        getattr(digest, r["section"]).append(_finding(r))
    overdue = con.execute(
        """
        select l.finding_id, l.deadline, l.status, f.municipality_code, f.municipality_name,
               r.cause, r.owner, r.note
        from quality.digest_log l
        left join quality.findings f using (finding_id)
        left join quality.followup_register r using (finding_id)
        where l.run_id = ? and l.section = 'overdue'
        order by l.deadline, l.finding_id
        """, [run_id]).df()
    for r in overdue.to_dict("records"):
        code = _opt(r.get("municipality_code"))
        if code is None:
            parts = r["finding_id"].split(":")
            code = parts[1] if len(parts) > 1 and parts[1] != "-" else ""
        digest.overdue.append(FollowUp(
            finding_id=r["finding_id"], municipality_code=code or "",
            municipality_name=_opt(r.get("municipality_name")) or "", status=r["status"],
            cause=_opt(r.get("cause")), owner=_opt(r.get("owner")), deadline=pd.Timestamp(r["deadline"]).date(),
            note=_opt(r.get("note"))))
    return digest
