"""Completeness against the previous published warehouse: a year must not lose most of a measure's cells.

A reload that deletes more than it loads (issue 14: `backfill 2019 2019` dropped 07459's 80+ ages for
2019 and 2020, 21 892 cells each) passed every suite, because what is left is valid. This compares the
build's cells per measure and statistics year with the warehouse BI reads now; a year that lost more than
`completeness_vs_published.max_loss_share` of a measure's cells fails the (ERROR, blocking) check, so
nothing is published. Measures are the configured SSB contents (raw.ssb_contents_map: population and every
KOSTRA measure), split by query where a table has several (07459: total, age_80_plus).

A measure is judged across tables, not per table: the catalogue moves a measure between SSB table
generations (06493 → 12008, 12204 → 12210/13138/13995), so a warehouse upgraded to a new catalogue has
cells leave one table's count that a successor table now holds. A cell counts for a measure only in the
years the catalogue gives its table (`first_year`–`last_year`), as staging reads it, so an ended
generation's overlap is not counted twice. A measure the build's catalogue no longer has is not judged
(that is a catalogue decision, not a lost load); it is listed in the check's metadata.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from orchestration.warehouse import relation_exists

CELLS_SQL = """
    select m.measure, o.table_id, split_part(o.query_name, '__part', 1) as query,
           try_cast(left(o.period, 4) as integer) as year, count(*) as cells
    from raw.ssb_observations o
    join raw.ssb_contents_map m on m.table_id = o.table_id and m.contents_code = o.contents_code
    {span}
    group by all
"""
# the catalogue's span of a table for a measure, as stg_ssb__observations applies it
SPAN_SQL = ("where try_cast(left(o.period, 4) as integer) "
            "between coalesce(m.first_year, 0) and coalesce(m.last_year, 9999)")


@dataclass
class Cells:
    """(measure, year) → {table: cells} of one warehouse, and the measures its catalogue configures."""

    by_measure_year: dict[tuple[str, int], dict[str, int]] = field(default_factory=dict)
    configured: set[str] = field(default_factory=set)

    def total(self, measure: str, year: int) -> int:
        return sum(self.by_measure_year.get((measure, year), {}).values())


@dataclass(frozen=True)
class Loss:
    measure: str
    tables: tuple[str, ...]  # the tables that held the measure's cells in the published warehouse
    years: tuple[int, ...]
    before: int
    after: int

    @property
    def message(self) -> str:
        years = ", ".join(str(y) for y in self.years)
        return (f"{self.measure} (SSB {', '.join(self.tables)}) lost {self.before - self.after:,} of "
                f"{self.before:,} cells in {years} compared with the published warehouse ({self.after:,} left)")


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> set[str]:
    schema, _, name = table.partition(".")
    return {c for (c,) in con.execute("select column_name from information_schema.columns "
                                      "where table_schema = ? and table_name = ?", [schema, name]).fetchall()}


def cells(con: duckdb.DuckDBPyConnection) -> Cells:
    """Cells per measure and statistics year over every release kept, by table."""
    out = Cells()
    if not relation_exists(con, "raw.ssb_contents_map"):
        return out
    from orchestration.ingest.ssb.releases import load_table_config

    # A table configured with several queries (07459: total, age_80_plus) is judged per query: losing one
    # of them is what went unnoticed.
    queries = {t["table_id"]: [q["name"] for q in t.get("queries", [])] for t in load_table_config()}

    def label(measure: str, table_id: str, query: str) -> str:
        return f"{measure} [{query}]" if len(queries.get(table_id, [])) > 1 else measure

    for measure, table_id in con.execute("select distinct measure, table_id from raw.ssb_contents_map").fetchall():
        names = queries.get(table_id) or [""]
        out.configured |= {label(measure, table_id, q) for q in names}
    if not relation_exists(con, "raw.ssb_observations"):
        return out
    # A warehouse from before the catalogue had spans (issue 12) counts every year of a mapped code.
    span = SPAN_SQL if {"first_year", "last_year"} <= _columns(con, "raw.ssb_contents_map") else ""
    for measure, table_id, query, year, n in con.execute(CELLS_SQL.format(span=span)).fetchall():
        if year is not None:
            tables = out.by_measure_year.setdefault((label(measure, table_id, query), year), {})
            tables[table_id] = tables.get(table_id, 0) + n
    return out


def published_cells(path: Path) -> Cells | None:
    """The cells of the published warehouse; None when there is none yet (the first run)."""
    if not path.exists():
        return None
    con = duckdb.connect(str(path), read_only=True)
    try:
        return cells(con)
    finally:
        con.close()


def unjudged(before: Cells, after: Cells) -> list[str]:
    """Measures of the published warehouse that the build's catalogue no longer configures."""
    return sorted({m for m, _ in before.by_measure_year} - after.configured)


def losses(before: Cells, after: Cells, max_loss_share: float, min_cells: int = 1) -> list[Loss]:
    """Measures with years that kept less than (1 − max_loss_share) of their cells, whatever table holds
    them now; years grouped per measure."""
    lost: dict[str, list[tuple[int, int, int, set[str]]]] = {}
    for (measure, year), tables in sorted(before.by_measure_year.items()):
        if measure not in after.configured:
            continue
        n_before, n_after = sum(tables.values()), after.total(measure, year)
        if n_before >= min_cells and n_after < n_before * (1 - max_loss_share):
            lost.setdefault(measure, []).append((year, n_before, n_after, set(tables)))
    return [Loss(measure, tuple(sorted(set().union(*(t for *_, t in rows)))), tuple(y for y, *_ in rows),
                 sum(b for _, b, _, _ in rows), sum(a for _, _, a, _ in rows)) for measure, rows in lost.items()]


KIND = "cells_lost"
CHECK = "completeness_vs_published"
NATIONAL = "0000"


def findings(lost: list[Loss], severity: str = "ERROR") -> list[dict]:
    """One quality finding per measure that lost cells (national; observed = cells left, expected = cells
    in the published warehouse), in the shape quality.run_observations stores."""
    from orchestration.quality.findings import finding_id

    return [{"finding_id": finding_id(KIND, NATIONAL, None, x.measure), "kind": KIND, "severity": severity,
             "municipality_code": NATIONAL, "year": None, "measure": x.measure, "observed": float(x.after),
             "expected": float(x.before), "deviation": float(x.after - x.before),
             "relative_deviation": (x.after - x.before) / x.before if x.before else None,
             "message": x.message, "check_name": CHECK, "table_name": "raw.ssb_observations"} for x in lost]


def alert_unpublished(found: list[dict], run_id: str, published: Path, synthetic: bool):
    """The digest for a run this check stopped: its build copy (and so its quality.findings) is discarded
    and nothing is published, so the findings go out at once, by mail or to the outbox (alerts.deliver)."""
    import datetime as dt

    from orchestration import alerts
    from orchestration.quality.digest import _finding

    digest = alerts.Digest(run_id=run_id, generated_at=dt.datetime.now().astimezone(),
                           warehouse=f"{published} (NOT published: {CHECK} failed; the warehouse BI reads is "
                                     "unchanged)", new=[_finding(f) for f in found], synthetic=synthetic)
    return alerts.send_digest(digest)
