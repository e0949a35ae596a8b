"""The programme municipalities' yearly reports (2016–2018) → `raw.programme_report_answers`.

One spreadsheet per reporting year, one row per municipality, one column per question. The wording
changed every year, so `config/programme_questions.yaml` maps each year's column label to a stable
question id with its kind and goal. The raw table is long: one row per municipality and question,
with the column label kept verbatim as `question_text` and the cell verbatim as `answer_text`, plus
the typed answer in `answer_number` / `answer_bool` / `answer_scale`.

The reporting year is read from a «Rapporteringsår» column, else a year in the sheet title, else a
year in the file name. A newer file for the same year supersedes the older one.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from orchestration import settings
from orchestration.ingest.files import inbox as shared
from orchestration.ingest.files.excel import ErrorCollector, FileValidationError, clean_label, find_header, is_blank, \
    parse_number, read_spreadsheet

SOURCE = "programme_reports"
TABLE = "programme_report_answers"
CONFIG_PATH = settings.CONFIG_DIR / "programme_questions.yaml"
KINDS = ("number", "yes_no", "scale_1_5", "text")

SPEC = shared.RawTable(
    source=SOURCE,
    table=TABLE,
    columns_ddl="""
        report_year integer not null,
        municipality_code varchar not null,
        municipality_name varchar,
        question_id varchar not null,
        question_text varchar not null,   -- the column label, verbatim
        goal integer not null,            -- 1–15 of «Bolig for velferd»
        answer_kind varchar not null,     -- number | yes_no | scale_1_5 | text
        answer_number double,
        answer_bool boolean,
        answer_scale integer,             -- 1–5
        answer_text varchar,              -- the cell, verbatim; null when unanswered
    """,
    coverage=("report_year",),
)


@lru_cache(maxsize=4)
def load_config(path: Path = CONFIG_PATH) -> dict:
    config = settings.read_yaml(path)
    for year in config["years"]:  # a label must name one question in its year
        labels = [clean_label(q["labels"][year]) for q in config["questions"].values() if year in q["labels"]]
        dup = {lbl for lbl in labels if labels.count(lbl) > 1}
        if dup:
            raise ValueError(f"{path}: labels used twice in {year}: {sorted(dup)}")
    for qid, q in config["questions"].items():
        if q["kind"] not in KINDS or not 1 <= int(q["goal"]) <= 15:
            raise ValueError(f"{path}: question {qid} has kind {q['kind']!r} / goal {q['goal']!r}")
    return config


@dataclass(frozen=True)
class Question:
    id: str
    goal: int
    kind: str


def _answer(kind: str, value: Any, config: dict) -> dict[str, Any]:
    """The typed answer columns for one cell; raises ValueError when the cell does not fit the kind."""
    out: dict[str, Any] = {"answer_number": None, "answer_bool": None, "answer_scale": None, "answer_text": None}
    if is_blank(value):
        return out
    if isinstance(value, (dt.datetime, dt.date)):
        value = value.isoformat()
    out["answer_text"] = value if isinstance(value, str) else (f"{value:g}" if isinstance(value, float) else str(value))
    if kind == "text":
        return out
    if kind == "number":
        number, status = parse_number(value)
        if status is not None or number is None or number < 0:
            raise ValueError(f"{value!r} is not a non-negative number")
        out["answer_number"] = number
    elif kind == "yes_no":
        label = clean_label(value)
        if isinstance(value, bool):
            out["answer_bool"] = value
        elif label in {clean_label(v) for v in config["yes_values"]}:
            out["answer_bool"] = True
        elif label in {clean_label(v) for v in config["no_values"]}:
            out["answer_bool"] = False
        else:
            raise ValueError(f"{value!r} is not Ja/Nei")
    elif kind == "scale_1_5":
        out["answer_scale"] = _scale(value, config)
    return out


def _scale(value: Any, config: dict) -> int:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and float(value).is_integer() \
            and 1 <= value <= 5:
        return int(value)
    text = str(value).strip()
    match = re.match(r"^([1-5])(\s*[-–:.)]|\s*$)", text)
    if match:
        return int(match.group(1))
    for point, labels in config["scale_labels"].items():
        if clean_label(text) in {clean_label(v) for v in labels}:
            return int(point)
    raise ValueError(f"{value!r} is not on the scale 1–5")


def _report_year(file: str, sheet_title: str, years_in_column: set[int]) -> int | None:
    if len(years_in_column) == 1:
        return years_in_column.pop()
    for text in (sheet_title, Path(file).stem):
        found = set(re.findall(r"(?<!\d)(20\d\d)(?!\d)", text))
        if len(found) == 1:
            return int(found.pop())
    return None


def parse_file(data: bytes, file: str, valid_codes: shared.ValidCodes = None,
               config: dict | None = None) -> shared.ParsedFile:
    config = config or load_config()
    book = read_spreadsheet(data, file)
    sheets = shared.data_sheets(book)
    if len(sheets) != 1:
        raise FileValidationError(file, None, None, f"expected one sheet of answers, found {len(sheets)}")
    sheet = sheets[0]
    errors = ErrorCollector(file)
    identity = {clean_label(lbl): f for f, labels in config["identity_columns"].items() for lbl in labels}
    questions_known = {clean_label(lbl) for q in config["questions"].values() for lbl in q["labels"].values()}
    found = find_header(sheet.rows, set(identity) | questions_known)
    header_index, header, header_row = found.index, sheet.rows[found.index], found.row
    body = list(enumerate(sheet.rows[header_index + 1:], start=header_row + 1))
    ignored = {clean_label(lbl) for lbl in config["ignored_columns"]}
    columns = {c: identity[clean_label(v)] for c, v in enumerate(header) if clean_label(v) in identity}
    fields = {f: c for c, f in columns.items()}
    if "municipality_code" not in fields:
        raise FileValidationError(file, header_row, config["identity_columns"]["municipality_code"][0],
                                  "missing column")

    years_in_column: set[int] = set()
    if "report_year" in fields:
        for row_number, row in body:
            value = row[fields["report_year"]] if fields["report_year"] < len(row) else None
            if not is_blank(value):
                try:
                    years_in_column.add(shared.parse_int(value, 2000, 2100))
                except ValueError as err:
                    errors.add(row_number, str(header[fields["report_year"]]), str(err))
        errors.raise_if_any()
        if len(years_in_column) > 1:
            raise FileValidationError(file, None, str(header[fields["report_year"]]),
                                      f"one file per reporting year, found {sorted(years_in_column)}")
    year = _report_year(file, sheet.title, years_in_column)
    if year not in config["years"]:
        raise FileValidationError(file, None, None, f"cannot tell the reporting year, or no question mapping "
                                  f"for {year} in programme_questions.yaml (years {config['years']})")

    by_label = {clean_label(q["labels"][year]): Question(qid, int(q["goal"]), q["kind"])
                for qid, q in config["questions"].items() if year in q["labels"]}
    other_years = {clean_label(lbl): y for q in config["questions"].values() for y, lbl in q["labels"].items()
                   if y != year}
    questions: dict[int, Question] = {}
    for c, value in enumerate(header):
        label = clean_label(value)
        if c in columns or label in ignored:
            continue
        if not label:
            if any(c < len(r) and not is_blank(r[c]) for _, r in body):
                errors.add(header_row, f"(column {c + 1})", "column has answers but no label")
            continue
        if label in by_label:
            if by_label[label] in questions.values():
                errors.add(header_row, str(value), "the same question appears twice")
            questions[c] = by_label[label]
        else:
            hint = f" (it is the {other_years[label]} wording: wrong year?)" if label in other_years else ""
            errors.add(header_row, str(value), f"unknown column for {year}{hint}; add it to programme_questions.yaml")
    for qid, q in config["questions"].items():
        if year in q["labels"] and clean_label(q["labels"][year]) not in {clean_label(header[c]) for c in questions}:
            errors.add(header_row, q["labels"][year], f"missing column (question {qid})")
    errors.raise_if_any()

    name_or_code = {c for f, c in fields.items() if f in ("municipality_code", "municipality_name")}
    shared.check_text_cells(sheet.rows, header_row, {c: str(v) for c, v in enumerate(header)}, name_or_code, errors)
    errors.raise_if_any()
    records: list[dict] = []
    seen: dict[str, int] = {}
    code_label = str(header[fields["municipality_code"]])
    for row_number, row in body:
        def cell(c: int) -> Any:
            return row[c] if c < len(row) else None

        if all(is_blank(v) for v in row):
            continue
        try:
            code = shared.municipality_code(cell(fields["municipality_code"]))
        except ValueError as err:
            errors.add(row_number, code_label, str(err) if not is_blank(cell(fields["municipality_code"]))
                       else "missing municipality code")
            continue
        problem = shared.check_code_valid(code, year, valid_codes)
        if problem:
            errors.add(row_number, code_label, problem)
            continue
        if code in seen:
            errors.add(row_number, code_label, f"duplicate row: municipality {code} already reported in row {seen[code]}")
            continue
        seen[code] = row_number
        name = cell(fields["municipality_name"]) if "municipality_name" in fields else None
        for c, question in questions.items():
            try:
                answer = _answer(question.kind, cell(c), config)
            except ValueError as err:
                errors.add(row_number, str(header[c]), str(err))
                continue
            records.append({
                "report_year": year, "municipality_code": code,
                "municipality_name": None if is_blank(name) else str(name).strip(),
                "question_id": question.id, "question_text": str(header[c]), "goal": question.goal,
                "answer_kind": question.kind, **answer, "sheet": sheet.title, "row_number": row_number,
            })
    errors.raise_if_any()
    if not records:
        raise FileValidationError(file, None, None, "no answers found")
    frame = pd.DataFrame.from_records(records)
    frame["answer_bool"] = frame["answer_bool"].astype("boolean")
    frame["answer_scale"] = frame["answer_scale"].astype("Int64")
    frame["answer_number"] = frame["answer_number"].astype("float64")
    return shared.ParsedFile(frame=frame, synthetic=shared.spreadsheet_is_synthetic(book),
                             notes=[n for n in [found.note()] if n])


def import_inbox(con: duckdb.DuckDBPyConnection, inbox: Path, landing_root: Path | None = None,
                 valid_codes: shared.ValidCodes = None) -> shared.ImportReport:
    """Land, validate and load `<inbox>/programme_reports/*.xlsx` into raw.programme_report_answers."""
    valid_codes = shared.klass_codes(con, valid_codes)
    return shared.import_source(
        con, inbox, SPEC, lambda data, file: parse_file(data, file, valid_codes), landing_root=landing_root)
