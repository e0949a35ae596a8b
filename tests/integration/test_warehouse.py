"""The private build copy and its atomic publication (orchestration/warehouse.py), on real DuckDB files."""

from __future__ import annotations

import duckdb
import pytest

from orchestration.warehouse import PublishConflict, WarehouseBuild


def _write(build: WarehouseBuild, value: int) -> None:
    with build.connect() as con:
        con.execute("create or replace table t as select ? as v", [value])


def _read(path) -> int:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute("select v from t").fetchone()[0]
    finally:
        con.close()


def test_build_starts_from_the_published_file_and_publishes_atomically(tmp_path):
    published = tmp_path / "wh.duckdb"
    first = WarehouseBuild(published, "run-1")
    _write(first, 1)
    assert not published.exists(), "nothing is published before publish()"
    first.publish()
    assert _read(published) == 1 and not first.path.exists()

    reader = duckdb.connect(str(published), read_only=True)
    second = WarehouseBuild(published, "run-2")
    with second.connect(read_only=True) as con:
        assert con.execute("select v from t").fetchone()[0] == 1, "the build is a copy of the published file"
    _write(second, 2)
    second.publish()
    assert reader.execute("select v from t").fetchone()[0] == 1, "an open reader keeps its snapshot"
    reader.close()
    assert _read(published) == 2


def test_a_second_writer_cannot_silently_overwrite_the_first(tmp_path):
    published = tmp_path / "wh.duckdb"
    seed = WarehouseBuild(published, "seed")
    _write(seed, 0)
    seed.publish()
    slow, fast = WarehouseBuild(published, "slow"), WarehouseBuild(published, "fast")
    _write(slow, 1)
    _write(fast, 2)
    fast.publish()
    with pytest.raises(PublishConflict, match="published by another run"):
        slow.publish()
    assert _read(published) == 2


def test_discard_leaves_the_published_file_alone(tmp_path):
    published = tmp_path / "wh.duckdb"
    seed = WarehouseBuild(published, "seed")
    _write(seed, 7)
    seed.publish()
    failed = WarehouseBuild(published, "failed")
    _write(failed, 8)
    failed.discard()
    assert not failed.path.exists() and not failed.base_marker.exists()
    assert _read(published) == 7


def test_row_counts_are_counted_not_estimated(tmp_path):
    """A year rebuilt by delete + insert in one transaction, as dbt's incremental fct_indicator_value does:
    DuckDB's estimated_size then still counts the deleted rows; the summary and the publication count."""
    from orchestration.warehouse import table_row_counts

    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    con.execute("create schema marts")
    con.execute('create table marts."odd ""name" as select range as i, range % 18 as year from range(163851)')
    con.execute("begin; create temp table window_rows as select * from marts.\"odd \"\"name\" where year = 11; "
                "delete from marts.\"odd \"\"name\" where year = 11; "
                "insert into marts.\"odd \"\"name\" select * from window_rows; commit")
    con.execute("checkpoint")
    estimated = con.execute("select estimated_size from duckdb_tables() where schema_name = 'marts'").fetchone()[0]
    assert estimated > 163851  # what the summary printed before
    assert table_row_counts(con) == [("marts", 'odd "name', 163851)]
    assert table_row_counts(con, "raw") == []
    con.close()
