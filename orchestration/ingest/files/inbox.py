"""The file-drop inbox and the import loop every file source shares.

The data team drops files into `<inbox>/<source>/` (`husbanken/`, `programme_reports/`,
`kmd_survey/`, `programme_list/`). An import run

1. screens every file of the source's sub-folder for personal data (`refuse_personal_data`: a refused
   file is stored nowhere) and lands the bytes it screened (`landing.land_bytes`; the same bytes under
   the same name are landed once, however often they are dropped);
2. for every landed file whose checksum is not yet in `raw.load_log` as loaded: reads it safely,
   validates it against the source's YAML mapping, and either appends all its rows to the raw table
   (with provenance) or rejects it as a whole: `landing.mark_rejected`, a `rejected` row in the load
   log carrying the messages, nothing appended. Nothing is raised for a rejected file: the
   `ImportReport` carries it and the pipeline decides whether that fails the run;
3. records which older files a newly loaded one superseded.

A rejected file stays rejected: dropped again unchanged, it is reported as rejected (with the earlier
reason) without a new load-log row. After the mapping is fixed, drop it again under another name.

Corrections and history: raw tables are append-only, every received row is kept. Each source names
its *coverage* columns (Husbanken: instrument, grain, period; programme reports: report year; …).
For every coverage value the current rows are those of the latest received file that covers it
(ordered by `received_at`, then load order). The view `raw.<table>_current` applies that rule, and
staging reads from it; `raw.<table>` keeps the history. When a load leaves an older file with no
current rows at all, that file gets a `superseded` row in `raw.load_log`.

Synthetic data: the demo files carry a marker the importers detect (xlsx: a sheet named «Merknad»
or a document property containing `SYNTHETIC_MARKER`; csv: a `Merknad` column containing it, or a
`synthetic` column); every row gets `synthetic`, and the load log records it.
"""

from __future__ import annotations

import datetime as dt
import importlib
import re
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Union

import duckdb
import pandas as pd

from orchestration import settings
from orchestration.ingest import landing, raw
from orchestration.ingest.landing import LandedFile
from orchestration.ingest.files import codes
from orchestration.ingest.files.excel import (ErrorCollector, FileRejected, check_text, FileValidationError, Spreadsheet,
                                              is_blank, read_once)

SOURCES = ("husbanken", "programme_reports", "kmd_survey", "programme_list", "dwelling_register")
SYNTHETIC_MARKER = "SYNTETISKE DEMODATA"  # the start of tools/demo_data/world.py SYNTHETIC_NOTE
IGNORED_NAMES = re.compile(r"^(\.|~\$|.*\.(tmp|partial|meta\.json)$)", re.IGNORECASE)

PROVENANCE_DDL = """
    source_file varchar not null,     -- the file's name as received
    landed_path varchar not null,     -- where landing keeps the exact bytes
    received_at timestamp not null,   -- when it was landed (UTC)
    checksum varchar not null,        -- sha256 of the bytes
    sheet varchar,                    -- worksheet title; null for csv
    row_number integer not null,      -- 1-based spreadsheet row (csv: record number, header = 1)
    synthetic boolean not null,       -- the file carried the demo-data marker
    load_id bigint not null           -- one per loaded file, increasing in load order
"""

# Municipality codes: county prefixes that have existed since 2008 (01–20 before 2020, Trøndelag 50
# from 2018, the 2020 and 2024 counties), and never the county level `xx00`.
COUNTY_PREFIXES = {f"{n:02d}" for n in list(range(1, 13)) + list(range(14, 21))} | {
    "30", "31", "32", "33", "34", "38", "39", "40", "42", "46", "50", "54", "55", "56"}

_THREE_DIGITS, _FOUR_DIGITS, _OSLO_DISTRICT = re.compile(r"\d{3}"), re.compile(r"\d{4}"), re.compile(r"0301\d\d")
_WHOLE_NUMBER = re.compile(r"\s*\d+\s*")

ValidCodes = Union[Collection[str], Callable[[int], Collection[str]], "codes.MunicipalityCodes", None]


@dataclass
class FileOutcome:
    file: str  # "<source>/<original name>"
    status: str  # loaded | skipped | rejected | superseded
    checksum: str
    landed_path: str
    rows: int | None = None
    messages: list[str] = field(default_factory=list)
    synthetic: bool = False


@dataclass
class ImportReport:
    source: str
    loaded: list[FileOutcome] = field(default_factory=list)
    skipped: list[FileOutcome] = field(default_factory=list)
    rejected: list[FileOutcome] = field(default_factory=list)
    superseded: list[FileOutcome] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.rejected

    @property
    def rows_loaded(self) -> int:
        return sum(o.rows or 0 for o in self.loaded)

    @property
    def messages(self) -> list[str]:
        return [m for o in self.rejected for m in o.messages]

    def summary(self) -> str:
        """The counts and what was superseded; the rejections are `rejections()`, each a warning of its own."""
        lines = [f"{self.source}: {len(self.loaded)} loaded ({self.rows_loaded} rows), {len(self.skipped)} "
                 f"already loaded, {len(self.rejected)} rejected, {len(self.superseded)} superseded"]
        lines += [f"  superseded {o.file}: {'; '.join(o.messages)}" for o in self.superseded]
        return "\n".join(lines)

    def rejections(self) -> list[str]:
        """One line per rejected file: file, row, column and reason (its first five problems, and how many more)."""
        return [f"rejected {o.file}: " + "; ".join(o.messages[:5])
                + (f" (+{len(o.messages) - 5} more)" if len(o.messages) > 5 else "") for o in self.rejected]

    def log_to(self, log, warn=None) -> None:
        """The summary to `log`, each rejection to `warn` (a run's warnings; `log` when None)."""
        log(self.summary())
        for line in self.rejections():
            (warn or log)(line)


@dataclass
class ParsedFile:
    """A validated file: canonical columns plus `sheet` and `row_number`; provenance comes later."""

    frame: pd.DataFrame
    synthetic: bool
    notes: list[str] = field(default_factory=list)  # what was skipped, and where the header was found


@dataclass(frozen=True)
class RawTable:
    source: str
    table: str
    columns_ddl: str  # the source's own columns; provenance is added
    coverage: tuple[str, ...]  # a newer file replaces the older rows with the same values of these


# --- inbox ----------------------------------------------------------------------------------------


def inbox_files(inbox: Path, source: str) -> list[Path]:
    """The files waiting in `<inbox>/<source>/`, by name; lock files, hidden and partial files skipped."""
    folder = Path(inbox) / source
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and not IGNORED_NAMES.match(p.name))


def display_name(landed: LandedFile) -> str:
    return f"{landed.source}/{landed.original_name}"


# --- shared validation helpers --------------------------------------------------------------------


@lru_cache(maxsize=2048, typed=True)  # a file repeats each code on many rows; typed: True is not 1
def municipality_code(value: Any) -> str:
    """A municipality code as 4 digits. Raises ValueError naming the value when it is not one.

    Excel drops leading zeros (301 for Oslo's 0301) from numbers in xlsx and from the text of a CSV it
    saves, so 3 digits are padded: unambiguous, since only counties 01–09 start with a zero. An Oslo
    city district code (0311–0325, or KLASS 103's 6-digit 0301xx) is returned as received.
    """
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a municipality code")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = f"{value:04d}" if isinstance(value, int) and 0 < value < 10000 else str(value).strip()
    if _THREE_DIGITS.fullmatch(text):
        text = "0" + text
    if _OSLO_DISTRICT.fullmatch(text) and codes.is_oslo_district(text):
        return text
    if not _FOUR_DIGITS.fullmatch(text) or text[:2] not in COUNTY_PREFIXES or text[2:] == "00":
        raise ValueError(f"{str(value)!r} is not a municipality code")
    return text


def check_code_valid(code: str, year: int, valid_codes: ValidCodes) -> str | None:
    """None when fine, else why `code` is not a municipality of `year`."""
    if valid_codes is None:
        return None
    if isinstance(valid_codes, codes.MunicipalityCodes):
        return valid_codes.problem(code, year)
    if codes.is_oslo_district(code):
        return f"'{code}' is an Oslo city district; report Oslo as 0301"
    valid = valid_codes(year) if callable(valid_codes) else valid_codes
    if code not in valid:
        return f"'{code}' is not a municipality code valid in {year}"
    return None


def klass_codes(con: duckdb.DuckDBPyConnection, valid_codes: ValidCodes, oslo_districts: bool = False) -> ValidCodes:
    """The codes an importer checks against: those given, else KLASS (see `codes`)."""
    if valid_codes is not None:
        return valid_codes
    found = codes.for_connection(con)
    return found.with_districts() if oslo_districts else found


def check_text_cells(rows: list[list[Any]], start: int, labels: dict[int, str], name_or_code: set[int],
                     errors: "ErrorCollector") -> None:
    """Every text cell from row index `start` on: control characters anywhere, formula-like text in the
    name and code columns, each an error naming row and column (text from outside is data)."""
    for index in range(start, len(rows)):
        for c, value in enumerate(rows[index]):
            problem = check_text(value, c in name_or_code)
            if problem:
                errors.add(index + 1, labels.get(c, f"(column {c + 1})"), problem)


def parse_int(value: Any, low: int, high: int) -> int:
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a whole number")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str) and _WHOLE_NUMBER.fullmatch(value):
        value = int(value)
    if not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{value!r} is not a whole number in {low}–{high}")
    return value


def text_is_synthetic(value: Any) -> bool:
    return value is not None and SYNTHETIC_MARKER.casefold() in str(value).casefold()


def spreadsheet_is_synthetic(book: Spreadsheet) -> bool:
    """The xlsx marker: a document property or a «Merknad» sheet carrying the synthetic note."""
    if any(text_is_synthetic(v) for v in book.properties.values()):
        return True
    note = book.sheet("Merknad")
    return bool(note and any(text_is_synthetic(v) for row in note.rows for v in row))


def data_sheets(book: Spreadsheet) -> list[Any]:
    """The sheets that hold data: all but the «Merknad» note sheet and empty ones."""
    return [s for s in book.sheets if s.title.strip().casefold() != "merknad"
            and any(not is_blank(v) for row in s.rows for v in row)]


# --- the import loop ------------------------------------------------------------------------------


def ensure_table(con: duckdb.DuckDBPyConnection, spec: RawTable) -> None:
    raw.ensure_load_log(con)
    con.execute("create sequence if not exists raw.file_load_id")
    con.execute(f"create table if not exists raw.{spec.table} ({spec.columns_ddl.rstrip().rstrip(',')},\n"
                f"{PROVENANCE_DDL})")
    # The latest received file wins per coverage value; the table keeps all that was received. The winners
    # come from an aggregate joined back (not a window over every row: a register has millions of rows and
    # this view is read by several models); `is not distinct from` keeps a null coverage value a value.
    cov = list(spec.coverage)
    on = " and ".join([f"t.{c} is not distinct from w.{c}" for c in cov] + ["t.load_id = w.winner.load_id"])
    con.execute(f"""
        create or replace view raw.{spec.table}_current as
        select t.*
        from raw.{spec.table} t
        join (
            select {"".join(c + ", " for c in cov)}max({{'received_at': received_at, 'load_id': load_id}}) as winner
            from raw.{spec.table}
            {"group by " + ", ".join(cov) if cov else ""}
        ) w on {on}
    """)


NOT_STORED = "(not stored: refused before landing)"  # a refused file's landed_path: it is nowhere


def refuse_personal_data(con: duckdb.DuckDBPyConnection, path: Path, data: bytes, spec: RawTable,
                         screen: Callable[[Spreadsheet, str], list[str]] | None = None) -> FileOutcome | None:
    """Before landing: a file whose screen finds personal data is refused — not landed, nothing loaded, the load
    log keeps its name, checksum and the columns at fault (status `refused`). None lets the file through.

    `screen(book, file)` is the source's own (the dwelling registers know every column they may receive);
    by default every source refuses identity numbers (personal_data.screen_cells)."""
    from orchestration.ingest.files import personal_data
    from orchestration.ingest.files.excel import read_spreadsheet

    name = f"{spec.source}/{path.name}"
    checksum = landing.sha256(data)
    earlier = con.execute(  # the same bytes seen before (the demo inbox is read every run): screened then
        "select status, message from raw.load_log where checksum = ? and target_table = ? "
        "order by status = 'refused' desc limit 1", [checksum, spec.table]).fetchone()
    if earlier and earlier[0] == "refused":
        return FileOutcome(name, "rejected", checksum, NOT_STORED,
                           messages=[f"refused earlier: {m}" for m in earlier[1].split("\n")])
    if earlier:
        return None
    try:
        book = read_spreadsheet(data, name)
    except FileValidationError:
        return None  # unreadable: landed and rejected by the ordinary path, which names the problem
    messages = (screen(book, name) if screen else
                personal_data.screen_cells(data_sheets(book), name, book.is_csv))
    if not messages:
        return None
    outcome = FileOutcome(name, "rejected", checksum, NOT_STORED, messages=messages)
    note = LandedFile(spec.source, path.name, NOT_STORED, checksum,
                      dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"), origin=str(path))
    raw.record(con, note, spec.table, "refused", message="\n".join(messages))
    return outcome


@read_once()  # a file screened, then validated, is read once
def import_source(
    con: duckdb.DuckDBPyConnection,
    inbox: Path,
    spec: RawTable,
    parse: Callable[[bytes, str], ParsedFile],
    landing_root: Path | None = None,
    screen: Callable[[Spreadsheet, str], list[str]] | None = None,
) -> ImportReport:
    """Land, validate and load the source's inbox files (see the module doc).

    Each inbox file is screened for personal data before landing (`refuse_personal_data`, with the source's
    `screen` when it has one): a refused file is neither landed nor loaded.
    """
    ensure_table(con, spec)
    report = ImportReport(spec.source)
    in_inbox: set[str] = set()
    for path in inbox_files(inbox, spec.source):
        data = path.read_bytes()  # read once: what is landed is what was screened
        refused = refuse_personal_data(con, path, data, spec, screen)
        if refused is not None:
            report.rejected.append(refused)
            continue
        landed, _ = landing.land_bytes(spec.source, path.name, data, origin=str(path), root=landing_root)
        in_inbox.add(landed.path)

    # Files landed in the same second (dropped together) load in the order they were written to the
    # inbox, so "the latest received" is the last one saved.
    def arrival(f: LandedFile) -> tuple:
        origin = Path(f.origin)
        return f.received_at, origin.stat().st_mtime if origin.is_file() else 0.0, f.original_name

    for landed in sorted(landing.landed_files(spec.source, root=landing_root), key=arrival):
        outcome = FileOutcome(display_name(landed), landed.status, landed.checksum, landed.path,
                              synthetic=bool(landed.extra.get("synthetic")))
        if landed.status == "rejected":
            if landed.path in in_inbox:  # dropped again unchanged: still rejected, already logged
                outcome.messages = [f"rejected earlier: {landed.reason}"]
                report.rejected.append(outcome)
            continue
        if raw.is_loaded(con, landed, spec.table):
            if landed.path in in_inbox:
                outcome.status = "skipped"
                outcome.messages = ["already loaded"]
                report.skipped.append(outcome)
            continue
        _load_one(con, spec, landed, outcome, parse, report)
    return report


def _load_one(con: duckdb.DuckDBPyConnection, spec: RawTable, landed: LandedFile, outcome: FileOutcome,
              parse: Callable[[bytes, str], ParsedFile], report: ImportReport) -> None:
    try:
        parsed = parse(landed.read_bytes(), outcome.file)
    except FileRejected as err:
        _reject(con, spec, landed, outcome, err.messages)
        report.rejected.append(outcome)
        return
    except FileValidationError as err:
        _reject(con, spec, landed, outcome, [str(err)])
        report.rejected.append(outcome)
        return
    except Exception as err:  # a file that breaks the reader is still the file's problem, not the run's
        _reject(con, spec, landed, outcome, [f"{outcome.file}: could not be read ({type(err).__name__}: {err})"])
        report.rejected.append(outcome)
        return

    landed.extra["synthetic"] = parsed.synthetic
    landed.save()
    frame = parsed.frame.copy()
    load_id = con.execute("select nextval('raw.file_load_id')").fetchone()[0]
    frame["source_file"] = landed.original_name
    frame["landed_path"] = landed.path
    received = pd.Timestamp(landed.received_at)
    frame["received_at"] = received.tz_convert("UTC").tz_localize(None) if received.tzinfo else received
    frame["checksum"] = landed.checksum
    if "synthetic" not in frame:  # a source may know it per row (the programme list does)
        frame["synthetic"] = parsed.synthetic
    frame["load_id"] = load_id
    change = "; ".join(parsed.notes + [c for c in [coverage_change(con, spec, frame)] if c]) or None
    con.execute("begin transaction")
    try:
        rows = raw.append_frame(con, spec.table, frame)
        raw.record(con, landed, spec.table, "loaded", rows=rows, message=change)
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    outcome.status, outcome.rows, outcome.synthetic = "loaded", rows, parsed.synthetic
    if change:
        outcome.messages += change.split("; ")
    report.loaded.append(outcome)
    report.superseded += _record_superseded(con, spec, outcome)


def coverage_change(con: duckdb.DuckDBPyConnection, spec: RawTable, frame: pd.DataFrame) -> str | None:
    """What a superseding file changes in the set of municipalities of the rows it replaces, or None.

    A file that quietly drops a municipality (or brings one the older file did not have) is usually a
    filter set differently in the export, not a change in the world: it is said in the load log, and the
    quality findings read it from there (`coverage_changes`).
    """
    if "municipality_code" not in frame:
        return None
    keys = [c for c in spec.coverage if c in frame]
    con = con.cursor()  # its own result set: the caller's connection may hold an unfinished one
    con.register("_incoming", frame[keys + ["municipality_code"]].drop_duplicates())
    try:
        join = " and ".join(f"c.{k} is not distinct from i.{k}" for k in keys) or "true"
        before = {r[0] for r in con.execute(f"""
            select distinct c.municipality_code from raw.{spec.table}_current c
            where exists (select 1 from _incoming i where {join})""").fetchall()}
    finally:
        con.unregister("_incoming")
    if not before:
        return None  # nothing replaced: a first file
    after = set(frame["municipality_code"])
    dropped, added = sorted(before - after), sorted(after - before)
    if not dropped and not added:
        return None
    parts = []
    if dropped:
        parts.append(f"drops {len(dropped)} municipalities the replaced file had ({', '.join(dropped[:10])}"
                     f"{', …' if len(dropped) > 10 else ''})")
    if added:
        parts.append(f"adds {len(added)} municipalities the replaced file did not have ({', '.join(added[:10])}"
                     f"{', …' if len(added) > 10 else ''})")
    return "coverage changed: this file " + " and ".join(parts)


def _reject(con: duckdb.DuckDBPyConnection, spec: RawTable, landed: LandedFile, outcome: FileOutcome,
            messages: list[str]) -> None:
    reason = "\n".join(messages)
    landing.mark_rejected(landed, reason)
    raw.record(con, landed, spec.table, "rejected", message=reason)
    outcome.status, outcome.messages = "rejected", messages


def _record_superseded(con: duckdb.DuckDBPyConnection, spec: RawTable, by: FileOutcome) -> list[FileOutcome]:
    """Older files of which no row is current any more get a `superseded` row in the load log."""
    rows = con.execute(f"""
        select l.source, l.original_name, l.landed_path, l.origin, l.checksum, l.received_at, l.synthetic
        from raw.load_log l
        where l.target_table = ? and l.status = 'loaded'
          and l.checksum in (select checksum from raw.{spec.table})
          and l.checksum not in (select checksum from raw.{spec.table}_current)
          and l.checksum not in (select checksum from raw.load_log where target_table = ? and status = 'superseded')
    """, [spec.table, spec.table]).fetchall()
    out = []
    for source, name, path, origin, checksum, received_at, synthetic in rows:
        older = LandedFile(source, name, path, checksum, received_at, origin, extra={"synthetic": bool(synthetic)})
        message = f"superseded by {by.file} (received later, same coverage)"
        raw.record(con, older, spec.table, "superseded", message=message)
        out.append(FileOutcome(f"{source}/{name}", "superseded", checksum, path, messages=[message]))
    return out


def inboxes() -> list[tuple[Path, bool]]:
    """(inbox, keep files there?) in reading order."""
    found = []
    if settings.source_mode() == "demo":
        found.append((settings.demo_data_dir() / "inbox", True))
    found.append((settings.inbox_dir(), False))
    return [(path, keep) for path, keep in found if path.is_dir()]


def import_inboxes(con: duckdb.DuckDBPyConnection, module_name: str, log=print, warn=None) -> list:
    """Import one source's inboxes; its importer (and openpyxl) load only when a run needs them."""
    module = importlib.import_module(f"orchestration.ingest.files.{module_name}")
    reports = []
    for inbox, keep in inboxes():
        report = module.import_inbox(con, inbox)
        reports.append(report)
        report.log_to(log, warn)
        if not keep:
            for outcome in [*report.loaded, *report.skipped, *report.rejected]:
                dropped = inbox / outcome.file
                refused = outcome.landed_path == NOT_STORED  # personal data: kept nowhere, not even here
                if dropped.exists() and (refused or Path(outcome.landed_path).exists()):
                    dropped.unlink()  # else the landing zone keeps it, as received
    return reports
