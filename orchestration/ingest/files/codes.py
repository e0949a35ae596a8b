"""Municipality codes in received files, checked against KLASS for the year each row describes.

A code is accepted for year Y when KLASS 131 lists it as valid at some time in Y, or when a known change
links it to a code valid in Y (a predecessor such as 1102 Sandnes → 1108 in 2020, or the successor an
export back-dates to an older year): the crosswalk harmonises both. Anything else (a typo such as 0302
for 0301) is an error naming the nearest codes valid in Y, because an accepted typo would replace the
good file's rows as the current ones.

The codes come from `raw.klass_municipality_codes` / `raw.klass_changes` when the warehouse has them,
else from the KLASS extract in `data/reference/klass` (what demo mode loads anyway).

Oslo's city districts (KLASS 103, `data/reference/klass/103_oslo_districts.csv`) are accepted where a
source reports them (Husbanken: 0311–0325; also the 6-digit 0301xx form): kept in raw as received,
summed into 0301 only where a municipal figure is needed and Oslo's own row is missing.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import duckdb

from orchestration import settings

DISTRICTS_FILE = "103_oslo_districts.csv"
OSLO = "0301"


@lru_cache(maxsize=1)
def oslo_districts() -> dict[str, tuple[str, str]]:
    """Every accepted district code (4-digit Husbanken form and 6-digit KLASS form) → (KLASS code, name)."""
    path = settings.REFERENCE_DATA_DIR / "klass" / DISTRICTS_FILE
    out: dict[str, tuple[str, str]] = {}
    with path.open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            out[row["klass_code"]] = (row["klass_code"], row["name"])
            if row["husbanken_code"]:
                out[row["husbanken_code"]] = (row["klass_code"], row["name"])
    return out


def is_oslo_district(code: str) -> bool:
    return code in oslo_districts()


@dataclass
class MunicipalityCodes:
    """KLASS 131 validity periods and changes; `problem(code, year)` is None for an acceptable code."""

    periods: dict[str, list[tuple[dt.date, dt.date | None, str]]]  # code -> (from, to exclusive, name)
    links: dict[str, set[str]] = field(default_factory=dict)  # code -> codes a change connects it with
    allow_districts: bool = False

    def valid_in(self, year: int) -> dict[str, str]:
        start, end = dt.date(year, 1, 1), dt.date(year + 1, 1, 1)
        return {code: name for code, spans in self.periods.items() for f, t, name in spans
                if f < end and (t is None or t > start)}

    def problem(self, code: str, year: int) -> str | None:
        valid = _valid_cached(self, year)
        if code in valid:
            return None
        if code in oslo_districts():
            if self.allow_districts:
                return None
            return f"'{code}' is an Oslo city district ({oslo_districts()[code][1]}); report Oslo as 0301"
        if self._linked(code, valid):
            return None
        nearest = ", ".join(f"{c} {valid[c]}" for c in nearest_codes(code, valid))
        known = " (a KLASS code, but not of that period)" if code in self.periods else ""
        return f"'{code}' is not a municipality code valid in {year}{known}; nearest valid codes: {nearest}"

    def _linked(self, code: str, valid: dict[str, str]) -> bool:
        """Connected to a code valid that year through a chain of KLASS changes."""
        seen, todo = {code}, [code]
        while todo:
            for other in self.links.get(todo.pop(), ()):
                if other in valid:
                    return True
                if other not in seen:
                    seen.add(other)
                    todo.append(other)
        return False

    def with_districts(self) -> "MunicipalityCodes":
        return MunicipalityCodes(self.periods, self.links, allow_districts=True)


_VALID_CACHE: dict[tuple[int, int], dict[str, str]] = {}


def _valid_cached(codes: MunicipalityCodes, year: int) -> dict[str, str]:
    key = (id(codes.periods), year)
    if key not in _VALID_CACHE:
        _VALID_CACHE[key] = codes.valid_in(year)
    return _VALID_CACHE[key]


def nearest_codes(code: str, valid: dict[str, str], n: int = 3) -> list[str]:
    """The valid codes fewest digits away (then numerically closest): what a typo most likely meant."""
    def distance(other: str) -> tuple[int, int]:
        differing = sum(a != b for a, b in zip(code.rjust(4, "0"), other)) + abs(len(code) - len(other))
        number = int(code) if code.isdigit() else 0
        return differing, abs(int(other) - number)
    return sorted(valid, key=distance)[:n]


def _date(value) -> dt.date | None:
    if value is None or value == "" or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def from_rows(codes: list[tuple], changes: list[tuple]) -> MunicipalityCodes:
    """codes: (code, name, valid_from, valid_to); changes: (old_code, new_code)."""
    periods: dict[str, list] = {}
    for code, name, valid_from, valid_to in codes:
        if code == "9999":
            continue
        periods.setdefault(code, []).append((_date(valid_from) or dt.date(1900, 1, 1), _date(valid_to), name))
    links: dict[str, set[str]] = {}
    for old, new in changes:
        if old and new and old != new:
            links.setdefault(old, set()).add(new)
            links.setdefault(new, set()).add(old)
    return MunicipalityCodes(periods, links)


@lru_cache(maxsize=2)
def from_reference(folder: Path | None = None) -> MunicipalityCodes:
    folder = folder or settings.REFERENCE_DATA_DIR / "klass"
    codes = json.loads((folder / "131_codes.json").read_text(encoding="utf-8"))["codes"]
    changes = json.loads((folder / "131_changes.json").read_text(encoding="utf-8"))["codeChanges"]
    return from_rows(
        [(c["code"], c["name"], c.get("validFrom") or c.get("validFromInRequestedRange"), c.get("validTo"))
         for c in codes],
        [(c.get("oldCode"), c.get("newCode")) for c in changes])


def for_connection(con: duckdb.DuckDBPyConnection) -> MunicipalityCodes:
    """The warehouse's KLASS tables when loaded, else the shipped extract."""
    from orchestration.ingest.klass.tables import CHANGES_TABLE, CODES_TABLE
    from orchestration.warehouse import relation_exists

    if relation_exists(con, f"raw.{CODES_TABLE}") and relation_exists(con, f"raw.{CHANGES_TABLE}"):
        codes = con.execute(f"select code, name, valid_from, valid_to from raw.{CODES_TABLE}").fetchall()
        changes = con.execute(f"select old_code, new_code from raw.{CHANGES_TABLE}").fetchall()
        if codes:
            return from_rows(codes, changes)
    return from_reference()
