"""Map municipality codes as reported in any year onto one reference structure (default: 2024).

Pure functions over KLASS's change list (`classifications/131/changes`) and code list, and the two that
store their result in `reference.municipality_crosswalk` (derived, so not in `raw`): the one table dbt and
the quality checks map codes with.

* A code is followed forward through every change after 1 January of its year up to the reference
  date, so chains compose: 1613 Snillfjord (2017) → 5012 (2018 county merger) → 5055/5056/5059 (2020).
* `weight_kind` per (year, reported code): `split` when it ends in several reference codes,
  `merge` when it ends wholly in a reference code that other codes of the same year also end in,
  `identity` otherwise (a renumbering such as 3005 Drammen → 3301 is still one-to-one).
* Counts of a merge simply add up. A split needs an allocation key: `allocation_weights` derives
  one from population. Ratios must never be averaged: harmonise numerator and denominator separately
  (`harmonise_values`) and divide afterwards.
* KLASS records a 2024 split of 1507 Ålesund without saying where the pre-2020 parts went. Where
  that is public fact it is given in `DEFAULT_SPLIT_RESOLUTIONS`: the 2024 split restored the old
  Haram (1534) with its pre-2020 borders, so 2019 data need no population key at all.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from orchestration.warehouse import relation_exists

TABLE = "reference.municipality_crosswalk"
CROSSWALK_COLUMNS = ["year", "reported_code", "reference_code", "weight_kind", "split_flag"]
WEIGHT_COLUMNS = ["weight", "weight_basis", "weight_year"]

# split date → {a code the unit once had: the single successor it went to}. Source: the Storting's
# 2022 decision to re-establish «heile tidlegare Haram kommune» from 1 January 2024 (regjeringen.no);
# Ålesund, Skodje, Ørskog and Sandøy stayed in Ålesund (1508).
DEFAULT_SPLIT_RESOLUTIONS: dict[str, dict[str, str]] = {
    "2024-01-01": {"1534": "1580", "1504": "1508", "1523": "1508", "1529": "1508", "1546": "1508"},
}


@dataclass(frozen=True)
class Change:
    old_code: str | None
    new_code: str | None
    changed: str  # ISO date the change took effect (KLASS `changeOccurred`)
    old_name: str = ""
    new_name: str = ""


def load_changes(source: str | Path | Mapping[str, Any] | Iterable[Mapping[str, Any]]) -> list[Change]:
    """Changes from a KLASS `changes` JSON file, its parsed document, or its `codeChanges` rows."""
    if isinstance(source, (str, Path)):
        source = json.loads(Path(source).read_text(encoding="utf-8"))
    rows = source.get("codeChanges", []) if isinstance(source, Mapping) else source
    changes = [
        Change(
            old_code=r.get("oldCode") or None,
            new_code=r.get("newCode") or None,
            changed=str(r["changeOccurred"])[:10],
            old_name=r.get("oldName") or "",
            new_name=r.get("newName") or "",
        )
        for r in rows
    ]
    return sorted(changes, key=lambda c: (c.changed, c.old_code or "", c.new_code or ""))


def codes_by_year(
    codes: str | Path | Mapping[str, Any] | Iterable[Mapping[str, Any]], years: Iterable[int] | None = None
) -> dict[int, set[str]]:
    """year → codes valid at some time that year, from a KLASS `codes?from=&to=` answer."""
    if isinstance(codes, (str, Path)):
        codes = json.loads(Path(codes).read_text(encoding="utf-8"))
    items = list(codes.get("codes", []) if isinstance(codes, Mapping) else codes)
    spans = [(_start(i), _end(i), i["code"]) for i in items]
    if years is None:
        first = min(int(s[:4]) for s, _, _ in spans if s)
        # the range end is exclusive: a code valid "to 2026-01-01" was last valid in 2025
        last = max(int(e[:4]) - (e[5:] == "01-01") for _, e, _ in spans if e)
        years = range(first, last + 1)
    out: dict[int, set[str]] = {}
    for year in years:
        lo, hi = f"{year}-01-01", f"{year + 1}-01-01"
        out[year] = {code for s, e, code in spans if (s or "") < hi and (e is None or e > lo)}
    return out


def _start(item: Mapping[str, Any]) -> str | None:
    return item.get("validFromInRequestedRange") or item.get("validFrom")


def _end(item: Mapping[str, Any]) -> str | None:
    return item.get("validToInRequestedRange") or item.get("validTo")


def build_crosswalk(
    changes: Iterable[Change] | str | Path | Mapping[str, Any],
    codes: Mapping[int, set[str]] | str | Path | Mapping[str, Any],
    reference_date: str = "2024-01-01",
    split_resolutions: Mapping[str, Mapping[str, str]] | None = None,
) -> pd.DataFrame:
    """One row per (year, reported code, reference code) for every year and code in `codes`."""
    if isinstance(changes, (str, Path, Mapping)):
        changes = load_changes(changes)
    else:
        changes = list(changes)
        if not all(isinstance(c, Change) for c in changes):
            changes = load_changes(changes)  # KLASS `codeChanges` rows
    if not (isinstance(codes, Mapping) and all(isinstance(k, int) for k in codes)):
        codes = codes_by_year(codes)  # type: ignore[arg-type]
    resolutions = DEFAULT_SPLIT_RESOLUTIONS if split_resolutions is None else split_resolutions

    successors: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for ch in changes:
        if ch.old_code and ch.new_code:
            successors[ch.changed][ch.old_code].add(ch.new_code)
        elif ch.old_code:  # ceased with no successor: nothing to map onto
            successors[ch.changed][ch.old_code]
    days = sorted(successors)

    rows: list[tuple[int, str, str]] = []
    for year in sorted(codes):
        start = f"{year}-01-01"
        if start > reference_date and any(reference_date < d <= start for d in days):
            raise ValueError(f"{year} lies after the reference {reference_date} with changes between: "
                             "mapping backwards is not supported")
        steps = [d for d in days if start < d <= reference_date]
        for code in sorted(codes[year]):
            for target in _follow(code, steps, successors, resolutions):
                rows.append((year, code, target))

    frame = pd.DataFrame(rows, columns=["year", "reported_code", "reference_code"])
    n_targets = frame.groupby(["year", "reported_code"])["reference_code"].transform("size")
    n_sources = frame.groupby(["year", "reference_code"])["reported_code"].transform("size")
    frame["split_flag"] = n_targets > 1
    frame["weight_kind"] = "identity"
    frame.loc[n_sources > 1, "weight_kind"] = "merge"
    frame.loc[frame["split_flag"], "weight_kind"] = "split"
    frame["year"] = frame["year"].astype("int64")
    _check_reference(frame, codes, reference_date)
    return frame[CROSSWALK_COLUMNS].sort_values(["year", "reported_code", "reference_code"], ignore_index=True)


def _follow(
    code: str,
    steps: list[str],
    successors: Mapping[str, Mapping[str, set[str]]],
    resolutions: Mapping[str, Mapping[str, str]],
) -> list[str]:
    """The codes one unit ends up as, carrying each branch's lineage to resolve known splits."""
    current: dict[str, frozenset[str]] = {code: frozenset({code})}
    for day in steps:
        nxt: dict[str, frozenset[str]] = {}
        for c, lineage in current.items():
            targets = successors[day].get(c)
            if targets is None:
                targets = {c}
            elif len(targets) > 1:
                known = resolutions.get(day, {})
                hits = {known[x] for x in lineage if x in known and known[x] in targets}
                if len(hits) == 1:
                    targets = hits
            for t in targets:
                nxt[t] = nxt.get(t, frozenset()) | lineage | {t}
        current = nxt
    return sorted(current)


def _check_reference(frame: pd.DataFrame, codes: Mapping[int, set[str]], reference_date: str) -> None:
    ref_year = int(reference_date[:4])
    if ref_year in codes and reference_date.endswith("-01-01"):
        stray = set(frame["reference_code"]) - codes[ref_year]
        if stray:
            raise ValueError(f"changes lead to codes not valid on {reference_date}: {sorted(stray)}")


def allocation_weights(crosswalk: pd.DataFrame, population: pd.DataFrame, method: str = "residual") -> pd.DataFrame:
    """Add `weight`, `weight_basis` and `weight_year` to a crosswalk.

    Whole mappings (identity, merge) get weight 1. A split code's weights are taken in Y0, the earliest
    year in which every one of its reference codes has a population:
    * `residual` (default): the part of each reference code's Y0 population that did not come from
      the codes merged wholly into it, i.e. pop(ref, Y0) − Σ pop(whole contributors, Y0−1). This
      estimates how the split code's own inhabitants were divided (Tysfjord's ~2 000 people went about
      half to Narvik, half to Hamarøy, which plain shares of Narvik vs Hamarøy would miss badly).
      Used only when the split took effect in Y0 and every residual is positive; otherwise `share`.
    * `share`: each reference code's share of the reference codes' total population in Y0.
    Splits with no usable population get weight NaN and basis `missing`.
    `population` has columns year, code, population (codes as reported that year).
    """
    if method not in {"residual", "share"}:
        raise ValueError(f"method must be 'residual' or 'share', not {method!r}")
    pop = {
        (int(y), str(c)): float(p)
        for y, c, p in population[["year", "code", "population"]].itertuples(index=False)
        if p is not None and not (isinstance(p, float) and math.isnan(p))
    }
    out = crosswalk.copy()
    out["weight"] = 1.0
    out["weight_basis"] = "whole"
    out["weight_year"] = pd.array([pd.NA] * len(out), dtype="Int64")

    cache: dict[frozenset[str], tuple[dict[str, float], str, int | None]] = {}
    splits = out[out["split_flag"]]
    for (year, code), group in splits.groupby(["year", "reported_code"], sort=True):
        refs = frozenset(group["reference_code"])
        if refs not in cache:
            cache[refs] = _split_weights(refs, crosswalk, pop, method)
        weights, basis, y0 = cache[refs]
        for idx, ref in zip(group.index, group["reference_code"]):
            out.at[idx, "weight"] = weights.get(ref, math.nan)
            out.at[idx, "weight_basis"] = basis
            out.at[idx, "weight_year"] = y0 if y0 is not None else pd.NA
    return out


def _split_weights(
    refs: frozenset[str], crosswalk: pd.DataFrame, pop: Mapping[tuple[int, str], float], method: str
) -> tuple[dict[str, float], str, int | None]:
    years = sorted({y for y, _ in pop})
    y0 = next((y for y in years if all((y, r) in pop for r in refs)), None)
    if y0 is None:
        return {}, "missing", None
    if method == "residual":
        residual = _residuals(refs, y0, crosswalk, pop)
        if residual is not None:
            total = sum(residual.values())
            return {r: v / total for r, v in residual.items()}, "residual", y0
    total = sum(pop[(y0, r)] for r in refs)
    if total <= 0:
        return {}, "missing", y0
    return {r: pop[(y0, r)] / total for r in refs}, "share", y0


def _residuals(
    refs: frozenset[str], y0: int, crosswalk: pd.DataFrame, pop: Mapping[tuple[int, str], float]
) -> dict[str, float] | None:
    before = crosswalk[(crosswalk["year"] == y0 - 1) & crosswalk["reference_code"].isin(refs)]
    split_codes = set(before.loc[before["split_flag"], "reported_code"])
    # The split must take effect in y0: exactly one code of y0−1 splits onto exactly these codes.
    if len(split_codes) != 1:
        return None
    (split_code,) = split_codes
    if set(crosswalk.loc[(crosswalk["year"] == y0 - 1) & (crosswalk["reported_code"] == split_code),
                         "reference_code"]) != refs:
        return None
    residual: dict[str, float] = {}
    for ref in refs:
        whole = before.loc[(before["reference_code"] == ref) & ~before["split_flag"], "reported_code"]
        if any((y0 - 1, c) not in pop for c in whole):
            return None
        residual[ref] = pop[(y0, ref)] - sum(pop[(y0 - 1, c)] for c in whole)
    return residual if all(v > 0 for v in residual.values()) else None


def write_crosswalk(con: duckdb.DuckDBPyConnection, changes_doc: Mapping[str, Any], codes_doc: Mapping[str, Any],
                    first_date: str, reference_date: str) -> int:
    """Build the crosswalk from KLASS's documents for every year since `first_date` and store it (no weights yet)."""
    import datetime as dt

    years = range(int(first_date[:4]), dt.date.today().year + 1)
    frame = build_crosswalk(changes_doc, codes_by_year(codes_doc, years=years), reference_date=reference_date)
    _store(con, frame)
    return len(frame)


def write_split_weights(con: duckdb.DuckDBPyConnection, log) -> None:
    """Allocation keys for split municipalities, from the population SSB delivered (table 07459).

    The residual rule (allocation_weights) estimates how the split municipality's own inhabitants were
    divided, which plain population shares of the receiving municipalities get wrong (Tysfjord went about
    half to Narvik and half to Hamarøy, not 9:1). dbt uses these weights when present.
    """
    if not relation_exists(con, "raw.ssb_observations"):
        return
    population = con.execute("""
        select cast(period as integer) as year, region_code as code, max(value) as population
        from raw.ssb_observations
        where table_id = '07459' and dimensions = '{}' and value is not null
          and regexp_matches(region_code, '^[0-9]{4}$')
        group by all
    """).df()
    if population.empty:
        return
    crosswalk = con.execute(f"select {', '.join(CROSSWALK_COLUMNS)} from {TABLE}").df()
    weighted = allocation_weights(crosswalk, population)
    _store(con, weighted)
    splits = weighted[weighted["split_flag"]]
    log(f"KLASS: split weights for {splits.reported_code.nunique()} split codes "
        f"({(splits.weight_basis == 'residual').sum()} rows by the residual rule)")


def _store(con: duckdb.DuckDBPyConnection, frame: pd.DataFrame) -> None:
    schema = TABLE.split(".")[0]
    con.execute(f"create schema if not exists {schema}")
    con.execute("drop table if exists raw.klass_crosswalk")  # where it lived before the reference schema
    con.register("_crosswalk", frame)
    con.execute(f"create or replace table {TABLE} as select * from _crosswalk")
    con.unregister("_crosswalk")
