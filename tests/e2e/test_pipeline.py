"""The walking skeleton end to end: a real materialization publishes a warehouse (the session's demo
warehouse), a rerun with nothing changed loads nothing, a failed run leaves the published warehouse as
it was, and readers are never blocked (on a private copy)."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import duckdb
import pytest

from orchestration import settings
from shared_warehouse import demo_env


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def published(demo_warehouse, tmp_path_factory):
    """A private copy of the session's demo warehouse: the tests below run the pipeline on it again."""
    base = demo_warehouse.copy_to(tmp_path_factory.mktemp("pipeline") / "warehouse")
    with demo_env(base):
        yield settings.warehouse_path()


def test_materialization_publishes_a_readable_warehouse(demo_warehouse):
    published = demo_warehouse.path
    assert published.exists()
    assert not list((published.parent / ".build").glob("*.duckdb")), "the build file was moved, not copied"
    con = demo_warehouse.connect()
    try:
        rows = con.execute("select count(*) from marts.fct_indicator_value where value is not null").fetchone()[0]
        assert rows > 1000
        years = con.execute("select min(year), max(year) from marts.fct_indicator_value").fetchone()
        assert years == (2008, 2025)
        # demo data is recognisable as synthetic all the way to the marts
        assert con.execute("select bool_and(synthetic) from marts.fct_indicator_value").fetchone()[0] is True
        national = con.execute(
            "select sum(numerator) from marts.fct_indicator_value "
            "where indicator_id = 'dwellings_per_1000' and year = 2008").fetchone()[0]
        assert abs(national - 96403) / 96403 < 0.02
    finally:
        con.close()


@pytest.fixture(scope="module")
def rerun(published):
    """One more run with nothing changed, while a reader holds the published warehouse open."""
    from orchestration.runner import run_pipeline

    def counts():
        con = duckdb.connect(str(published), read_only=True)
        try:
            loads = con.execute("select count(*) from raw.load_log where status <> 'checked'").fetchone()[0]
            return [loads] + [con.execute(f"select count(*) from raw.{t}").fetchone()[0]
                              for t in ("ssb_table_versions", "ssb_observations", "husbanken_instruments")]
        finally:
            con.close()

    before = counts()
    reader = duckdb.connect(str(published), read_only=True)
    try:
        read_before = reader.execute("select count(*) from marts.fct_indicator_value").fetchone()[0]
        result = run_pipeline(quiet=True)  # a writer is not blocked by an open reader
        read_during = reader.execute("select count(*) from marts.fct_indicator_value").fetchone()[0]
    finally:
        reader.close()
    return {"result": result, "before": before, "after": counts(), "read_before": read_before,
            "read_during": read_during}


def test_rerun_with_unchanged_inputs_loads_nothing_new(rerun):
    before = rerun["before"]
    assert before[2] > 0 and before[3] > 0
    assert rerun["result"].success
    assert rerun["after"] == before


def test_reader_keeps_reading_while_a_run_publishes(rerun):
    assert rerun["result"].success  # a writer is not blocked by an open reader
    assert rerun["read_during"] == rerun["read_before"]


def test_failed_run_leaves_the_published_warehouse_intact(published, tmp_path, monkeypatch):
    from orchestration.runner import failure_message, run_pipeline

    demo = tmp_path / "demo"
    shutil.copytree(settings.DEMO_DATA_DIR, demo)
    # A newer release of table 12008 whose data file is corrupt.
    corrupt = demo / "ssb" / "12008" / "vintages" / "2026-09-01"
    corrupt.mkdir(parents=True)
    info = json.loads((demo / "ssb" / "12008" / "table.json").read_text())
    info["updated"] = "2026-09-01T06:00:00Z"
    (corrupt / "table.json").write_text(json.dumps(info))
    (corrupt / "data__municipalities.json").write_text('{"class": "dataset", "id": ["Tid"], "size": [3], "value": [1')
    monkeypatch.setenv("BOLIGSOSIAL_DEMO_DATA", str(demo))

    before = _digest(published)
    result = run_pipeline(quiet=True)
    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure)
    assert "12008" in failure_message(failure.step_failure_data.error)
    assert _digest(published) == before
    assert not list((published.parent / ".build").glob("*.duckdb")), "the failed run's copy is deleted"
    con = duckdb.connect(str(published), read_only=True)
    try:
        assert con.execute("select count(*) from marts.fct_indicator_value").fetchone()[0] > 0
    finally:
        con.close()
    # The corrupt file is kept as received, marked rejected.
    rejected = [json.loads(p.read_text()) for p in (settings.landing_dir() / "ssb").rglob("*.meta.json")]
    assert any(m["status"] == "rejected" and "12008" in m["original_name"] for m in rejected)
