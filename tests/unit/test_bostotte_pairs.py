"""The bostøtte check's frame (quality/frames.py `bostotte_pairs`): a merged municipality's figure is the sum of
its parts, and unknown when a part is unknown: never the known part alone, which would read as a fall."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from orchestration.quality import frames
from orchestration.quality.config import load_quality_config

CONFIG = load_quality_config()
MERGED = {"1101": "1100", "1102": "1100"}  # two parts of one municipality on the reference structure


def _as_reference(frame: pd.DataFrame, _con) -> pd.DataFrame:
    return frame.assign(reference_code=frame.municipality_code.map(lambda c: MERGED.get(c, c)),
                        weight_kind=frame.municipality_code.map(lambda c: "merge" if c in MERGED else "identity"))


@pytest.fixture
def con():
    cfg = CONFIG["bostotte_confusion"]
    con = duckdb.connect()
    con.execute("create schema intermediate")
    state = [("1101", 2019, 30.0), ("1102", 2019, 10.0), ("1101", 2020, 30.0), ("1102", 2020, None),
             ("0301", 2020, 500.0)]
    municipal = [("1101", 2019, 20.0), ("1102", 2019, 5.0), ("1101", 2020, 20.0), ("1102", 2020, 5.0),
                 ("0301", 2020, 120.0)]
    con.execute("create table intermediate.int_husbanken_instruments_by_year (instrument varchar, measure varchar, "
                "municipality_code varchar, year integer, value double)")
    con.executemany("insert into intermediate.int_husbanken_instruments_by_year values (?, ?, ?, ?, ?)",
                    [(cfg["husbanken_instrument"], cfg["husbanken_measure"], *row) for row in state])
    con.execute("create table intermediate.int_kostra_values_latest_release (measure varchar, "
                "municipality_code varchar, year integer, value double)")
    con.executemany("insert into intermediate.int_kostra_values_latest_release values (?, ?, ?, ?)",
                    [(cfg["municipal_measure"], *row) for row in municipal])
    yield con
    con.close()


def test_a_merged_municipality_is_the_sum_of_its_parts_and_unknown_when_a_part_is(con, monkeypatch):
    monkeypatch.setattr(frames, "to_reference", _as_reference)
    pairs = frames.bostotte_pairs(con, CONFIG)
    got = {(r.municipality_code, r.year): (r.municipal, r.state, r.diff_pct) for r in pairs.itertuples()}
    # 2020's statlig figure of 1102 is unknown: 1100 has no pair that year (30 alone would be a fall of 10)
    assert got == {("1100", 2019): (25.0, 40.0, 37.5), ("0301", 2020): (120.0, 500.0, 76.0)}
