"""Building the spreadsheets the file-importer tests drop into an inbox."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import openpyxl


def xlsx_bytes(header: list, rows: list[list], title: str) -> bytes:
    """A one-sheet workbook: a header row, then the rows, as Husbanken's or SSB's exports look."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = title
    ws.append(header)
    for row in rows:
        ws.append(row)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def drop_file(inbox: Path, source: str, name: str, data: bytes) -> Path:
    """Put a file into the inbox sub-folder of a source, as the data team would."""
    path = inbox / source / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


# A Husbanken startlån export, and ways to spoil one (the spreadsheet-safety tests).
STARTLAN_HEADER = ["Kommunenummer", "Kommune", "År", "Antall husstander", "Herav barnefamilier"]


def startlan_bytes(rows: list[list], header: list = STARTLAN_HEADER, title: str = "Startlån") -> bytes:
    return xlsx_bytes(header, rows, title)


def rezip(data: bytes, replace: dict[str, bytes] | None = None, add: dict[str, bytes] | None = None) -> bytes:
    """Rewrite an xlsx package with some members replaced or added."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, (replace or {}).get(info.filename, src.read(info)))
        for name, content in (add or {}).items():
            dst.writestr(name, content)
    return out.getvalue()


def zip_bomb(member_bytes: int) -> bytes:
    """A valid-looking xlsx whose one extra member inflates enormously (zeros compress ~1000:1)."""
    good = startlan_bytes([["0301", "Oslo", 2019, 10, 5]])
    out = io.BytesIO(good)
    with zipfile.ZipFile(out, "a", zipfile.ZIP_DEFLATED) as z:
        with z.open("xl/media/padding.bin", "w", force_zip64=True) as member:
            chunk = b"\x00" * (1024 * 1024)
            for _ in range(member_bytes // len(chunk)):
                member.write(chunk)
    return out.getvalue()
