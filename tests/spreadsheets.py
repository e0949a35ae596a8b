"""Building the spreadsheets the file-importer tests drop into an inbox."""

from __future__ import annotations

import io
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
