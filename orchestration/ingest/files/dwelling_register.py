"""Municipal dwelling registers (issue 18, report chapter 4) → `raw.dwelling_register`.

One row per dwelling and tenancy as the municipality's housing system exports it (column mapping and value
vocabularies in `config/dwelling_register_columns.yaml`; format in docs/dwelling_register.md).

Personal data: registers are personal data, the warehouse keeps aggregates of a few listed fields only.
Before a file is landed, `screen_file` reads it and refuses it when a column is named like a person's name
or an identity number, when any cell holds a valid fødselsnummer / D-number, or when a column is not one
of the listed fields. A refused file is NOT landed (the landing zone keeps files as received, so it cannot
keep this one), nothing of it reaches raw, and the load log records only its name, checksum and the
columns at fault (status `refused`, no values). The asset deletes it from the data team's inbox; the
demo inbox is never emptied.

Files that pass the screen follow the other importers: landed as received, validated row by row, loaded
whole or rejected whole naming file, row and column; a newer file for the same municipality and reference
year supersedes the older one in `raw.dwelling_register_current`.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from orchestration import settings
from orchestration.ingest.files import personal_data
from orchestration.ingest.files import inbox as shared
from orchestration.ingest.files.kmd_survey import _yes_no  # the same Ja/Nei rule and config keys
from orchestration.ingest.files.excel import ErrorCollector, FileValidationError, Spreadsheet, clean_label, \
    is_blank, read_spreadsheet

SOURCE = "dwelling_register"
TABLE = "dwelling_register"
CONFIG_PATH = settings.CONFIG_DIR / "dwelling_register_columns.yaml"
NOTE_COLUMN = "merknad"

SPEC = shared.RawTable(
    source=SOURCE,
    table=TABLE,
    columns_ddl="""
        municipality_code varchar not null,
        reference_date date not null,      -- the register's status date
        reference_year integer not null,   -- year of reference_date; with the municipality, the coverage
        dwelling_id varchar not null,      -- the housing system's own number, as exported
        dwelling_type varchar not null,    -- kommunal_utleiebolig | omsorgsbolig | aldersbolig | omsorg_pluss | heldogns_bemanning
        ownership varchar not null,        -- eid | innleid | privat_disposisjon
        wheelchair_accessible boolean not null,
        status varchar not null,           -- on the reference date: bebodd | ledig | under_oppussing
        target_group varchar,              -- the household's group (for a vacant dwelling: the group it is meant for)
        age_band varchar,                  -- the main resident's: under_30 | 30_66 | 67_79 | 80_plus
        allocating_unit varchar,           -- tjenestekontor | boligkontor | inntaksteam | nav | flyktningtjenesten | annen
        tenancy_start date,                -- null: a row for a dwelling without tenancy
        tenancy_end date,                  -- null: the tenancy runs on the reference date
    """,
    coverage=("municipality_code", "reference_year"),
)


@lru_cache(maxsize=4)
def load_config(path: Path = CONFIG_PATH) -> dict:
    return settings.read_yaml(path)


def column_lookup(config: dict) -> dict[str, str]:
    """Cleaned header label → canonical field."""
    return {clean_label(lbl): f for f, labels in config["columns"].items() for lbl in labels}


def value_lookup(config: dict) -> dict[str, dict[str, str]]:
    """Per field: cleaned value label → canonical code (the code itself is accepted too)."""
    out: dict[str, dict[str, str]] = {}
    for field, codes in config["values"].items():
        # str(): an unquoted YAML key like 30_66 is read as the integer 3066
        out[field] = {clean_label(code): str(code) for code in codes}
        out[field].update({clean_label(lbl): str(code) for code, labels in codes.items() for lbl in labels})
    return out


def _header(rows: list[list[Any]]) -> tuple[int, list[Any]]:
    index = next((i for i, row in enumerate(rows) if any(not is_blank(v) for v in row)), None)
    if index is None:
        return -1, []
    return index, rows[index]


# --- the personal-data screen ---------------------------------------------------------------------


def screen(book: Spreadsheet, file: str, config: dict | None = None) -> list[str]:
    """Why the file must be refused before it is stored; empty when it may be landed.

    Messages name the file, sheet and column, never a value.
    """
    config = config or load_config()
    rules = personal_data.rules()
    known = column_lookup(config)
    problems: list[str] = []
    for sheet in shared.data_sheets(book):
        where = f"sheet «{sheet.title}», " if not book.is_csv else ""
        index, header = _header(sheet.rows)
        for c, value in enumerate(header):
            label = clean_label(value)
            hits = 0
            first = None
            if rules.get("scan_values", True):
                for r in range(index + 1, len(sheet.rows)):
                    row = sheet.rows[r]
                    if c < len(row) and personal_data.holds_national_id(row[c]):
                        hits += 1
                        first = first or r + 1
            shown = str(value).strip() if not is_blank(value) else f"(column {c + 1}, no header)"
            if hits:
                problems.append(f'{file}: {where}column "{shown}": holds a national identity number '
                                f'(fødselsnummer/D-nummer) in {hits} row(s), first row {first}; personal data '
                                f'is refused, nothing of the file is stored')
            elif not label:
                if any(c < len(row) and not is_blank(row[c]) for row in sheet.rows[index + 1:]):
                    problems.append(f"{file}: {where}column {c + 1} has values but no header; refused before "
                                    f"storing (only the listed fields may be delivered)")
            elif label in known:
                continue
            elif label == NOTE_COLUMN:  # the demo marker column; free text would be a risk, so only the marker
                values = [row[c] for row in sheet.rows[index + 1:] if c < len(row) and not is_blank(row[c])]
                if all(shared.text_is_synthetic(v) for v in values):
                    continue
                problems.append(f'{file}: {where}column "{shown}": free text is refused before storing (it may '
                                f'hold personal data); only the synthetic-data marker is accepted there')
            elif personal_data.label_matches(label, rules["id_columns"]):
                problems.append(f'{file}: {where}column "{shown}": looks like an identity number column; '
                                f'personal data is refused, nothing of the file is stored')
            elif personal_data.label_matches(label, rules["name_columns"]):
                problems.append(f'{file}: {where}column "{shown}": looks like a person\'s name or contact '
                                f'details; personal data is refused, nothing of the file is stored')
            else:
                problems.append(f'{file}: {where}column "{shown}": not one of the fields the register may '
                                f'deliver (docs/dwelling_register.md); refused before storing, nothing kept — '
                                f'remove the column, or add its label to dwelling_register_columns.yaml if it '
                                f'is one of the listed fields')
    return problems


# --- row validation -------------------------------------------------------------------------------


def _date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    for fmt in ("%d.%m.%Y", "%Y-%m-%d", "%d/%m/%Y", "%d.%m.%y"):
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(f"{text!r} is not a date (dd.mm.åååå or åååå-mm-dd)")


DWELLING_FIELDS = ("dwelling_type", "ownership", "wheelchair_accessible", "status")


def parse_file(data: bytes, file: str, valid_codes: shared.ValidCodes = None,
               config: dict | None = None) -> shared.ParsedFile:
    config = config or load_config()
    book = read_spreadsheet(data, file)
    problems = screen(book, file, config)  # also here, for files that reach the parser another way
    if problems:
        raise shared.FileRejected([FileValidationError(file, None, None, p.split(": ", 1)[1]) for p in problems])
    sheets = shared.data_sheets(book)
    if len(sheets) != 1:
        raise FileValidationError(file, None, None, f"expected one sheet of register data, found {len(sheets)}")
    sheet = sheets[0]
    sheet_name = None if book.is_csv else sheet.title
    errors = ErrorCollector(file)
    header_index, header = _header(sheet.rows)
    header_row = header_index + 1
    known = column_lookup(config)
    vocab = value_lookup(config)
    fields: dict[str, int] = {}
    for c, value in enumerate(header):
        label = clean_label(value)
        if not label or label == NOTE_COLUMN:
            continue
        field = known[label]
        if field in fields:
            errors.add(header_row, str(value), f"maps to {field} as another column does")
        fields[field] = c
    for field, labels in config["columns"].items():
        if field not in config["optional_columns"] and field not in fields:
            errors.add(header_row, labels[0], "missing column")
    errors.raise_if_any()
    label_of = {f: str(header[c]).strip() for f, c in fields.items()}

    records: list[dict] = []
    seen_tenancy: dict[tuple, int] = {}
    dwelling_first: dict[tuple, tuple[int, dict]] = {}
    for index in range(header_index + 1, len(sheet.rows)):
        row, row_number = sheet.rows[index], index + 1
        if all(is_blank(v) for v in row):
            continue

        def cell(field: str) -> Any:
            c = fields.get(field)
            return row[c] if c is not None and c < len(row) else None

        rec: dict[str, Any] = {"sheet": sheet_name, "row_number": row_number}
        bad = False

        def fail(field: str, message: str) -> None:
            nonlocal bad
            errors.add(row_number, label_of.get(field, field), message)
            bad = True

        for field, parse in (("municipality_code", shared.municipality_code), ("reference_date", _date),
                             ("tenancy_start", _date), ("tenancy_end", _date),
                             ("wheelchair_accessible", lambda v: _yes_no(v, config))):
            value = cell(field)
            if is_blank(value):
                rec[field] = None
                if field in ("municipality_code", "reference_date", "wheelchair_accessible"):
                    fail(field, "empty")
                continue
            try:
                rec[field] = parse(value)
            except ValueError as err:
                fail(field, str(err))
        for field in ("dwelling_type", "ownership", "status", "target_group", "age_band", "allocating_unit"):
            value = cell(field)
            if is_blank(value):
                rec[field] = None
                if field in ("dwelling_type", "ownership", "status"):
                    fail(field, "empty")
                continue
            code = vocab[field].get(clean_label(value))
            if code is None:
                fail(field, f"unknown {field.replace('_', ' ')} {str(value).strip()!r}; known: "
                            f"{', '.join(config['values'][field])} (labels in dwelling_register_columns.yaml)")
            rec[field] = code
        dwelling_id = cell("dwelling_id")
        rec["dwelling_id"] = None if is_blank(dwelling_id) else str(dwelling_id).strip()
        if rec["dwelling_id"] is None:
            fail("dwelling_id", "empty")
        if bad:
            continue
        ref, start, end = rec["reference_date"], rec["tenancy_start"], rec["tenancy_end"]
        problem = shared.check_code_valid(rec["municipality_code"], ref.year, valid_codes)
        if problem:
            fail("municipality_code", problem)
        if end is not None and start is None:
            fail("tenancy_end", "a tenancy end without a start")
        if start is not None:
            if end is not None and end < start:
                fail("tenancy_end", f"the tenancy ends ({end:%d.%m.%Y}) before it starts ({start:%d.%m.%Y})")
            if start > ref:
                fail("tenancy_start", f"starts after the reference date {ref:%d.%m.%Y}")
            if rec["target_group"] is None:
                fail("target_group", "empty for a tenancy")
            if rec["age_band"] is None:
                fail("age_band", "empty for a tenancy")
        if bad:
            continue
        key = (rec["municipality_code"], rec["dwelling_id"])
        tenancy_key = (*key, start)
        if tenancy_key in seen_tenancy:
            fail("dwelling_id", f"duplicate: dwelling {rec['dwelling_id']} with "
                                f"{'this tenancy start' if start else 'no tenancy'} already in row {seen_tenancy[tenancy_key]}")
            continue
        seen_tenancy[tenancy_key] = row_number
        attrs = {f: rec[f] for f in (*DWELLING_FIELDS, "reference_date")}
        if key in dwelling_first:
            first_row, first_attrs = dwelling_first[key]
            differing = [f for f in attrs if attrs[f] != first_attrs[f]]
            if differing:
                fail(differing[0], f"duplicate dwelling id {rec['dwelling_id']}: row {first_row} describes the "
                                   f"dwelling differently ({', '.join(differing)})")
                continue
        else:
            dwelling_first[key] = (row_number, attrs)
        rec["reference_year"] = ref.year
        records.append(rec)
    # a dwelling occupied on the reference date has exactly one running tenancy; a vacant one none
    running: dict[tuple, list[int]] = {}
    for rec in records:
        key = (rec["municipality_code"], rec["dwelling_id"])
        running.setdefault(key, [])
        if rec["tenancy_start"] is not None and (rec["tenancy_end"] is None or rec["tenancy_end"] > rec["reference_date"]):
            running[key].append(rec["row_number"])
    for key, (first_row, attrs) in dwelling_first.items():
        rows = running.get(key, [])
        if attrs["status"] == "bebodd" and len(rows) != 1:
            errors.add(first_row, label_of["status"], f"dwelling {key[1]} is «bebodd» but has {len(rows)} running "
                       f"tenancies on the reference date (rows {', '.join(map(str, rows)) or 'none'})")
        elif attrs["status"] != "bebodd" and rows:
            errors.add(rows[0], label_of["status"], f"dwelling {key[1]} is «{attrs['status']}» but has a running tenancy")
    errors.raise_if_any()
    if not records:
        raise FileValidationError(file, None, None, "no data rows found")
    frame = pd.DataFrame.from_records(records)
    for column in ("reference_date", "tenancy_start", "tenancy_end"):
        frame[column] = pd.to_datetime(frame[column]).astype("datetime64[s]")
    frame["wheelchair_accessible"] = frame["wheelchair_accessible"].astype(bool)
    # codes such as "67_79" must stay text: with a missing value beside them DuckDB's pandas scan can read
    # the column as a number ("67_79" → 6779), so hand it Python strings and None
    for column in ("dwelling_id", "municipality_code", "dwelling_type", "ownership", "status", "target_group",
                   "age_band", "allocating_unit"):
        frame[column] = [None if v is None or v != v else str(v) for v in frame[column].astype(object)]
    return shared.ParsedFile(frame=frame, synthetic=_synthetic(book))


def _synthetic(book: Spreadsheet) -> bool:
    """xlsx: the «Merknad» sheet or a document property; csv: a «Merknad» column carrying the marker."""
    if not book.is_csv:
        return shared.spreadsheet_is_synthetic(book)
    rows = book.sheets[0].rows
    index, header = _header(rows)
    columns = [c for c, v in enumerate(header) if clean_label(v) == NOTE_COLUMN]
    return any(shared.text_is_synthetic(row[c]) for row in rows[index + 1:] for c in columns if c < len(row))


def import_inbox(con: duckdb.DuckDBPyConnection, inbox: Path, landing_root: Path | None = None,
                 valid_codes: shared.ValidCodes = None) -> shared.ImportReport:
    """Screen, land, validate and load `<inbox>/dwelling_register/*` into raw.dwelling_register."""
    shared.ensure_table(con, SPEC)
    valid_codes = shared.klass_codes(con, valid_codes)
    return shared.import_source(
        con, inbox, SPEC, lambda data, file: parse_file(data, file, valid_codes), landing_root=landing_root,
        screen=screen)
