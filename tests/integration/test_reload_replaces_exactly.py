"""Reloads replace exactly what they reload (issue 14).

SSB: a backfill of any year range, on a warehouse that holds a full load, leaves raw.ssb_observations
with the same cells as a fresh full load of the same releases: nothing missing (07459's second query,
the 80+ ages, was lost), nothing doubled. Files: a corrected file replaces the rows of the coverage it
brings and nothing else.
"""

from __future__ import annotations

import shutil

import duckdb
import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings as hsettings, strategies as st

from orchestration.ingest.files import inbox
from orchestration.ingest.ssb import releases
from orchestration.partitions import FIRST_YEAR

LAST_YEAR = 2025
# Everything that identifies a cell and its value; `fetched_at` too (landing the same bytes again
# returns the first landing, so a reload keeps it).
CELL = "* exclude (synthetic)"


@pytest.fixture(scope="module")
def full_load(tmp_path_factory):
    base = tmp_path_factory.mktemp("ssb_full")
    mp = pytest.MonkeyPatch()
    mp.setenv("BOLIGSOSIAL_LANDING", str(base / "landing"))
    mp.setenv("BOLIGSOSIAL_SOURCE", "demo")
    mp.delenv("BOLIGSOSIAL_DEMO_DATA", raising=False)
    con = duckdb.connect(str(base / "full.duckdb"))
    releases.ingest(con, log=lambda _: None)
    con.close()
    yield base
    mp.undo()


def _differences(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    missing = con.execute(f"select count(*) from (select {CELL} from fresh.raw.ssb_observations "
                          f"except all select {CELL} from raw.ssb_observations)").fetchone()[0]
    extra = con.execute(f"select count(*) from (select {CELL} from raw.ssb_observations "
                        f"except all select {CELL} from fresh.raw.ssb_observations)").fetchone()[0]
    return {"missing": missing, "extra": extra}


def test_the_reported_case_keeps_both_queries_of_07459(full_load, tmp_path):
    """`backfill 2019 2019` deleted the 80+ cells of 1 January 2019 and 2020 (21 892 each)."""
    copy = tmp_path / "w.duckdb"
    shutil.copyfile(full_load / "full.duckdb", copy)
    con = duckdb.connect(str(copy))
    releases.ingest(con, years=[2019], reload=True, log=lambda _: None)
    counts = dict(((q, y), n) for q, y, n in con.execute(
        "select query_name, left(period, 4), count(*) from raw.ssb_observations where table_id = '07459' "
        "and left(period, 4) in ('2019', '2020') group by all").fetchall())
    assert counts == {("total", "2019"): 842, ("total", "2020"): 842,
                      ("age_80_plus", "2019"): 21892, ("age_80_plus", "2020"): 21892}
    con.close()


@hsettings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(first=st.integers(FIRST_YEAR, LAST_YEAR), length=st.integers(0, 3))
@example(first=2019, length=0)
@example(first=FIRST_YEAR, length=0)
def test_backfill_of_any_year_range_equals_a_fresh_full_load(full_load, tmp_path_factory, first, length):
    years = list(range(first, min(first + length, LAST_YEAR) + 1))
    copy = tmp_path_factory.mktemp("backfill") / "w.duckdb"
    shutil.copyfile(full_load / "full.duckdb", copy)
    con = duckdb.connect(str(copy))
    try:
        releases.ingest(con, years=years, reload=True, log=lambda _: None)
        con.execute(f"attach '{full_load / 'full.duckdb'}' as fresh (read_only)")
        assert _differences(con) == {"missing": 0, "extra": 0}, years
        # The release bookkeeping loses nothing either (a backfill also records the years it consulted a
        # release for without finding cells, so the next run does not ask again).
        versions = "select distinct table_id, updated, year from {}raw.ssb_table_versions"
        assert set(con.execute(versions.format("fresh.")).fetchall()) <= set(con.execute(versions.format("")).fetchall())
    finally:
        con.close()


# --- files: a corrected file replaces its coverage, nothing else ------------------------------------

SPEC = inbox.RawTable(
    source="husbanken", table="prop_husbanken",
    columns_ddl="municipality_code varchar not null, instrument varchar not null, period integer not null, "
                "amount double",
    coverage=("instrument", "period"),
)


def _parse(data: bytes, file: str) -> inbox.ParsedFile:
    from io import BytesIO

    frame = pd.read_csv(BytesIO(data), dtype={"municipality_code": str})
    frame["sheet"] = None
    frame["row_number"] = range(2, len(frame) + 2)
    return inbox.ParsedFile(frame, synthetic=True)


def _rows(years: range, instruments: tuple[str, ...], amount: float) -> pd.DataFrame:
    return pd.DataFrame([{"municipality_code": code, "instrument": i, "period": y, "amount": amount}
                         for y in years for i in instruments for code in ("0301", "4601", "5001")])


@hsettings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(first=st.integers(2008, 2025), length=st.integers(0, 4),
       instruments=st.sets(st.sampled_from(["startlan", "tilskudd"]), min_size=1).map(tuple))
def test_corrected_file_replaces_exactly_its_coverage(tmp_path_factory, first, length, instruments):
    base = tmp_path_factory.mktemp("files")
    folder = base / "inbox" / "husbanken"
    folder.mkdir(parents=True)
    original = _rows(range(2008, 2026), ("startlan", "tilskudd"), 1.0)
    original.to_csv(folder / "a_original.csv", index=False)
    con = duckdb.connect(str(base / "w.duckdb"))
    inbox.import_source(con, base / "inbox", SPEC, _parse, landing_root=base / "landing")
    years = range(first, min(first + length, 2025) + 1)
    corrected = _rows(years, instruments, 2.0)
    corrected.to_csv(folder / "b_corrected.csv", index=False)
    inbox.import_source(con, base / "inbox", SPEC, _parse, landing_root=base / "landing")
    current = con.execute("select municipality_code, instrument, period, amount from raw.prop_husbanken_current "
                          "order by all").df()
    replaced = original["period"].isin(list(years)) & original["instrument"].isin(instruments)
    expected = pd.concat([original[~replaced], corrected]).sort_values(
        ["municipality_code", "instrument", "period", "amount"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(current.reset_index(drop=True), expected, check_dtype=False)
    # History is kept: every received row is still in the raw table.
    assert con.execute("select count(*) from raw.prop_husbanken").fetchone()[0] == len(original) + len(corrected)
    con.close()
