"""Completeness against the previous published warehouse: a year must not lose most of a measure's cells.

A reload that deletes more than it loads (issue 14: `backfill 2019 2019` dropped 07459's 80+ ages for
2019 and 2020, 21 892 cells each) passed every suite, because what is left is valid. This compares the
build's cells per measure and statistics year with the warehouse BI reads now; a year that lost more than
`completeness.max_loss_share` of a measure's cells fails the (ERROR, blocking) check, so nothing is
published. Measures are the configured SSB contents (raw.ssb_contents_map: population and every KOSTRA
measure), split by query where a table has several (07459: total, age_80_plus).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from orchestration.warehouse import relation_exists

CELLS_SQL = """
    select m.measure, o.table_id, split_part(o.query_name, '__part', 1) as query,
           try_cast(left(o.period, 4) as integer) as year, count(*) as cells
    from raw.ssb_observations o
    join raw.ssb_contents_map m on m.table_id = o.table_id and m.contents_code = o.contents_code
    group by all
"""


@dataclass(frozen=True)
class Loss:
    measure: str
    table_id: str
    years: tuple[int, ...]
    before: int
    after: int

    @property
    def message(self) -> str:
        years = ", ".join(str(y) for y in self.years)
        return (f"{self.measure} (SSB {self.table_id}) lost {self.before - self.after:,} of {self.before:,} cells "
                f"in {years} compared with the published warehouse ({self.after:,} left)")


def cells(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str, int], int]:
    """(measure, table, year) → cells, over every release kept."""
    if not (relation_exists(con, "raw.ssb_observations") and relation_exists(con, "raw.ssb_contents_map")):
        return {}
    from orchestration.ingest.ssb.releases import load_table_config

    # A table configured with several queries (07459: total, age_80_plus) is judged per query: losing one
    # of them is what went unnoticed.
    several = {t["table_id"] for t in load_table_config() if len(t.get("queries", [])) > 1}
    out: dict[tuple[str, str, int], int] = {}
    for measure, table_id, query, year, n in con.execute(CELLS_SQL).fetchall():
        if year is not None:
            key = (f"{measure} [{query}]" if table_id in several else measure, table_id, year)
            out[key] = out.get(key, 0) + n
    return out


def published_cells(path: Path) -> dict[tuple[str, str, int], int] | None:
    """The cells of the published warehouse; None when there is none yet (the first run)."""
    if not path.exists():
        return None
    con = duckdb.connect(str(path), read_only=True)
    try:
        return cells(con)
    finally:
        con.close()


def losses(before: dict, after: dict, max_loss_share: float, min_cells: int = 1) -> list[Loss]:
    """Measures with years that kept less than (1 − max_loss_share) of their cells; years grouped per measure."""
    lost: dict[tuple[str, str], list[tuple[int, int, int]]] = {}
    for (measure, table_id, year), n_before in sorted(before.items()):
        n_after = after.get((measure, table_id, year), 0)
        if n_before >= min_cells and n_after < n_before * (1 - max_loss_share):
            lost.setdefault((measure, table_id), []).append((year, n_before, n_after))
    return [Loss(measure, table_id, tuple(y for y, _, _ in rows), sum(b for _, b, _ in rows),
                 sum(a for _, _, a in rows)) for (measure, table_id), rows in lost.items()]
