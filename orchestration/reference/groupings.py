"""Counties and size classes as the catalogue defines them (dbt seeds), for Python that labels findings."""

from __future__ import annotations

import csv
from functools import lru_cache

import pandas as pd

from orchestration import settings

UNKNOWN_SIZE = "unknown"
UNKNOWN_SIZE_LABEL = "ukjent størrelse"  # no population figure: not a class of the seed


def _seed(name: str) -> list[dict[str, str]]:
    with open(settings.DBT_PROJECT_DIR / "seeds" / f"{name}.csv", encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@lru_cache(maxsize=1)
def county_names() -> dict[str, str]:
    """Two-digit county code → name, every structure since 2008 (seed `counties`)."""
    return {row["county_code"]: row["county_name"] for row in _seed("counties")}


def county_name(code: str) -> str:
    names = county_names()
    return f"{names[code]} (fylke)" if code in names else f"fylke {code}"


@lru_cache(maxsize=1)
def size_classes() -> list[tuple[str, int, int | None, str]]:
    """(class, min population, max population or None, adjective) from the seed `size_classes`."""
    return [(row["size_class"], int(row["min_population"]),
             int(row["max_population"]) if row["max_population"] else None, row["label_no"])
            for row in _seed("size_classes")]


def size_class(population: float | None) -> str:
    """As dbt assigns it: min ≤ population < max + 1 (split shares may be fractional)."""
    if population is None or pd.isna(population):
        return UNKNOWN_SIZE
    for name, low, high, _ in size_classes():
        if population >= low and (high is None or population < high + 1):
            return name
    return UNKNOWN_SIZE


def size_label(size: str) -> str:
    return next((label for name, _, _, label in size_classes() if name == size), UNKNOWN_SIZE_LABEL)
