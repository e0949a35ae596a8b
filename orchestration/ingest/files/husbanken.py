"""Husbanken's instruments from Qlik exports (xlsx or csv) → `raw.husbanken_instruments`.

Startlån, tilskudd til etablering, tilskudd til utleieboliger, investeringstilskudd, tilvisningsavtaler
and statlig bostøtte, per municipality and year or month. The column labels are mapped to canonical
fields by `config/husbanken_columns.yaml`; see `orchestration.ingest.files.inbox` for landing, rejection and
supersession (a corrected export replaces the same instrument, grain and periods).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from orchestration import settings
from orchestration.ingest.files import inbox as shared
from orchestration.ingest.files.excel import ErrorCollector, FileValidationError, Sheet, clean_label, find_header, \
    is_blank, parse_number, read_spreadsheet

SOURCE = "husbanken"
TABLE = "husbanken_instruments"
CONFIG_PATH = settings.CONFIG_DIR / "husbanken_columns.yaml"

SPEC = shared.RawTable(
    source=SOURCE,
    table=TABLE,
    columns_ddl="""
        municipality_code varchar not null,
        municipality_name varchar,
        period varchar not null,          -- '2019' (grain year) or '2019-03' (grain month)
        grain varchar not null,           -- year | month
        year integer not null,
        month integer,
        instrument varchar not null,      -- startlan, etableringstilskudd, utleieboliger, ...
        measure varchar not null,         -- households, households_with_children, households_purchase, ...
        value double,                     -- null when suppressed
        status_symbol varchar,            -- '<4', ':', '..', ... as received; null for a plain value
    """,
    coverage=("instrument", "grain", "period"),
)

MONTHS = {name: i + 1 for i, names in enumerate([
    ("januar", "jan"), ("februar", "feb"), ("mars", "mar"), ("april", "apr"), ("mai",), ("juni", "jun"),
    ("juli", "jul"), ("august", "aug"), ("september", "sep"), ("oktober", "okt"), ("november", "nov"),
    ("desember", "des")]) for name in names}


@lru_cache(maxsize=4)
def load_config(path: Path = CONFIG_PATH) -> dict:
    return settings.read_yaml(path)


def _fold(text: str) -> str:
    """Loose matching of instrument names in sheet titles and file names: 'Startlån' ~ 'startlan_2019'."""
    text = text.casefold().replace("å", "a").replace("ø", "o").replace("æ", "ae")
    return re.sub(r"[^a-z0-9]+", "", text)


@dataclass
class Mapping:
    dimensions: dict[str, str]  # clean label -> dimension field
    measures: dict[str, dict[str, str]]  # instrument -> clean label -> measure
    purposes: dict[str, str]  # clean value -> purpose key
    totals: set[str]

    @classmethod
    def from_config(cls, config: dict) -> "Mapping":
        return cls(
            dimensions={clean_label(lbl): f for f, labels in config["dimensions"].items() for lbl in labels},
            measures={i: {clean_label(lbl): m for m, labels in spec["measures"].items() for lbl in labels}
                      for i, spec in config["instruments"].items()},
            purposes={clean_label(lbl): p for p, labels in config["purposes"].items() for lbl in labels},
            totals={clean_label(t) for t in config["total_row_names"]},
        )


def instrument_from_text(text: str, config: dict) -> str | None:
    """The one instrument whose alias occurs in `text`; None when none or several do."""
    folded = _fold(text)
    found = {key for key, spec in config["instruments"].items()
             if any(_fold(alias) and _fold(alias) in folded for alias in spec["aliases"])}
    return found.pop() if len(found) == 1 else None


_MONTH_NUMBER, _YEAR_MONTH = re.compile(r"\d{1,2}"), re.compile(r"(\d{4})[-m/ ]?(\d{2})")


def parse_month(value: Any, year: int) -> int:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 12:
        return value
    text = str(value).strip().casefold()
    if _MONTH_NUMBER.fullmatch(text) and 1 <= int(text) <= 12:
        return int(text)
    match = _YEAR_MONTH.fullmatch(text)
    if match and int(match.group(1)) == year and 1 <= int(match.group(2)) <= 12:
        return int(match.group(2))
    if text.rstrip(".") in MONTHS:
        return MONTHS[text.rstrip(".")]
    raise ValueError(f"{value!r} is not a month")


def parse_file(data: bytes, file: str, valid_codes: shared.ValidCodes = None,
               config: dict | None = None) -> shared.ParsedFile:
    """Read and validate one Husbanken export; raises FileValidationError / FileRejected."""
    config = config or load_config()
    mapping = Mapping.from_config(config)
    book = read_spreadsheet(data, file)
    synthetic = shared.spreadsheet_is_synthetic(book)
    errors = ErrorCollector(file)
    records: list[dict] = []
    notes: list[str] = []
    sheets = shared.data_sheets(book)
    if not sheets:
        raise FileValidationError(file, None, None, "no data found")
    for sheet in sheets:
        sheet_synthetic = _parse_sheet(sheet, book.is_csv, file, config, mapping, valid_codes, errors, records,
                                       notes)
        synthetic = synthetic or sheet_synthetic
    errors.raise_if_any()
    if not records:
        raise FileValidationError(file, None, None, "no data rows found")
    frame = pd.DataFrame.from_records(records)
    frame["month"] = frame["month"].astype("Int64")
    return shared.ParsedFile(frame=frame, synthetic=synthetic, notes=notes)


@dataclass
class Header:
    row: int  # 1-based row of the labels
    columns: dict[int, tuple[str, str]]  # column index -> ("dimension", field) or ("measure", measure)
    labels: dict[int, str]  # column index -> label as received
    instrument: str | None  # the sheet's instrument; None when a «Virkemiddel» column names it per row
    note: str | None = None  # where the header was found, when title rows stood above it

    @property
    def fields(self) -> dict[str, int]:
        return {name: c for c, (kind, name) in self.columns.items() if kind == "dimension"}


def _map_header(sheet: Sheet, is_csv: bool, file: str, config: dict, mapping: Mapping,
                errors: ErrorCollector) -> Header | None:
    """Match the column labels against the YAML mapping; None (with errors) when they do not fit."""
    known = set(mapping.dimensions) | {lbl for m in mapping.measures.values() for lbl in m}
    found = find_header(sheet.rows, known)
    header_index, header, header_row = found.index, sheet.rows[found.index], found.row

    # Which instrument: a Virkemiddel column decides per row; else the sheet title, else the file name.
    labels = [clean_label(v) for v in header]
    per_row = any(mapping.dimensions.get(lbl) == "instrument" for lbl in labels)
    instrument = None
    if not per_row:
        instrument = (None if is_csv else instrument_from_text(sheet.title, config)) or \
            instrument_from_text(Path(file).name, config)
        if instrument is None:
            errors.add(None, None, f"cannot tell the instrument of sheet {sheet.title!r}: name it in a "
                       "«Virkemiddel» column, the sheet title or the file name (see husbanken_columns.yaml)")
            return None

    columns: dict[int, tuple[str, str]] = {}
    seen: dict[str, str] = {}
    for c, (raw_label, label) in enumerate(zip(header, labels)):
        if not label:
            if any(c < len(r) and not is_blank(r[c]) for r in sheet.rows[header_row:]):
                errors.add(header_row, f"(column {c + 1})", "column has data but no label")
            continue
        if label in mapping.dimensions:
            kind, name = "dimension", mapping.dimensions[label]
        elif per_row and any(label in m for m in mapping.measures.values()):
            kind, name = "measure", label  # resolved per row, once the row's instrument is known
        elif instrument and label in mapping.measures[instrument]:
            kind, name = "measure", mapping.measures[instrument][label]
        else:
            known = "" if per_row else f" for {config['instruments'][instrument]['name']}"
            errors.add(header_row, str(raw_label), f"unknown column{known}; add the label to husbanken_columns.yaml")
            continue
        if name in seen:
            errors.add(header_row, str(raw_label), f"maps to {name}, as column \"{seen[name]}\" does")
            continue
        seen[name] = str(raw_label)
        columns[c] = (kind, name)

    result = Header(header_row, columns, {c: str(header[c]) for c in columns}, instrument, found.note())
    for required in config["required_dimensions"]:
        if required not in result.fields:
            errors.add(header_row, config["dimensions"][required][0], "missing column")
    if instrument:
        present = {name for kind, name in columns.values() if kind == "measure"}
        for required in config["instruments"][instrument]["required_measures"]:
            if required not in present:
                errors.add(header_row, config["instruments"][instrument]["measures"][required][0], "missing column")
    return None if errors else result  # row checks against a wrong header only produce noise


def _parse_sheet(sheet: Sheet, is_csv: bool, file: str, config: dict, mapping: Mapping,
                 valid_codes: shared.ValidCodes, errors: ErrorCollector, records: list[dict],
                 notes: list[str]) -> bool:
    """Validate one sheet into `records`; returns whether a Merknad column marked it synthetic."""
    header = _map_header(sheet, is_csv, file, config, mapping, errors)
    if header is None:
        return False
    columns, fields, label_of = header.columns, header.fields, header.labels
    sheet_instrument, has_instrument_column = header.instrument, header.instrument is None
    sheet_name = None if is_csv else sheet.title
    first_seen: dict[tuple, int] = {}
    synthetic = False
    totals = 0
    dimension_columns = [c for name, c in fields.items() if name in ("municipality_code", "municipality_name",
                                                                      "year", "month", "instrument")]
    name_or_code = {c for name, c in fields.items() if name in ("municipality_code", "municipality_name",
                                                                 "instrument", "purpose")}
    before = len(errors.errors)
    shared.check_text_cells(sheet.rows, header.row, label_of, name_or_code, errors)
    if len(errors.errors) > before:
        return False
    width = 1 + max(columns)  # every field is a mapped column
    for index in range(header.row, len(sheet.rows)):
        row = sheet.rows[index]
        row_number = index + 1
        if all(is_blank(v) for v in row):
            continue
        if len(row) < width:  # a short row's missing cells are empty
            row = [*row, *[None] * (width - len(row))]
        cell = row.__getitem__
        if "note" in fields and shared.text_is_synthetic(cell(fields["note"])):
            synthetic = True
        if any(clean_label(cell(c)) in mapping.totals for c in dimension_columns):
            totals += 1  # the export's total row, its label in whichever dimension column
            continue
        code_cell = cell(fields["municipality_code"])
        if is_blank(code_cell):
            errors.add(row_number, label_of[fields["municipality_code"]], "missing municipality code")
            continue
        try:
            code = shared.municipality_code(code_cell)
        except ValueError as err:
            errors.add(row_number, label_of[fields["municipality_code"]], str(err))
            continue
        try:
            year = shared.parse_int(cell(fields["year"]), 1990, 2100)
        except ValueError as err:
            errors.add(row_number, label_of[fields["year"]], str(err))
            continue
        problem = shared.check_code_valid(code, year, valid_codes)
        if problem:
            errors.add(row_number, label_of[fields["municipality_code"]], problem)
            continue
        month = None
        if "month" in fields:
            try:
                month = parse_month(cell(fields["month"]), year)
            except ValueError as err:
                errors.add(row_number, label_of[fields["month"]], str(err))
                continue
        instrument = sheet_instrument
        if has_instrument_column:
            instrument = instrument_from_text(str(cell(fields["instrument"]) or ""), config)
            if instrument is None:
                errors.add(row_number, label_of[fields["instrument"]],
                           f"{cell(fields['instrument'])!r} is not a known instrument")
                continue
        purpose = None
        if "purpose" in fields and not is_blank(cell(fields["purpose"])):
            purpose = mapping.purposes.get(clean_label(cell(fields["purpose"])))
            if purpose is None:
                errors.add(row_number, label_of[fields["purpose"]],
                           f"{cell(fields['purpose'])!r} is not a known purpose (formål)")
                continue
        period = f"{year}-{month:02d}" if month else str(year)
        name_cell = cell(fields["municipality_name"]) if "municipality_name" in fields else None

        for c, (kind, measure) in columns.items():
            if kind != "measure":
                continue
            if has_instrument_column:
                measure = mapping.measures[instrument].get(measure)
                if measure is None:
                    if not is_blank(cell(c)):
                        errors.add(row_number, label_of[c], f"not a measure of {instrument}")
                    continue
            try:
                value, status = parse_number(cell(c))
            except ValueError as err:
                errors.add(row_number, label_of[c], str(err))
                continue
            if value is None and status is None:
                continue  # an empty cell: nothing reported
            if value is not None and value < 0 and not measure.startswith("amount"):
                errors.add(row_number, label_of[c], f"negative count {value:g}")
                continue
            if purpose and purpose != "all":
                measure = f"{measure}_{purpose}"
            key = (code, period, instrument, measure)
            if key in first_seen:
                errors.add(row_number, label_of[fields["municipality_code"]],
                           f"duplicate row: municipality {code}, period {period}, {instrument} {measure} "
                           f"already in row {first_seen[key]}")
                break
            first_seen[key] = row_number
            records.append({
                "municipality_code": code,
                "municipality_name": None if is_blank(name_cell) else str(name_cell).strip(),
                "period": period, "grain": "month" if month else "year", "year": year, "month": month,
                "instrument": instrument, "measure": measure, "value": value, "status_symbol": status,
                "sheet": sheet_name, "row_number": row_number,
            })
    where = f"sheet {sheet.title!r}: " if sheet_name else ""
    if header.note:
        notes.append(where + header.note)
    if totals:
        notes.append(f"{where}{totals} total row(s) skipped")
    return synthetic


def import_inbox(con: duckdb.DuckDBPyConnection, inbox: Path, landing_root: Path | None = None,
                 valid_codes: shared.ValidCodes = None) -> shared.ImportReport:
    """Land, validate and load `<inbox>/husbanken/*` (xlsx or csv) into raw.husbanken_instruments."""
    valid_codes = shared.klass_codes(con, valid_codes, oslo_districts=True)
    return shared.import_source(
        con, inbox, SPEC, lambda data, file: parse_file(data, file, valid_codes), landing_root=landing_root)
