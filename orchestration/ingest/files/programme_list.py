"""The maintained list of programme municipalities → `raw.programme_municipalities`.

`<inbox>/programme_list/programme_municipalities.csv` with the columns below. The list is not public in
full, so it is kept by hand as a reference table with validity years; it goes through the same
landing, validation and rejection as every other file, and the newest accepted file replaces the
whole list (history stays in the raw table). The list's own `synthetic` column is kept per row.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from orchestration.ingest.files import inbox as shared
from orchestration.ingest.files.excel import ErrorCollector, FileValidationError, clean_label, is_blank, \
    read_spreadsheet

SOURCE = "programme_list"
TABLE = "programme_municipalities"
COLUMNS = ("municipality_code", "municipality_name", "programme", "valid_from_year", "valid_to_year", "synthetic")
REQUIRED = COLUMNS[:5]
TRUE_VALUES = {"true", "1", "ja", "yes", "sant"}
FALSE_VALUES = {"false", "0", "nei", "no", "usant", ""}

SPEC = shared.RawTable(
    source=SOURCE,
    table=TABLE,
    columns_ddl="""
        municipality_code varchar not null,   -- the code valid in the programme years (2019 codes)
        municipality_name varchar not null,
        programme varchar not null,           -- storby | by- og tettsted
        valid_from_year integer not null,
        valid_to_year integer not null,
    """,
    coverage=(),  # the newest list replaces the whole list
)


def parse_file(data: bytes, file: str, valid_codes: shared.ValidCodes = None) -> shared.ParsedFile:
    book = read_spreadsheet(data, file)
    sheets = shared.data_sheets(book)
    if len(sheets) != 1:
        raise FileValidationError(file, None, None, f"expected one table, found {len(sheets)}")
    sheet = sheets[0]
    errors = ErrorCollector(file)
    header = sheet.rows[0]
    index: dict[str, int] = {}
    for c, value in enumerate(header):
        label = clean_label(value)
        if label not in COLUMNS:
            errors.add(1, str(value), f"unknown column (expected {', '.join(COLUMNS)})")
        elif label in index:
            errors.add(1, str(value), "column appears twice")
        else:
            index[label] = c
    for name in REQUIRED:
        if name not in index:
            errors.add(1, name, "missing column")
    errors.raise_if_any()

    records: list[dict] = []
    periods: dict[str, list[tuple[int, int, int]]] = {}
    for i, row in enumerate(sheet.rows[1:], start=2):
        def cell(name: str) -> Any:
            c = index.get(name)
            return row[c] if c is not None and c < len(row) else None

        if all(is_blank(v) for v in row):
            continue
        try:
            code = shared.municipality_code(cell("municipality_code"))
        except ValueError as err:
            errors.add(i, "municipality_code", str(err))
            continue
        years = []
        for name in ("valid_from_year", "valid_to_year"):
            try:
                years.append(shared.parse_int(cell(name), 2000, 2100))
            except ValueError as err:
                errors.add(i, name, str(err))
        if len(years) < 2:
            continue
        start, end = years
        if start > end:
            errors.add(i, "valid_to_year", f"{end} is before valid_from_year {start}")
            continue
        # the list keeps one code per municipality: it must be valid in at least one of its years
        if all(shared.check_code_valid(code, y, valid_codes) for y in range(start, end + 1)):
            errors.add(i, "municipality_code", f"'{code}' is not a municipality code valid in {start}–{end}")
            continue
        for other_start, other_end, other_row in periods.get(code, []):
            if start <= other_end and other_start <= end:
                errors.add(i, "municipality_code", f"duplicate row: municipality {code} already listed for "
                           f"{other_start}–{other_end} in row {other_row}")
                break
        else:
            periods.setdefault(code, []).append((start, end, i))
            flag = clean_label(cell("synthetic") or "")
            if flag not in TRUE_VALUES | FALSE_VALUES:
                errors.add(i, "synthetic", f"{cell('synthetic')!r} is not true/false")
                continue
            for name in ("municipality_name", "programme"):
                if is_blank(cell(name)):
                    errors.add(i, name, "empty")
            records.append({
                "municipality_code": code, "municipality_name": str(cell("municipality_name") or "").strip(),
                "programme": str(cell("programme") or "").strip(), "valid_from_year": start,
                "valid_to_year": end, "synthetic": flag in TRUE_VALUES,
                "sheet": None if book.is_csv else sheet.title, "row_number": i,
            })
    errors.raise_if_any()
    if not records:
        raise FileValidationError(file, None, None, "the list is empty")
    frame = pd.DataFrame.from_records(records)
    synthetic = bool(frame["synthetic"].any()) or shared.spreadsheet_is_synthetic(book)
    return shared.ParsedFile(frame=frame, synthetic=synthetic)


def import_inbox(con: duckdb.DuckDBPyConnection, inbox: Path, landing_root: Path | None = None,
                 valid_codes: shared.ValidCodes = None) -> shared.ImportReport:
    """Land, validate and load `<inbox>/programme_list/*` into raw.programme_municipalities."""
    return shared.import_source(
        con, inbox, SPEC, lambda data, file: parse_file(data, file, valid_codes), landing_root=landing_root)
