"""The crosswalk as CSV (data/reference/klass/municipality_crosswalk_2024.csv, from scripts/build_klass_extract.py)."""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from orchestration.reference.crosswalk import CROSSWALK_COLUMNS, WEIGHT_COLUMNS


def crosswalk_csv_text(frame: pd.DataFrame) -> str:
    """The crosswalk as CSV for dbt: codes stay text (leading zeros), booleans as true/false."""
    columns = CROSSWALK_COLUMNS + [c for c in WEIGHT_COLUMNS if c in frame.columns]
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    for row in frame[columns].itertuples(index=False):
        writer.writerow([_csv_cell(v) for v in row])
    return buf.getvalue()


def write_crosswalk_csv(frame: pd.DataFrame, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(crosswalk_csv_text(frame), encoding="utf-8", newline="\n")
    return path


def _csv_cell(value: Any) -> str:
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float):
        return repr(round(value, 12))
    return str(value)
