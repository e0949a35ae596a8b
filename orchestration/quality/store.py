"""Findings that last: check results, findings with their history, the follow-up register and the digest log.

All of it lives in the warehouse's `quality` schema. A run builds in a copy of the published warehouse,
so what the previous run published is there to carry forward:

- `quality.check_results`   every check's result per run (BI reads it), appended;
- `quality.run_observations` what this run's checks flagged (working table; only the current run's rows);
- `quality.findings`        one row per finding id: first_seen carried forward, last_seen, open/resolved,
                            joined with the follow-up register;
- `quality.followup_register` the working group's register as last loaded (the csv is the source of truth);
- `quality.digest_log`      what was reported, so a rerun with nothing changed reports nothing.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from orchestration import settings
from orchestration.quality.findings import as_float

FOLLOWUP_COLUMNS = ["finding_id", "status", "cause", "owner", "deadline", "note"]
REGISTER_CHECK = "followup_register_valid"  # the register file parses; its errors in quality.check_results
REQUIRED_FOLLOWUP_COLUMNS = ["finding_id", "status"]

TABLES: dict[str, list[tuple[str, str]]] = {
    "check_results": [
        ("run_id", "varchar"), ("checked_at", "timestamp"), ("check_name", "varchar"), ("table_name", "varchar"),
        ("severity", "varchar"), ("passed", "boolean"), ("skipped", "boolean"), ("evaluated", "integer"),
        ("unexpected_count", "bigint"), ("findings", "integer"), ("rows_checked", "bigint"), ("details", "json"),
    ],
    "run_observations": [
        ("run_id", "varchar"), ("check_name", "varchar"), ("table_name", "varchar"), ("finding_id", "varchar"),
        ("kind", "varchar"), ("severity", "varchar"), ("municipality_code", "varchar"), ("year", "integer"),
        ("measure", "varchar"), ("observed", "double"), ("expected", "double"), ("deviation", "double"),
        ("relative_deviation", "double"), ("message", "varchar"),
    ],
    "findings": [
        ("finding_id", "varchar"), ("kind", "varchar"), ("check_name", "varchar"), ("table_name", "varchar"),
        ("severity", "varchar"), ("municipality_code", "varchar"), ("municipality_name", "varchar"),
        ("year", "integer"), ("measure", "varchar"), ("observed", "double"), ("expected", "double"),
        ("deviation", "double"), ("relative_deviation", "double"), ("message", "varchar"),
        ("first_seen", "timestamp"), ("last_seen", "timestamp"), ("status", "varchar"), ("resolved_at", "timestamp"),
        ("last_run_id", "varchar"), ("reported_deviation", "double"),
        ("followup_status", "varchar"), ("followup_cause", "varchar"), ("followup_owner", "varchar"),
        ("followup_deadline", "date"), ("followup_note", "varchar"),
    ],
    "followup_register": [
        ("finding_id", "varchar"), ("status", "varchar"), ("cause", "varchar"), ("owner", "varchar"),
        ("deadline", "date"), ("note", "varchar"), ("row_number", "integer"), ("loaded_at", "timestamp"),
        ("source_path", "varchar"), ("source_sha256", "varchar"),
    ],
    "digest_log": [
        ("run_id", "varchar"), ("reported_at", "timestamp"), ("section", "varchar"), ("finding_id", "varchar"),
        ("severity", "varchar"), ("deviation", "double"), ("previous_deviation", "double"), ("status", "varchar"),
        ("deadline", "date"),
    ],
}


def now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, microsecond=0)


TODAY_ENV = "BOLIGSOSIAL_TODAY"


def today() -> dt.date:
    """The date the quality rules judge by (source freshness, overdue follow-ups): `BOLIGSOSIAL_TODAY`
    (YYYY-MM-DD) when set, for tests and for replaying a day; else the local date."""
    value = os.environ.get(TODAY_ENV, "").strip()
    if not value:
        return dt.date.today()
    try:
        if not _DATE.match(value):
            raise ValueError
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{TODAY_ENV} must be a date YYYY-MM-DD, not {value!r}") from None


_today = today  # for functions whose `today` parameter shadows it


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create the quality tables, or add columns a newer version introduced (tables persist run to run)."""
    con.execute("create schema if not exists quality")
    for table, columns in TABLES.items():
        con.execute(f"create table if not exists quality.{table} ({', '.join(f'{c} {t}' for c, t in columns)})")
        existing = {r[0] for r in con.execute(
            "select column_name from information_schema.columns where table_schema = 'quality' and table_name = ?",
            [table]).fetchall()}
        for column, kind in columns:
            if column not in existing:
                con.execute(f"alter table quality.{table} add column {column} {kind}")


def _insert(con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame) -> None:
    columns = [c for c, _ in TABLES[table]]
    frame = frame.reindex(columns=columns)
    con.register("_quality_rows", frame)
    try:
        casts = ", ".join(f"cast({c} as {t}) as {c}" for c, t in TABLES[table])
        con.execute(f"insert into quality.{table} by name select {casts} from _quality_rows")
    finally:
        con.unregister("_quality_rows")


def _replace(con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame) -> None:
    con.execute(f"delete from quality.{table}")
    if len(frame):
        _insert(con, table, frame)


# ------------------------------------------------------------------------------- check results


def record_check(con: duckdb.DuckDBPyConnection, run_id: str, result, checked_at: dt.datetime | None = None) -> None:
    """Store one suite's result and its findings for this run (a retried step replaces its earlier rows)."""
    ensure_tables(con)
    suite = result.suite
    check_name = f"gx_{suite.name}"
    checked_at = checked_at or now()
    con.execute("delete from quality.check_results where run_id = ? and check_name = ?", [run_id, check_name])
    con.execute("delete from quality.run_observations where run_id = ? and check_name = ?", [run_id, check_name])
    details = {"failed": result.failed, "notes": result.notes, "kinds": result.kinds,
               "skipped": result.skipped, "suite_file": str(suite.path.name) if suite.path else None}
    _insert(con, "check_results", pd.DataFrame([{
        "run_id": run_id, "checked_at": checked_at, "check_name": check_name, "table_name": suite.table,
        "severity": suite.severity, "passed": bool(result.success), "skipped": result.skipped is not None,
        "evaluated": result.evaluated, "unexpected_count": result.unexpected, "findings": len(result.findings),
        "rows_checked": result.rows, "details": json.dumps(details, ensure_ascii=False, default=str),
    }]))
    if result.findings:
        frame = pd.DataFrame(result.findings)
        frame["run_id"] = run_id
        _insert(con, "run_observations", frame)


def record_plain_check(con: duckdb.DuckDBPyConnection, run_id: str, check_name: str, table_name: str,
                       severity: str, passed: bool, details: dict) -> None:
    ensure_tables(con)
    con.execute("delete from quality.check_results where run_id = ? and check_name = ?", [run_id, check_name])
    _insert(con, "check_results", pd.DataFrame([{
        "run_id": run_id, "checked_at": now(), "check_name": check_name, "table_name": table_name,
        "severity": severity, "passed": passed, "skipped": False, "evaluated": 1,
        "unexpected_count": 0 if passed else len(details.get("errors", [])) or 1, "findings": 0, "rows_checked": None,
        "details": json.dumps(details, ensure_ascii=False, default=str),
    }]))


def record_source_check(con: duckdb.DuckDBPyConnection, run_id: str, check_name: str, table_name: str,
                        severity: str, passed: bool, skipped: bool, kinds: list[str], findings: list[dict],
                        details: dict) -> None:
    """A check computed outside GX (source freshness): its result, the finding kinds it evaluated (the scope
    in which merge_findings resolves what it no longer sees) and its findings for this run."""
    ensure_tables(con)
    con.execute("delete from quality.check_results where run_id = ? and check_name = ?", [run_id, check_name])
    con.execute("delete from quality.run_observations where run_id = ? and check_name = ?", [run_id, check_name])
    _insert(con, "check_results", pd.DataFrame([{
        "run_id": run_id, "checked_at": now(), "check_name": check_name, "table_name": table_name,
        "severity": severity, "passed": passed, "skipped": skipped, "evaluated": 0 if skipped else 1,
        "unexpected_count": len(findings), "findings": len(findings), "rows_checked": None,
        "details": json.dumps({**details, "kinds": kinds}, ensure_ascii=False, default=str),
    }]))
    if findings:
        frame = pd.DataFrame(findings)
        frame["run_id"] = run_id
        _insert(con, "run_observations", frame)


# ------------------------------------------------------------------------------ follow-up register


class RegisterError(ValueError):
    """The register file is invalid; `errors` name row and column of every problem."""

    def __init__(self, path: Path, errors: list[str]):
        self.path = path
        self.errors = errors
        super().__init__(f"follow-up register {path} is invalid; the previous register is kept:\n  "
                         + "\n  ".join(errors))


def register_path() -> Path:
    return settings.followup_register_path()


_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_NORWEGIAN_DATE = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$")  # what Norwegian Excel writes: 30.10.2018
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _register_date(text: str) -> dt.date:
    if _DATE.match(text):
        return dt.date.fromisoformat(text)
    match = _NORWEGIAN_DATE.match(text)
    if match:
        day, month, year = (int(g) for g in match.groups())
        return dt.date(year, month, day)
    raise ValueError(text)


def _decode_register(path: Path, data: bytes) -> str:
    """UTF-8 with or without BOM (Excel's «CSV UTF-8»), else Windows-1252 (Norwegian Excel's plain «CSV»).

    A byte Windows-1252 does not define means neither: refused naming the row, never guessed.
    """
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError as err:
        row = data[:err.start].count(b"\n") + 1
        raise RegisterError(path, [f"row {row}: byte 0x{data[err.start]:02X} is neither UTF-8 nor Windows-1252 "
                                   "text; save the register from Excel as «CSV UTF-8» and drop it again"]) from None


def read_register(path: Path, statuses: list[str]) -> pd.DataFrame:
    """Parse and validate the register csv (comma or semicolon, UTF-8 with or without BOM).

    Raises RegisterError listing every bad cell as «row N, column X: …» (row 1 is the header).
    """
    text = _decode_register(path, path.read_bytes())
    first = text.splitlines()[0] if text.strip() else ""
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        rows = list(reader)
    except csv.Error as err:
        raise RegisterError(path, [f"row {reader.line_num}: not readable as CSV ({err}); save it again from "
                                   "Excel as «CSV (semikolonseparert)» or «CSV UTF-8»"]) from None
    errors: list[str] = []
    if not rows:
        raise RegisterError(path, ["row 1: the file is empty; it needs the header " + ",".join(FOLLOWUP_COLUMNS)])
    header = [h.strip().lower() for h in rows[0]]
    for column in REQUIRED_FOLLOWUP_COLUMNS:
        if column not in header:
            errors.append(f"row 1, column {column}: missing column (header must have {', '.join(FOLLOWUP_COLUMNS)})")
    unknown = [h for h in header if h and h not in FOLLOWUP_COLUMNS]
    for h in unknown:
        errors.append(f"row 1, column {h}: unknown column (known: {', '.join(FOLLOWUP_COLUMNS)})")
    if errors:
        raise RegisterError(path, errors)
    allowed = [s.lower() for s in statuses]
    records: list[dict] = []
    seen: dict[str, int] = {}
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) > len(header):
            errors.append(f"row {number}: {len(row)} fields but the header has {len(header)} "
                          f"(quote a note that contains '{delimiter}')")
            continue
        record = {h: (row[i].strip() if i < len(row) else "") for i, h in enumerate(header) if h}
        bad = [(h, v) for h, v in record.items() if _CONTROL.search(v)]
        for h, v in bad:
            errors.append(f"row {number}, column {h}: contains the control character "
                          f"U+{ord(_CONTROL.search(v).group()):04X}; retype the cell")
        if bad:
            continue
        fid = record.get("finding_id", "")
        if not fid:
            errors.append(f"row {number}, column finding_id: empty")
        elif fid in seen:
            errors.append(f"row {number}, column finding_id: {fid!r} is already in row {seen[fid]}")
        else:
            seen[fid] = number
        status = record.get("status", "").lower()
        if status not in allowed:
            errors.append(f"row {number}, column status: unknown status {record.get('status', '')!r} "
                          f"(allowed: {', '.join(allowed)})")
        deadline = record.get("deadline", "")
        parsed = None
        if deadline:
            try:
                parsed = _register_date(deadline)
            except ValueError:
                errors.append(f"row {number}, column deadline: {deadline!r} is not a date (write 30.10.2018 "
                              "or 2018-10-30)")
        records.append({"finding_id": fid, "status": status, "cause": record.get("cause") or None,
                        "owner": record.get("owner") or None, "deadline": parsed,
                        "note": record.get("note") or None, "row_number": number})
    if errors:
        raise RegisterError(path, errors)
    return pd.DataFrame(records, columns=[*FOLLOWUP_COLUMNS, "row_number"])


@dataclass
class RegisterLoad:
    path: Path
    loaded: bool                     # the file was read and replaced the table
    rows: int
    errors: list[str] = field(default_factory=list)
    message: str = ""


def record_register_check(con: duckdb.DuckDBPyConnection, run_id: str, register: RegisterLoad) -> None:
    """Whether the register file parsed, for the run (quality.check_results): the digest tells its editors."""
    record_plain_check(con, run_id, REGISTER_CHECK, "quality.followup_register", "WARNING", not register.errors,
                       {"path": str(register.path), "errors": register.errors, "rows": register.rows})


def load_register(con: duckdb.DuckDBPyConnection, path: Path, statuses: list[str]) -> RegisterLoad:
    """Load the register file into quality.followup_register; on any error keep the previous table."""
    ensure_tables(con)
    previous = con.execute("select count(*) from quality.followup_register").fetchone()[0]
    if not path.exists():
        if previous:
            return RegisterLoad(path, False, previous, [f"{path}: file not found"],
                                f"register file {path} not found; kept the previous register ({previous} rows)")
        return RegisterLoad(path, False, 0, [], f"no register file at {path}; the register is empty")
    try:
        frame = read_register(path, statuses)
    except RegisterError as err:
        return RegisterLoad(path, False, previous, err.errors, str(err))
    frame["loaded_at"] = now()
    frame["source_path"] = str(path)
    frame["source_sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
    _replace(con, "followup_register", frame)
    return RegisterLoad(path, True, len(frame), [], f"loaded {len(frame)} follow-up rows from {path}")


# ------------------------------------------------------------------------------------ merging


@dataclass
class DigestEntries:
    new: pd.DataFrame
    worsened: pd.DataFrame
    resolved: pd.DataFrame
    overdue: pd.DataFrame

    @property
    def counts(self) -> dict[str, int]:
        return {"new": len(self.new), "worsened": len(self.worsened), "resolved": len(self.resolved),
                "overdue": len(self.overdue)}


def merge_findings(con: duckdb.DuckDBPyConnection, run_id: str, config: dict, names: dict[str, str],
                   today: dt.date | None = None) -> DigestEntries:
    """Fold this run's observations into quality.findings and log what the digest must report.

    - seen before: first_seen kept, last_seen = now; a resolved finding seen again reopens (reported as new);
    - not seen, and its check and kind were evaluated this run: resolved (resolved_at = now);
    - not seen because its check was skipped or the kind not evaluated: left as it was;
    - worsened: |deviation| grew by more than digest.worsened_pct since the deviation last reported;
    - overdue: a follow-up whose deadline passed and whose status is not closed, once per deadline.
    """
    ensure_tables(con)
    stamp = now()
    today = today or _today()
    severities = [s.upper() for s in config["digest"]["severities"]]
    worsened_pct = float(config["digest"]["worsened_pct"])
    closed = [s.lower() for s in config["followup"]["closed_statuses"]]

    previous = con.execute("select * from quality.findings").df()
    observed = con.execute("select * from quality.run_observations where run_id = ?", [run_id]).df()
    observed = observed.drop_duplicates("finding_id")
    evaluated: set[tuple[str, str]] = set()
    for check_name, skipped, details in con.execute(
            "select check_name, skipped, details from quality.check_results where run_id = ?", [run_id]).fetchall():
        if skipped:
            continue
        for kind in (json.loads(details) if details else {}).get("kinds", []):
            evaluated.add((check_name, kind))

    prev = previous.set_index("finding_id") if len(previous) else pd.DataFrame(
        columns=[c for c, _ in TABLES["findings"] if c != "finding_id"])
    rows: list[dict] = []
    new_ids, reopened_ids, worsened_ids, resolved_ids = [], [], [], []
    previous_dev: dict[str, float | None] = {}
    for obs in observed.to_dict("records"):
        fid = obs["finding_id"]
        row = {k: obs.get(k) for k in ("finding_id", "kind", "check_name", "table_name", "severity",
                                       "municipality_code", "year", "measure", "observed", "expected", "deviation",
                                       "relative_deviation", "message")}
        row["municipality_name"] = _name(obs.get("municipality_code"), names)
        row["last_seen"] = stamp
        row["status"] = "open"
        row["resolved_at"] = None
        row["last_run_id"] = run_id
        if fid in prev.index:
            old = prev.loc[fid]
            row["first_seen"] = old["first_seen"]
            row["reported_deviation"] = as_float(old.get("reported_deviation"))
            if old["status"] == "resolved":
                reopened_ids.append(fid)
                row["reported_deviation"] = as_float(obs.get("deviation"))
            else:
                reported = row["reported_deviation"]
                current = as_float(obs.get("deviation"))
                if reported is not None and current is not None and \
                        abs(current) > abs(reported) * (1 + worsened_pct / 100) and abs(current) > abs(reported):
                    worsened_ids.append(fid)
                    previous_dev[fid] = reported
                    row["reported_deviation"] = current
        else:
            row["first_seen"] = stamp
            row["reported_deviation"] = as_float(obs.get("deviation"))
            new_ids.append(fid)
        rows.append(row)
    seen = {r["finding_id"] for r in rows}
    for fid, old in prev.iterrows():
        if fid in seen:
            continue
        row = {"finding_id": fid, **{k: old.get(k) for k in prev.columns}}
        if old["status"] == "open" and (old["check_name"], old["kind"]) in evaluated:
            row["status"] = "resolved"
            row["resolved_at"] = stamp
            resolved_ids.append(fid)
        rows.append(row)

    findings = pd.DataFrame(rows, columns=[c for c, _ in TABLES["findings"]])
    register = con.execute("select * from quality.followup_register").df()
    findings = _join_register(findings, register)
    _replace(con, "findings", findings)
    con.execute("delete from quality.run_observations where run_id <> ?", [run_id])

    by_id = findings.set_index("finding_id")

    def section(ids: list[str]) -> pd.DataFrame:
        part = by_id.loc[ids].reset_index() if ids else findings.iloc[0:0]
        return part[part.severity.str.upper().isin(severities)] if len(part) else part

    new = section(new_ids + reopened_ids)
    worsened = section(worsened_ids)
    if len(worsened):
        worsened = worsened.assign(previous_deviation=worsened.finding_id.map(previous_dev))
    resolved = section(resolved_ids)
    overdue = _overdue(con, register, by_id, today, closed, names)

    log_rows = []
    for name, part in (("new", new), ("worsened", worsened), ("resolved", resolved)):
        for r in part.to_dict("records"):
            log_rows.append({"run_id": run_id, "reported_at": stamp, "section": name, "finding_id": r["finding_id"],
                             "severity": r["severity"], "deviation": r["deviation"],
                             "previous_deviation": r.get("previous_deviation"), "status": r["status"],
                             "deadline": None})
    for r in overdue.to_dict("records"):
        log_rows.append({"run_id": run_id, "reported_at": stamp, "section": "overdue", "finding_id": r["finding_id"],
                         "severity": None, "deviation": None, "previous_deviation": None, "status": r["status"],
                         "deadline": r["deadline"]})
    con.execute("delete from quality.digest_log where run_id = ?", [run_id])
    if log_rows:
        _insert(con, "digest_log", pd.DataFrame(log_rows))
    return DigestEntries(new, worsened, resolved, overdue)


def _name(code, names: dict[str, str]) -> str | None:
    if code is None or (isinstance(code, float) and pd.isna(code)):
        return None
    code = str(code)
    if code == "0000":
        return "Hele landet"
    if len(code) == 2:
        from orchestration.reference.groupings import county_name

        return county_name(code)
    return names.get(code)


def _join_register(findings: pd.DataFrame, register: pd.DataFrame) -> pd.DataFrame:
    findings = findings.drop(columns=[c for c in findings.columns if c.startswith("followup_")])
    reg = register[["finding_id", "status", "cause", "owner", "deadline", "note"]].rename(columns={
        "status": "followup_status", "cause": "followup_cause", "owner": "followup_owner",
        "deadline": "followup_deadline", "note": "followup_note"})
    out = findings.merge(reg, on="finding_id", how="left")
    out["followup_status"] = out["followup_status"].fillna("new")
    return out[[c for c, _ in TABLES["findings"]]]


def _overdue(con, register: pd.DataFrame, by_id: pd.DataFrame, today: dt.date, closed: list[str],
             names: dict[str, str]) -> pd.DataFrame:
    columns = ["finding_id", "municipality_code", "municipality_name", "status", "cause", "owner", "deadline", "note"]
    if register.empty:
        return pd.DataFrame(columns=columns)
    reg = register[register.deadline.notna()].copy()
    reg["deadline"] = pd.to_datetime(reg.deadline).dt.date
    reg = reg[(reg.deadline < today) & ~reg.status.str.lower().isin(closed)]
    reported = {(fid, pd.Timestamp(d).date()) for fid, d in con.execute(
        "select finding_id, deadline from quality.digest_log where section = 'overdue'").fetchall() if d is not None}
    rows = []
    for r in reg.to_dict("records"):
        if (r["finding_id"], r["deadline"]) in reported:
            continue
        code = by_id.loc[r["finding_id"], "municipality_code"] if r["finding_id"] in by_id.index else \
            _code_from_id(r["finding_id"])
        code = None if code is None or (isinstance(code, float) and pd.isna(code)) else str(code)
        rows.append({"finding_id": r["finding_id"], "municipality_code": code,
                     "municipality_name": _name(code, names), "status": r["status"], "cause": r["cause"],
                     "owner": r["owner"], "deadline": r["deadline"], "note": r["note"]})
    return pd.DataFrame(rows, columns=columns)


def _code_from_id(finding_id: str) -> str | None:
    parts = finding_id.split(":")
    return parts[1] if len(parts) >= 2 and parts[1] not in ("", "-") else None
