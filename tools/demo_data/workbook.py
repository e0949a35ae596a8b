"""Workbooks with reproducible bytes, so `make demo-data` regenerates data/demo byte-identically."""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from pathlib import Path

import openpyxl


def write_workbook_deterministic(wb: openpyxl.Workbook, path: Path, timestamp: dt.datetime) -> Path:
    """Save `wb` so the same content always gives the same bytes.

    openpyxl stamps docProps/core.xml with the current time and the zip entries with the current
    local time; both are replaced by `timestamp`.
    """
    ts = timestamp.astimezone(dt.timezone.utc).replace(tzinfo=None)
    wb.properties.created = ts
    buffer = io.BytesIO()
    wb.save(buffer)
    iso = ts.strftime("%Y-%m-%dT%H:%M:%SZ")
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            content = src.read(info)
            if info.filename == "docProps/core.xml":
                content = re.sub(
                    rb"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:\2>)",
                    lambda m: m.group(1) + iso.encode() + m.group(3),
                    content,
                )
            fixed = zipfile.ZipInfo(info.filename, date_time=ts.timetuple()[:6])
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = info.external_attr
            dst.writestr(fixed, content)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(out.getvalue())
    return path
