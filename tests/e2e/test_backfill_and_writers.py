"""Issue 14, end to end: `boligsosial backfill 2019 2019` on the demo warehouse changes nothing (raw and
marts identical), a reload that loses cells is blocked before publication, and a second writer learns at
once who holds the warehouse."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
from shared_warehouse import demo_env, demo_environ

from orchestration.cli import main
from orchestration.warehouse import _identity

RAW_CELLS = "select * exclude (synthetic) from {}raw.ssb_observations"


def _differences(before: Path, after: Path) -> dict[str, tuple[int, int]]:
    """Rows only in `before` / only in `after`, per mart table and for the SSB raw cells."""
    con = duckdb.connect(str(after), read_only=True)
    con.execute(f"attach '{before}' as before (read_only)")
    tables = [t for (t,) in con.execute("select table_name from duckdb_tables() where database_name = 'before' "
                                        "and schema_name = 'marts' order by 1").fetchall()]
    queries = {f"marts.{t}": f"select * from {{}}marts.{t}" for t in tables}
    queries["raw.ssb_observations"] = RAW_CELLS
    out = {}
    for name, query in queries.items():
        old, new = query.format("before."), query.format("")
        out[name] = (con.execute(f"select count(*) from ({old} except all {new})").fetchone()[0],
                     con.execute(f"select count(*) from ({new} except all {old})").fetchone()[0])
    con.close()
    return out


@pytest.mark.parametrize("job", ["kostra_release", "full_pipeline"])  # SSB alone; SSB and the file sources
def test_backfill_of_2019_leaves_raw_and_marts_identical(demo_warehouse, tmp_path, capsys, job):
    base = demo_warehouse.copy_to(tmp_path / "w")
    with demo_env(base):
        assert main(["backfill", "2019", "2019", "--job", job]) == 0
    out = capsys.readouterr().out
    differences = _differences(demo_warehouse.path, base / "boligsosial.duckdb")
    assert len(differences) > 5
    assert differences.pop("raw.ssb_observations") == (0, 0)
    assert differences["marts.fct_indicator_value"] == (0, 0)
    assert "dbt: year window 2019–2019 (the indicator fact rebuilds these years only)" in out, out
    # dbt imported beside the loads, in the process the run started (orchestration/dbt_launcher.py)
    assert "dbt ran in the process the run started beside its loads" in out, out
    # It says what it replaced: 07459's 80+ cells for 1 January 2019 and 2020, before and after.
    assert "07459 age_80_plus 2019: 21,892 → 21,892 cells" in out, out
    # Every mart, to the last bit: group sums are exact (macros/exact_sum.sql), so the window's rows moving
    # to the end of fct_indicator_value changes nothing downstream.
    assert {name: d for name, d in differences.items() if d != (0, 0)} == {}


def test_a_reload_that_loses_cells_is_not_published(demo_warehouse, tmp_path, capsys, monkeypatch):
    """The bug's effect, re-created after the load: the completeness check blocks publication."""
    import orchestration.assets.ssb as ssb_asset

    original = ssb_asset.ingest

    def lossy(con, **kwargs):
        loaded = original(con, **kwargs)
        con.execute("delete from raw.ssb_observations where table_id = '07459' "
                    "and query_name = 'age_80_plus' and period in ('2019', '2020')")
        return loaded

    monkeypatch.setattr(ssb_asset, "ingest", lossy)
    base = demo_warehouse.copy_to(tmp_path / "w")
    published = base / "boligsosial.duckdb"
    before = _identity(published)
    with demo_env(base):
        assert main(["backfill", "2019", "2019"]) == 1
    out = capsys.readouterr().out
    assert _identity(published) == before  # not published
    lost = ("population [age_80_plus] (SSB 07459) lost 43,784 of 43,784 cells in 2019, 2020 compared with the "
            "published warehouse (0 left)")
    assert lost in out, out
    # The finding reaches the working group although nothing was published: a digest in the outbox.
    [digest] = [p for p in (base / "outbox").glob("*digest*.eml") if lost in _plain_text(p)]
    assert "NOT published: completeness_vs_published failed" in _plain_text(digest)


def _plain_text(path: Path) -> str:
    import email
    from email import policy

    return email.message_from_bytes(path.read_bytes(), policy=policy.default).get_body(("plain",)).get_content()


def _wait_for_holder(lock: Path, pid: int, seconds: float = 60) -> dict:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if lock.exists() and lock.read_text().strip():
            holder = json.loads(lock.read_text())
            if holder["pid"] == pid:
                return holder
        time.sleep(0.2)
    raise AssertionError(f"pid {pid} never took {lock}")


def test_two_concurrent_demo_runs_the_second_refuses_or_waits_naming_the_first(tmp_path):
    env = {**os.environ, **demo_environ(tmp_path)}
    cli = [sys.executable, "-m", "orchestration.cli"]
    first = subprocess.Popen([*cli, "demo"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    waiting = None
    try:
        holder = _wait_for_holder(tmp_path / ".build" / "writer.lock", first.pid)
        assert holder["command"] == "boligsosial demo"
        started = time.monotonic()
        refused = subprocess.run([*cli, "demo", "--no-wait"], env=env, capture_output=True, text=True, timeout=60)
        assert time.monotonic() - started < 30  # Python start-up; the refusal itself is immediate
        assert refused.returncode == 2
        assert f"the warehouse is being written by pid {first.pid} on {holder['host']} (boligsosial demo) " \
               f"since {holder['since']}" in refused.stderr
        waiting = subprocess.Popen([*cli, "demo"], env=env, stdout=subprocess.PIPE, text=True)
        line = ""
        while "writer lock" not in line:
            line = waiting.stdout.readline()
            assert line, "the waiting run ended without a progress line"
        assert f"waiting for the warehouse writer lock: held by pid {first.pid} " in line
    finally:
        for proc in (p for p in (waiting, first) if p is not None):
            proc.kill()
            proc.wait()
