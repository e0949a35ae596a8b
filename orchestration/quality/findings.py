"""Findings: each unexpected row of a suite becomes one, with a stable id, observed, expected and a message."""

from __future__ import annotations

import math
from typing import Any

from orchestration.formatting import format_number
from orchestration.quality.suites import Suite


def as_float(value: Any) -> float | None:
    """A number, or None for missing, NaN and anything that is not one."""
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    text = str(value).strip()
    return text or None


def _year(value: Any) -> int | None:
    number = as_float(value)
    return int(number) if number is not None else None


def finding_id(kind: str, municipality: str | None, year: int | None, measure: str | None) -> str:
    """Stable and readable: `kind:municipality:year:measure`, `-` for a part that does not apply."""
    return ":".join([kind, municipality or "-", str(year) if year is not None else "-", measure or "-"])


class _Row(dict):
    def __missing__(self, key: str) -> str:
        return "–"


def _format_message(template: str, row: dict) -> str:
    values = _Row({k: (str(_year(v)) if "year" in k and _year(v) is not None else _fmt(v)) for k, v in row.items()})
    try:
        return template.format_map(values)
    except (ValueError, IndexError):
        return template


def _fmt(value: Any) -> Any:
    """Numbers in messages as in the digest: Norwegian style (`1 109`, `-55,6`)."""
    number = as_float(value) if not isinstance(value, (str, bool)) else None
    if number is not None:
        return format_number(round(number) if abs(number) >= 100 else number)
    return "–" if value is None else value


def row_finding(row: dict, spec: dict, kind: str, severity: str, default_column: str | None) -> dict:
    f = spec or {}
    municipality = _text(row.get(f.get("municipality", "municipality_code")))
    year = _year(row.get(f.get("year", "year"))) if f.get("year", "year") else None
    measure = f.get("measure") or _text(row.get(f.get("measure_column", "measure"))) or default_column
    observed_col = f.get("observed", default_column)
    observed = as_float(row.get(observed_col)) if observed_col else None
    expected = as_float(row.get(f["expected"])) if f.get("expected") else None
    if f.get("deviation"):
        deviation = as_float(row.get(f["deviation"]))
    else:
        deviation = observed - expected if observed is not None and expected is not None else None
    if f.get("relative"):
        relative = as_float(row.get(f["relative"]))
    else:
        relative = deviation / expected if deviation is not None and expected not in (None, 0) else None
    message = _format_message(f.get("message", ""), row) if f.get("message") else ""
    return {
        "finding_id": finding_id(kind, municipality, year, measure),
        "kind": kind,
        "severity": (f.get("severity") or severity).upper(),
        "municipality_code": municipality,
        "year": year,
        "measure": measure,
        "observed": observed,
        "expected": expected,
        "deviation": deviation,
        "relative_deviation": relative,
        "message": message,
    }


def suite_kind(suite: Suite, spec: dict) -> str:
    return spec.get("id") or (spec.get("finding") or {}).get("kind") or \
        f"{suite.name}.{spec['type'].removeprefix('expect_')}"
