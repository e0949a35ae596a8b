"""KMD's survey «Bruk av kommunale boliger» (SSB 2018, figures for 2017) → `raw.kmd_survey`.

Long like the Husbanken table: one row per municipality and measure (care_dwellings,
disadvantaged_dwellings, non_means_tested_dwellings, investment_grant_dwellings), with `answered`
telling whether the municipality took part. Non-answering municipalities keep their rows with null
values (and the status symbol the file carried), so the response rate can be computed.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from orchestration import settings
from orchestration.ingest.files import inbox as shared
from orchestration.ingest.files.excel import ErrorCollector, FileValidationError, clean_label, find_header, is_blank, \
    parse_number, read_spreadsheet

SOURCE = "kmd_survey"
TABLE = "kmd_survey"
CONFIG_PATH = settings.CONFIG_DIR / "kmd_survey_columns.yaml"

SPEC = shared.RawTable(
    source=SOURCE,
    table=TABLE,
    columns_ddl="""
        survey_year integer not null,     -- the year the figures describe (2017)
        municipality_code varchar not null,
        municipality_name varchar,
        answered boolean not null,
        measure varchar not null,         -- care_dwellings | disadvantaged_dwellings | ...
        value double,
        status_symbol varchar,
    """,
    coverage=("survey_year",),
)


@lru_cache(maxsize=4)
def load_config(path: Path = CONFIG_PATH) -> dict:
    return settings.read_yaml(path)


def _yes_no(value: Any, config: dict) -> bool:
    if isinstance(value, bool):
        return value
    label = clean_label(f"{value:g}" if isinstance(value, float) else value)
    if label in {clean_label(v) for v in config["yes_values"]}:
        return True
    if label in {clean_label(v) for v in config["no_values"]}:
        return False
    raise ValueError(f"{value!r} is not Ja/Nei")


def parse_file(data: bytes, file: str, valid_codes: shared.ValidCodes = None,
               config: dict | None = None) -> shared.ParsedFile:
    config = config or load_config()
    book = read_spreadsheet(data, file)
    sheets = shared.data_sheets(book)
    if len(sheets) != 1:
        raise FileValidationError(file, None, None, f"expected one sheet of survey data, found {len(sheets)}")
    sheet = sheets[0]
    sheet_name = None if book.is_csv else sheet.title
    errors = ErrorCollector(file)
    known = {clean_label(lbl): ("field", f) for f, labels in config["columns"].items() for lbl in labels}
    known.update({clean_label(lbl): ("measure", m) for m, labels in config["measures"].items() for lbl in labels})
    found = find_header(sheet.rows, set(known))
    header_index, header, header_row = found.index, sheet.rows[found.index], found.row
    columns: dict[int, tuple[str, str]] = {}
    for c, value in enumerate(header):
        label = clean_label(value)
        if not label:
            continue
        if label not in known:
            errors.add(header_row, str(value), "unknown column; add the label to kmd_survey_columns.yaml")
        elif known[label] in columns.values():
            errors.add(header_row, str(value), f"maps to {known[label][1]} as another column does")
        else:
            columns[c] = known[label]
    present = set(columns.values())
    for f, labels in config["columns"].items():
        if f not in config["optional_columns"] and ("field", f) not in present:
            errors.add(header_row, labels[0], "missing column")
    for m, labels in config["measures"].items():
        if ("measure", m) not in present:
            errors.add(header_row, labels[0], "missing column")
    errors.raise_if_any()

    fields = {name: c for c, (kind, name) in columns.items() if kind == "field"}
    label_of = {c: str(header[c]) for c in columns}
    name_or_code = {c for f, c in fields.items() if f in ("municipality_code", "municipality_name")}
    shared.check_text_cells(sheet.rows, header_row, label_of, name_or_code, errors)
    errors.raise_if_any()
    totals_labels = {clean_label(t) for t in config.get("total_row_names", [])}
    totals = 0
    records: list[dict] = []
    seen: dict[tuple[int, str], int] = {}
    for index in range(header_index + 1, len(sheet.rows)):
        row, row_number = sheet.rows[index], index + 1

        def cell(c: int) -> Any:
            return row[c] if c < len(row) else None

        if all(is_blank(v) for v in row):
            continue
        if any(clean_label(cell(c)) in totals_labels for c in name_or_code):
            totals += 1  # a total row, its label in the code or the name column
            continue
        parsed: dict[str, Any] = {"year": int(config["reference_year"])}
        for field, parse in (("municipality_code", shared.municipality_code),
                             ("year", lambda v: shared.parse_int(v, 2000, 2100)),
                             ("answered", lambda v: _yes_no(v, config))):
            if field not in fields:
                continue
            try:
                parsed[field] = parse(cell(fields[field]))
            except ValueError as err:
                errors.add(row_number, label_of[fields[field]], str(err))
                break
        else:
            parsed["ok"] = True
        if "ok" not in parsed:
            continue
        code, year, answered = parsed["municipality_code"], parsed["year"], parsed["answered"]
        problem = shared.check_code_valid(code, year, valid_codes)
        if problem:
            errors.add(row_number, label_of[fields["municipality_code"]], problem)
            continue
        if (year, code) in seen:
            errors.add(row_number, label_of[fields["municipality_code"]],
                       f"duplicate row: municipality {code} already in row {seen[(year, code)]}")
            continue
        seen[(year, code)] = row_number
        name = cell(fields["municipality_name"]) if "municipality_name" in fields else None
        for c, (kind, measure) in columns.items():
            if kind != "measure":
                continue
            try:
                value, status = parse_number(cell(c))
            except ValueError as err:
                errors.add(row_number, label_of[c], str(err))
                continue
            if value is not None and value < 0:
                errors.add(row_number, label_of[c], f"negative count {value:g}")
                continue
            records.append({
                "survey_year": year, "municipality_code": code,
                "municipality_name": None if is_blank(name) else str(name).strip(), "answered": answered,
                "measure": measure, "value": value, "status_symbol": status,
                "sheet": sheet_name, "row_number": row_number,
            })
    errors.raise_if_any()
    if not records:
        raise FileValidationError(file, None, None, "no data rows found")
    frame = pd.DataFrame.from_records(records)
    frame["value"] = frame["value"].astype("float64")
    notes = [n for n in [found.note(), f"{totals} total row(s) skipped" if totals else None] if n]
    return shared.ParsedFile(frame=frame, synthetic=shared.spreadsheet_is_synthetic(book), notes=notes)


def import_inbox(con: duckdb.DuckDBPyConnection, inbox: Path, landing_root: Path | None = None,
                 valid_codes: shared.ValidCodes = None) -> shared.ImportReport:
    """Land, validate and load `<inbox>/kmd_survey/*` into raw.kmd_survey."""
    valid_codes = shared.klass_codes(con, valid_codes)
    return shared.import_source(
        con, inbox, SPEC, lambda data, file: parse_file(data, file, valid_codes), landing_root=landing_root)
