"""Issue 19: `boligsosial demo` with nothing changed does nothing and leaves the published file as it was;
a changed input file makes the next run rebuild what depends on it (and only that), then record it."""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb
import pytest
from shared_warehouse import demo_env

from orchestration import changes


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def executed_steps(result) -> set[str]:
    return {e.step_key for e in result.all_events if e.is_step_success}


@pytest.fixture(scope="module")
def env(demo_warehouse, tmp_path_factory):
    base = demo_warehouse.copy_to(tmp_path_factory.mktemp("unchanged") / "warehouse")
    with demo_env(base) as mp:
        mp.setenv("BOLIGSOSIAL_REPORT", "off")
        yield base


def test_the_first_publication_recorded_its_inputs(env):
    recorded = changes.recorded(env / "boligsosial.duckdb")
    assert recorded is not None
    now, _ = changes.current()
    # the copy moved the exports folder (a serving target); every source and the dbt nodes are as published
    assert recorded.sources == now.recordable().sources
    assert recorded.dbt_nodes == now.dbt_nodes
    assert {k for k in now.code if recorded.code.get(k) != now.code[k]} <= {"serve"}


def test_demo_twice_the_second_does_nothing(env, capsys):
    from orchestration.cli import main
    from orchestration.runner import run_pipeline

    # The copy's exports folder is new to the record: one run publishes and exports there, nothing else.
    first = run_pipeline(quiet=True, changed_only=True)
    assert first.success
    assert "dbt_models" not in executed_steps(first)
    assert {"published_warehouse", "exports"} <= executed_steps(first)

    published = env / "boligsosial.duckdb"
    before = sha256(published)
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    assert "nothing changed since the last publication" in out
    assert "raw/ssb_observations not reloaded: source ssb" in out
    assert "Nothing changed: the published warehouse was left as it was" in out
    assert "(built from SYNTHETIC demo data — not official statistics)" in out  # said on every run, as README does
    assert sha256(published) == before, "the published warehouse is byte-identical"
    assert not list((env / ".build").glob("*.duckdb")), "no build copy was made"


def test_a_changed_input_file_runs_again_and_only_what_depends_on_it(env):
    from orchestration.runner import run_pipeline

    published = env / "boligsosial.duckdb"
    register = env / "followup" / "register.csv"
    register.write_text(register.read_text(encoding="utf-8")
                        + "yoy_drop:0301:2020:dwellings_total,contacted,,Oslo,2099-12-31,\n", encoding="utf-8")
    before = sha256(published)
    plan = changes.plan_run()
    assert [c.what for c in plan.changes] == ["source followup_register"]

    result = run_pipeline(quiet=True, changed_only=True)
    assert result.success
    steps = executed_steps(result)
    # the register feeds the findings: they and publication run; no model is rebuilt, no GX suite reruns
    assert {"quality__findings", "published_warehouse"} <= steps
    assert "dbt_models" not in steps and not any(s.startswith("raw__") for s in steps)
    assert not [e for e in result.get_asset_check_evaluations() if e.check_name.startswith("gx_")]
    assert sha256(published) != before
    con = duckdb.connect(str(published), read_only=True)
    try:
        rebuilt = con.execute(f"select rebuilt from {changes.TABLE} order by published_at desc limit 1").fetchone()[0]
        assert "source followup_register" in rebuilt
        assert con.execute("select count(*) from quality.followup_register "
                           "where finding_id = 'yoy_drop:0301:2020:dwellings_total'").fetchone()[0] == 1
    finally:
        con.close()
    # ... and recorded it: the next run has nothing to do
    again = run_pipeline(quiet=True, changed_only=True)
    assert getattr(again, "skipped", False)
