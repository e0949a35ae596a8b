"""Safe reading of the spreadsheets and CSV files people drop in the inbox.

Spreadsheets arrive from outside (Husbanken's Qlik app, survey tools, municipalities), so they are
treated as untrusted input:

- only .xlsx (Office Open XML without macros) and .csv are read; .xlsm / files carrying a
  `vbaProject.bin` and legacy binary .xls are refused;
- the zip is inspected before a reader sees it: a size cap on the file, on the declared uncompressed
  size and on the compression ratio stops decompression bombs (zipfile never inflates a member past
  its declared size, so checking the declared sizes is enough);
- a workbook of plain values is read by calamine (python-calamine, ≈ 10× openpyxl here). One holding
  formulas, error cells (`#N/A`) or anything else calamine reads otherwise (`_calamine_reads_alike`), or one
  calamine cannot open, is read by openpyxl with `read_only=True, data_only=True, keep_links=False,
  keep_vba=False`. Formulas are never evaluated, only the value Excel cached when the file was saved is
  read, and links to other workbooks are neither loaded nor followed. A formula cell without a cached value
  is an error naming the cell, because reading it as empty would silently lose a figure. Both readers give
  the same cells (`_plain_cells`).

Every problem is a `FileValidationError(file, row, column, message)`, the one error type the
importers report. The readers are imported when a file is read: this module is on the Dagster definitions'
import path (the inbox driver's types), openpyxl's import is not.
"""

from __future__ import annotations

import contextlib
import contextvars
import csv
import datetime as dt
import hashlib
import io
import re
import zipfile
import zlib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any


MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_UNCOMPRESSED_BYTES = 200 * 1024 * 1024
MAX_COMPRESSION_RATIO = 100
# Tiny members (a few KB of repeated XML) compress extremely well; the ratio is only meaningful
# once a file inflates to something large.
RATIO_CHECK_FROM_BYTES = 1024 * 1024

# Symbols that stand for a value that exists but is not shown (SSB: `:` confidential, `..` not
# available, `...` not yet available, `.` not applicable; Husbanken: `<4`, `*`). They are kept as a
# status with a null value, never read as zero and never an error.
SUPPRESSED_PATTERN = re.compile(r"^(:|\.{1,3}|\*+|x|<\s*\d+)$", re.IGNORECASE)
NIL_SYMBOLS = {"-", "–", "—"}  # SSB's «null»: the value is exactly zero
_SPACES = re.compile(r"[\s\u00a0\u202f\u2009]+")
_DOT_THOUSANDS = re.compile(r"[+-]?\d{1,3}(\.\d{3})+(,\d+)?")  # 1.234,5
_DECIMAL = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


# What sends a workbook past calamine to openpyxl (`_calamine_reads_alike`), in any XML part, any namespace prefix:
_FORMULA = re.compile(rb"<(?:[\w.-]+:)?f[\s>/]")
_ERROR_CELL = re.compile(rb"""\st\s*=\s*["'](?:e|&)""")  # a cell of type error (#N/A, #DIV/0! …), or t escaped
# a negative serial (calamine reads a date before 1900, or before 1904 in a 1904 workbook, as a time of day) or a
# whole number of 16 digits or more (calamine's float loses its last digits)
_NEGATIVE_OR_LONG_NUMBER = re.compile(rb"<(?:[\w.-]+:)?v>\s*(?:-|\d{16,}\s*<)")
_CELL = re.compile(rb"<(?:[\w.-]+:)?c[\s>/]")
_CELL_REF = re.compile(rb'\sr="([A-Z]{1,3})(\d{1,7})"')  # as every writer puts it; any other form goes to openpyxl
MAX_DENSE_CELLS = 4_000_000  # calamine holds a sheet as a grid from A1 to its last cell; openpyxl streams
_PROPERTY_KEYS = ("title", "subject", "description", "keywords", "creator", "category")
DAMAGED = "the file is damaged or was not copied completely: send it again"
HEADER_SEARCH_ROWS = 10  # title and note rows above the header that exports and people add
# Characters no label, name or figure contains; a NUL or an escape in a cell is damage or an attack.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Text a spreadsheet program would run as a formula when the value is opened again (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class FileValidationError(Exception):
    """A problem in a received file, located as precisely as is known."""

    def __init__(self, file: str, row: int | None, column: str | None, message: str):
        self.file = file
        self.row = row
        self.column = column
        self.message = message
        super().__init__(str(self))

    def __str__(self) -> str:
        where = []
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f'column "{self.column}"')
        return f"{self.file}: {', '.join(where)}: {self.message}" if where else f"{self.file}: {self.message}"


class FileRejected(Exception):
    """Several validation errors in one file; the file is rejected as a whole."""

    def __init__(self, errors: list[FileValidationError], more: int = 0):
        self.errors = errors
        self.more = more
        super().__init__(str(self))

    @property
    def messages(self) -> list[str]:
        out = [str(e) for e in self.errors]
        if self.more:
            out.append(f"… and {self.more} more errors")
        return out

    def __str__(self) -> str:
        return "\n".join(self.messages)


class ErrorCollector:
    """Collects row-level errors so the data team sees every problem in a file at once (up to a cap)."""

    def __init__(self, file: str, limit: int = 25):
        self.file = file
        self.limit = limit
        self.errors: list[FileValidationError] = []
        self.more = 0

    def add(self, row: int | None, column: str | None, message: str) -> None:
        if len(self.errors) < self.limit:
            self.errors.append(FileValidationError(self.file, row, column, message))
        else:
            self.more += 1

    def __bool__(self) -> bool:
        return bool(self.errors)

    def raise_if_any(self) -> None:
        if self.errors:
            raise FileRejected(self.errors, self.more)


@dataclass
class Sheet:
    title: str
    rows: list[list[Any]]  # rows[i] is spreadsheet row i + 1


@dataclass
class Spreadsheet:
    """A read file: its sheets (CSV: one sheet titled "") and document properties."""

    name: str
    sheets: list[Sheet]
    properties: dict[str, str] = field(default_factory=dict)
    is_csv: bool = False

    def sheet(self, title: str) -> Sheet | None:
        for s in self.sheets:
            if s.title.strip().casefold() == title.strip().casefold():
                return s
        return None


# --- safety checks --------------------------------------------------------------------------------


def check_xlsx_bytes(
    data: bytes,
    name: str,
    max_file_bytes: int = MAX_FILE_BYTES,
    max_uncompressed_bytes: int = MAX_UNCOMPRESSED_BYTES,
    max_ratio: float = MAX_COMPRESSION_RATIO,
) -> zipfile.ZipFile:
    """Refuse anything but a plain, reasonably sized xlsx; return the opened zip."""
    suffix = Path(name).suffix.lower()
    if suffix in {".xlsm", ".xltm", ".xlam"}:
        raise FileValidationError(name, None, None, "macro-enabled workbooks are refused; save it as .xlsx")
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise FileValidationError(name, None, None, "legacy binary Excel (.xls) is refused; save it as .xlsx")
    if len(data) > max_file_bytes:
        raise FileValidationError(name, None, None, f"file is {len(data):,} bytes, over the limit of {max_file_bytes:,}")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, ValueError) as err:
        raise FileValidationError(name, None, None, f"{DAMAGED} (not a valid xlsx file: {err})") from None
    if any(m.filename.lower().endswith("vbaproject.bin") for m in members):
        raise FileValidationError(name, None, None, "workbook contains macros (vbaProject.bin); refused")
    total = sum(m.file_size for m in members)
    compressed = sum(m.compress_size for m in members) or 1
    if total > max_uncompressed_bytes:
        raise FileValidationError(
            name, None, None, f"unpacks to {total:,} bytes, over the limit of {max_uncompressed_bytes:,}: refused"
        )
    if total >= RATIO_CHECK_FROM_BYTES and total / compressed > max_ratio:
        raise FileValidationError(
            name, None, None, f"compression ratio {total / compressed:.0f}:1 looks like a decompression bomb: refused"
        )
    for m in members:  # one member can hide behind a large, innocent rest
        if m.file_size >= RATIO_CHECK_FROM_BYTES and m.file_size / max(m.compress_size, 1) > max_ratio:
            raise FileValidationError(
                name, None, None, f"member {m.filename} has compression ratio "
                f"{m.file_size / max(m.compress_size, 1):.0f}:1, looks like a decompression bomb: refused"
            )
    return archive


# --- reading --------------------------------------------------------------------------------------


# The files read once already in the current `read_once` block, by name and checksum; None outside one.
_read_in_block: contextvars.ContextVar[dict[tuple[str, bytes], Spreadsheet] | None] = \
    contextvars.ContextVar("read_in_block", default=None)


@contextlib.contextmanager
def read_once():
    """Within the block, a second `read_spreadsheet` of the same file (name and bytes) returns the first read's
    cells and lets them go: the inbox reads each new file to screen it for personal data, then its importer
    reads it to validate it (reading it twice cost ≈ 0.5 s of the demo inbox, issue 19). Neither changes the
    cells. A file read only once is let go when the block ends."""
    token = _read_in_block.set({})
    try:
        yield
    finally:
        _read_in_block.reset(token)


def read_spreadsheet(data: bytes, name: str) -> Spreadsheet:
    """Read an .xlsx or .csv file safely (see the module doc); in a `read_once` block, once."""
    kept = _read_in_block.get()
    if kept is None:
        return _read_spreadsheet(data, name)
    key = (name, hashlib.sha256(data).digest())
    book = kept.pop(key, None)
    if book is None:
        book = kept[key] = _read_spreadsheet(data, name)
    return book


def _read_spreadsheet(data: bytes, name: str) -> Spreadsheet:
    suffix = Path(name).suffix.lower()
    if not data.strip(b" \t\r\n\x00"):
        raise FileValidationError(name, None, None, "the file is empty")
    if suffix == ".csv":
        return read_csv_bytes(data, name)
    if suffix in {".xlsx", ".xlsm", ".xls", ".xltm", ".xlam"}:
        return read_xlsx_bytes(data, name)
    raise FileValidationError(name, None, None, f"unsupported file type {suffix or '(none)'}; send .xlsx or .csv")


def read_xlsx_bytes(data: bytes, name: str) -> Spreadsheet:
    archive = check_xlsx_bytes(data, name)
    try:  # every XML part: a relationship may place a sheet anywhere in the package
        parts = [archive.read(m) for m in archive.namelist() if m.lower().endswith(".xml")]
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, NotImplementedError) as err:
        raise FileValidationError(name, None, None, f"{DAMAGED} ({type(err).__name__}: {err})") from None
    has_formulas = any(_FORMULA.search(xml) for xml in parts)
    if not has_formulas and _calamine_reads_alike(parts):
        book = _read_plain_xlsx(data, name, archive)
        if book is not None:
            return book
    import openpyxl

    try:
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True, keep_links=False, keep_vba=False)
    except Exception as err:  # openpyxl raises many types for broken packages
        raise FileValidationError(name, None, None, f"{DAMAGED} (cannot open as a workbook: {type(err).__name__}: "
                                  f"{err})") from None
    try:
        try:
            sheets = [Sheet(ws.title, _sheet_values(ws)) for ws in wb.worksheets]
        except (zipfile.BadZipFile, zlib.error, EOFError, KeyError) as err:  # a member cut short or missing
            raise FileValidationError(name, None, None, f"{DAMAGED} ({type(err).__name__}: {err})") from None
        properties = _property_texts(wb.properties)
    finally:
        wb.close()
    if has_formulas:
        _check_cached_values(data, name, sheets)
    return Spreadsheet(name=name, sheets=sheets, properties=properties)


def _sheet_values(ws: Any) -> list[list[Any]]:
    ws.reset_dimensions()  # trust the cells, not the <dimension> tag some tools write wrongly
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    while rows and all(is_blank(v) for v in rows[-1]):
        rows.pop()
    return rows


def _calamine_reads_alike(parts: list[bytes]) -> bool:
    """Whether calamine gives the cells openpyxl would: UTF-8 parts without error cells, negative or 16-digit
    numbers, and no sheet whose grid from A1 to its last cell is huge (a few KB can name cell XFD1048576, and
    calamine's allocation for it aborts the process)."""
    from openpyxl.utils import column_index_from_string

    for xml in parts:
        if xml.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in xml[:256]:  # UTF-16
            return False
        if _ERROR_CELL.search(xml) or _NEGATIVE_OR_LONG_NUMBER.search(xml):
            return False
        cells = len(_CELL.findall(xml))
        if cells:
            refs = _CELL_REF.findall(xml)
            if len(refs) != cells:  # a cell without a reference, or one written otherwise
                return False
            columns = max(column_index_from_string(letters.decode()) for letters in {c for c, _ in refs})
            if columns * max(int(row) for _, row in refs) > MAX_DENSE_CELLS:
                return False
    return True


def _read_plain_xlsx(data: bytes, name: str, archive: zipfile.ZipFile) -> Spreadsheet | None:
    """A workbook without formulas or error cells, by calamine (cells as openpyxl gives them); None when calamine
    cannot read it, for openpyxl to read or to name what is wrong."""
    import python_calamine

    try:
        wb = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
        try:
            sheets = [Sheet(m.name, _plain_cells(wb.get_sheet_by_name(m.name).to_python(skip_empty_area=False)))
                      for m in wb.sheets_metadata if m.typ == python_calamine.SheetTypeEnum.WorkSheet]
        finally:
            wb.close()
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException:  # calamine's own types (ZipError, XmlError …); a Rust panic is a BaseException
        return None
    return Spreadsheet(name=name, sheets=sheets, properties=_document_properties(archive, name))


def _plain_cells(rows: list[list[Any]]) -> list[list[Any]]:
    """calamine's cells as openpyxl reads the same sheet: a whole number as int (Excel writes it without a
    decimal point), an empty cell as None, a date as a datetime, no empty cells after a row's last value."""
    out = []
    for row in rows:
        cells = [None if v == "" else int(v) if type(v) is float and v.is_integer() and abs(v) < 2**53
                 else dt.datetime.combine(v, dt.time()) if type(v) is dt.date else v for v in row]
        while cells and cells[-1] is None:
            cells.pop()
        out.append(cells)
    while out and all(is_blank(v) for v in out[-1]):
        out.pop()
    return out


def _document_properties(archive: zipfile.ZipFile, name: str) -> dict[str, str]:
    """Title, creator … of docProps/core.xml, by openpyxl's parser (as `load_workbook` reads them)."""
    from openpyxl.packaging.core import DocumentProperties
    from openpyxl.xml.constants import ARC_CORE
    from openpyxl.xml.functions import fromstring

    try:
        props = DocumentProperties.from_tree(fromstring(archive.read(ARC_CORE)))
    except KeyError:  # no core properties in the package
        return {}
    except Exception as err:
        raise FileValidationError(name, None, None, f"{DAMAGED} (document properties: "
                                  f"{type(err).__name__}: {err})") from None
    return _property_texts(props)


def _property_texts(props: Any) -> dict[str, str]:
    return {key: str(getattr(props, key)) for key in _PROPERTY_KEYS if getattr(props, key, None)}


def _check_cached_values(data: bytes, name: str, sheets: list[Sheet]) -> None:
    """A second, formula-text pass: every formula must have a cached value in the data pass."""
    import openpyxl
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.formula import ArrayFormula, DataTableFormula

    wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False, keep_links=False, keep_vba=False)
    try:
        for ws, sheet in zip(wb.worksheets, sheets):
            ws.reset_dimensions()
            for r, row in enumerate(ws.iter_rows(values_only=True)):
                for c, value in enumerate(row):
                    is_formula = isinstance(value, (ArrayFormula, DataTableFormula)) or (
                        isinstance(value, str) and value.startswith("=")
                    )
                    if is_formula:
                        cached = sheet.rows[r][c] if r < len(sheet.rows) and c < len(sheet.rows[r]) else None
                        if cached is None:
                            raise FileValidationError(
                                name, r + 1, f"{sheet.title}!{get_column_letter(c + 1)}{r + 1}",
                                f"formula {str(getattr(value, 'text', value))[:60]} has no cached value (open and save the file in Excel, "
                                "or paste values); formulas are never evaluated here",
                            )
    finally:
        wb.close()


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM), else Windows-1252, else ISO-8859-1 (which decodes any byte)."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8")
    for encoding in ("utf-8", "cp1252", "iso-8859-1"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise AssertionError("iso-8859-1 decodes every byte")


def sniff_delimiter(header_line: str) -> str:
    """Norwegian exports use `;` (the comma is the decimal sign); others `,` or tab."""
    counts = {d: header_line.count(d) for d in (";", "\t", ",")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ";"


def read_csv_bytes(data: bytes, name: str, max_file_bytes: int = MAX_FILE_BYTES) -> Spreadsheet:
    if len(data) > max_file_bytes:
        raise FileValidationError(name, None, None, f"file is {len(data):,} bytes, over the limit of {max_file_bytes:,}")
    text = decode_text(data)
    first_line = text.split("\n", 1)[0]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sniff_delimiter(first_line))
    try:
        rows: list[list[Any]] = [[None if v.strip() == "" else v for v in row] for row in reader]
    except csv.Error as err:
        raise FileValidationError(name, reader.line_num, None, f"malformed CSV ({err})") from None
    while rows and all(is_blank(v) for v in rows[-1]):
        rows.pop()
    return Spreadsheet(name=name, sheets=[Sheet("", rows)], is_csv=True)


# --- cell values ----------------------------------------------------------------------------------


@dataclass
class HeaderRow:
    index: int  # 0-based index into sheet.rows
    skipped: int  # non-blank title / note rows above it

    @property
    def row(self) -> int:
        return self.index + 1

    def note(self) -> str | None:
        if not self.skipped:
            return None
        return f"header found in row {self.row} ({self.skipped} title/note row(s) above it skipped)"


def find_header(rows: list[list[Any]], known_labels: set[str], search_rows: int = HEADER_SEARCH_ROWS) -> HeaderRow:
    """The row among the first non-blank ones whose cells match the most configured labels.

    Rows above it (a title, «Kilde: Husbanken», an export date) are skipped. Without any row matching two
    labels the first non-blank row is taken, so the mapping errors name what that row holds.
    """
    candidates = [i for i, row in enumerate(rows) if any(not is_blank(v) for v in row)][:search_rows]
    if not candidates:
        raise ValueError("no rows")
    scores = [(sum(clean_label(v) in known_labels for v in rows[i]), -n) for n, i in enumerate(candidates)]
    best = max(range(len(candidates)), key=lambda n: scores[n])
    if scores[best][0] < 2:
        best = 0
    return HeaderRow(candidates[best], best)


def check_text(value: Any, name_or_code: bool = False) -> str | None:
    """Why an outside text cell cannot be stored as data, or None.

    Control characters are refused everywhere; text that starts like a formula (`=HYPERLINK(…)`, `@SUM`)
    is refused in columns holding names or codes, where no real value looks like that.
    """
    if not isinstance(value, str):
        return None
    if _CONTROL.search(value):
        char = _CONTROL.search(value).group()
        return f"contains the control character U+{ord(char):04X}; remove it (retype the cell)"
    if name_or_code and value.lstrip(" ").startswith(_FORMULA_START) and len(value.strip()) > 1:
        return f"{value[:40]!r} looks like a spreadsheet formula; names and codes are plain text"
    return None


def is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "")


@lru_cache(maxsize=2048, typed=True)  # rows repeat their names, codes and years; typed: 1, 1.0 and True print apart
def clean_label(value: Any) -> str:
    """A header label normalised for matching: whitespace collapsed, case folded."""
    return _SPACES.sub(" ", str(value)).strip().casefold() if value is not None else ""


def parse_number(value: Any) -> tuple[float | None, str | None]:
    """A numeric cell as (value, status symbol). Raises ValueError for anything not a number.

    Accepts Excel numbers and text with Norwegian formatting: decimal comma, space / no-break space
    as thousands separator ("12 345,5"), and a `.` thousands separator when a comma is the decimal.
    """
    if value is None:
        return None, None
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a number")
    if isinstance(value, (int, float)):
        return float(value), None
    if isinstance(value, (dt.date, dt.datetime, dt.time)):
        raise ValueError(f"{value!r} is a date, not a number")
    text = _SPACES.sub("", str(value))
    if text.isdecimal():  # digits only, the common cell: what the pattern below accepts first, without it
        return float(text), None
    if text == "":
        return None, None
    if SUPPRESSED_PATTERN.match(text):
        return None, text
    if text in NIL_SYMBOLS:
        return 0.0, "-"
    if _DOT_THOUSANDS.fullmatch(text):
        text = text.replace(".", "")
    if text.count(",") == 1 and "." not in text:
        text = text.replace(",", ".")
    if not _DECIMAL.fullmatch(text):
        raise ValueError(f"{str(value)!r} is not a number")
    return float(text), None
