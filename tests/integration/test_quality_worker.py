"""Great Expectations validates in a child process (orchestration/quality/worker.py), so the pipeline never
holds GX's memory beside dbt's process (issue 19): real suites on a real DuckDB file, a real child process."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading

import duckdb
import pytest

from orchestration.quality import worker
from orchestration.quality.config import load_quality_config
from orchestration.quality.suites import parse_suite

CONFIG = load_quality_config()
SUITE = {"name": "probe", "table": "raw.t", "severity": "ERROR", "expectations": [
    {"id": "value_with_symbol", "type": "expect_column_values_to_be_null", "kwargs": {"column": "value"},
     "where": "status_symbol in ['..']", "finding": {"observed": "value", "message": "{value} «{status_symbol}»"}}]}


def run_suite(database, suite, config, record_for_run=None):
    """One suite through `worker.run_suites`; a suite that raised, or whose child died, raises RuntimeError."""
    [(_suite, result, error)] = worker.run_suites(database, [suite], config, record_for_run)
    if error is not None:
        raise RuntimeError(error)
    return result


def _warehouse(path) -> str:
    with duckdb.connect(str(path)) as con:
        con.execute("create schema raw")
        con.execute("create table raw.t (municipality_code varchar, year integer, measure varchar, value double, "
                    "status_symbol varchar)")
        con.execute("insert into raw.t values ('0301', 2020, 'a', 5, '..'), ('0301', 2021, 'a', null, '..'), "
                    "('1103', 2020, 'a', 7, null)")
    return str(path)


@pytest.fixture
def database(tmp_path):
    yield _warehouse(tmp_path / "build.duckdb")
    worker.stop()


def test_the_caller_gets_the_findings_and_never_imports_great_expectations(tmp_path):
    # a fresh interpreter: a pytest worker may have imported GX for another test
    script = textwrap.dedent(f"""
        import os, sys, duckdb
        from orchestration.quality import worker
        from orchestration.quality.config import load_quality_config
        from orchestration.quality.suites import parse_suite
        suite = parse_suite({SUITE!r}, load_quality_config())
        database = {_warehouse(tmp_path / "w.duckdb")!r}
        [(_suite, first, _error)] = worker.run_suites(database, [suite], load_quality_config())
        child = worker._child
        [(_suite, second, _error)] = worker.run_suites(database, [suite], load_quality_config())
        same_child = worker._child is child
        duckdb.connect({str(tmp_path / "w.duckdb")!r}).close()  # the child holds no connection between requests
        worker.stop()
        print([f["finding_id"] for f in first.findings], first.success, second.rows, same_child,
              child.poll() is not None, "great_expectations" in sys.modules)
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.split("\n")[-2] == "['value_with_symbol:0301:2020:a'] False 3 True True False"


def test_what_gx_imports_for_expectations_no_suite_uses_is_imported_on_first_use(tmp_path):
    # a fresh interpreter, as the checks' process: GX's context made first, then a suite validated
    script = textwrap.dedent(f"""
        import sys, duckdb
        from orchestration.quality import gx
        from orchestration.quality.config import load_quality_config
        from orchestration.quality.suites import parse_suite
        gx.prepare_context()
        with duckdb.connect({_warehouse(tmp_path / "w.duckdb")!r}, read_only=True) as con:
            result = gx.run_suite(con, parse_suite({SUITE!r}, load_quality_config()), load_quality_config())
        waiting = [n for n in gx.IMPORTED_ON_FIRST_USE if type(sys.modules[n]).__name__ == "_ImportedOnFirstUse"]
        from scipy import stats
        import altair as alt
        entropy, chart = stats.entropy([0.5, 0.5]), alt.Chart.__name__
        print(result.rows, waiting, round(entropy, 4), chart, type(sys.modules["scipy.stats"]).__name__,
              "scipy.stats._stats_py" in sys.modules)
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.split("\n")[-2] == "3 ['scipy.stats', 'altair'] 0.6931 Chart module True"


def test_for_a_run_the_child_records_the_result_and_its_findings_and_a_retry_replaces_them(database):
    suite = parse_suite(SUITE, CONFIG)
    for _attempt in range(2):  # a retried check step validates again
        result = run_suite(database, suite, CONFIG, record_for_run="run-1")
    with duckdb.connect(database, read_only=True) as con:  # the child has closed its connection
        checks = con.execute("select check_name, passed, findings, rows_checked from quality.check_results "
                             "where run_id = 'run-1'").fetchall()
        observed = con.execute("select finding_id from quality.run_observations where run_id = 'run-1'").fetchall()
    assert checks == [("gx_probe", False, 1, 3)]
    assert [f for (f,) in observed] == [f["finding_id"] for f in result.findings] == ["value_with_symbol:0301:2020:a"]


def test_an_error_in_the_child_fails_the_caller_naming_the_suite_and_the_cause(database):
    suite = parse_suite({**SUITE, "frame": {"sql": "select * from raw.no_such_table"}}, CONFIG)
    with pytest.raises(RuntimeError) as raised:
        run_suite(database, suite, CONFIG)
    message = str(raised.value)
    assert message.startswith("Great Expectations suite probe on raw.t: CatalogException")
    assert "no_such_table" in message and "in the checks' process" in message
    assert run_suite(database, parse_suite(SUITE, CONFIG), CONFIG).rows == 3  # the child serves on


def test_a_child_that_died_is_named_and_the_next_check_gets_a_new_one(database):
    suite = parse_suite(SUITE, CONFIG)
    worker.stop()
    child = worker.start()  # it imports GX for seconds before it reads the request: killed meanwhile
    threading.Timer(0.3, child.kill).start()
    with pytest.raises(RuntimeError, match=r"process ended \(exit code -9\) while validating suite probe on raw.t"):
        run_suite(database, suite, CONFIG)
    assert run_suite(database, suite, CONFIG).rows == 3
    second = worker._child
    assert second.pid != child.pid
    second.kill()  # an idle child that died is replaced as well
    second.wait()
    assert run_suite(database, suite, CONFIG).rows == 3
    assert worker._child.pid != second.pid


def test_each_request_carries_the_callers_environment(database, monkeypatch):
    """A child outlives a test's run; the next run's settings must reach it (here DuckDB's memory cap)."""
    def shown(limit: str) -> str:
        with duckdb.connect(config={"memory_limit": limit}) as con:
            return con.execute("select current_setting('memory_limit')").fetchone()[0]

    suite = parse_suite({**SUITE, "frame": {"sql": "select *, current_setting('memory_limit') as cap from raw.t"},
                         "expectations": [{"id": "cap", "type": "expect_column_values_to_be_in_set",
                                           "kwargs": {"column": "cap", "value_set": [shown("100MB")]}}]}, CONFIG)
    monkeypatch.setenv("BOLIGSOSIAL_DUCKDB_MEMORY_LIMIT", "200MB")
    assert not run_suite(database, suite, CONFIG).success
    monkeypatch.setenv("BOLIGSOSIAL_DUCKDB_MEMORY_LIMIT", "100MB")
    assert run_suite(database, suite, CONFIG).success


def test_a_dagster_check_step_validates_in_the_child(tmp_path):
    """The asset check a suite becomes (assets/quality.py) hands the build file to the child and records
    what it returns; the run's own process never imports GX."""
    script = textwrap.dedent(f"""
        import sys, dagster as dg, duckdb
        from orchestration.assets import quality
        from orchestration.quality import worker
        from orchestration.quality.config import load_quality_config
        from orchestration.quality.suites import parse_suite
        from orchestration.resources import WarehouseResource
        from orchestration.warehouse import WarehouseBuild
        from pathlib import Path

        @dg.asset(key=["raw", "t"])
        def table(context, warehouse: WarehouseResource):
            with warehouse.build(context).connect() as con:
                con.execute("create schema if not exists raw")
                con.execute("create table raw.t as select * from (values ('0301', 2020, 'a', 5.0, '..')) "
                            "as v(municipality_code, year, measure, value, status_symbol)")

        checks = quality.build_checks([table], [parse_suite({SUITE!r}, load_quality_config())])
        result = dg.materialize([table, *checks], raise_on_error=False, resources={{
            "warehouse": WarehouseResource(published_path={str(tmp_path / "warehouse.duckdb")!r})}})
        worker.stop()
        evaluation = result.get_asset_check_evaluations()[0]
        build = WarehouseBuild(Path({str(tmp_path / "warehouse.duckdb")!r}), result.run_id).path
        with duckdb.connect(str(build), read_only=True) as con:
            recorded = con.execute("select check_name, passed from quality.check_results").fetchall()
        print(evaluation.passed, evaluation.metadata["failed"].value, recorded,
              "great_expectations" in sys.modules)
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.split("\n")[-2] == "False 1 [('gx_probe', False)] False"


def _load_ssb(monkeypatch):
    from orchestration.assets import ssb

    def ingest(con, **_kwargs):  # the load itself is tested elsewhere: a table for the suite is enough
        con.execute("create schema if not exists raw")
        con.execute(f"create or replace table raw.{ssb.RAW_TABLE} as select * from (values "
                    "('0301', 2020, 'a', 5.0, '..')) as v(municipality_code, year, measure, value, status_symbol)")
        return {}

    monkeypatch.setattr(ssb, "ingest", ingest)
    return ssb.ssb_observations, f"raw.{ssb.RAW_TABLE}", {"partition_key": "2020"}


def _load_husbanken_file(monkeypatch):
    from orchestration.assets import files

    def import_inboxes(con, _module, **_kwargs):
        con.execute("create schema if not exists raw")
        con.execute("create or replace table raw.husbanken_instruments as select * from (values "
                    "('0301', 2020, 'a', 5.0, '..')) as v(municipality_code, year, measure, value, status_symbol)")
        return []

    monkeypatch.setattr(files, "import_inboxes", import_inboxes)
    asset = next(a for a in files.file_assets if a.op.name == "import_husbanken_instruments")
    return asset, "raw.husbanken_instruments", {}


def _load_dwelling_register(monkeypatch):
    from orchestration.assets import dwelling_register

    def import_registers(con, **_kwargs):
        con.execute("create schema if not exists raw")
        con.execute("create or replace table raw.dwelling_register as select * from (values "
                    "('0301', 2020, 'a', 5.0, '..')) as v(municipality_code, year, measure, value, status_symbol)")
        return []

    monkeypatch.setattr(dwelling_register, "import_registers", import_registers)
    return dwelling_register.dwelling_register_files, "raw.dwelling_register", {}


@pytest.mark.parametrize("load", [_load_ssb, _load_husbanken_file, _load_dwelling_register],
                         ids=["ssb", "husbanken_file", "dwelling_register"])
def test_a_load_starts_the_child_for_the_checks_after_it_and_none_for_a_run_without_checks(load, tmp_path,
                                                                                         monkeypatch):
    """A load step (assets/quality.py: start_validation_process) starts GX's process when it has loaded, so
    GX imports beside the steps that follow; the first check then finds it running. A run with no suite to
    validate starts none."""
    import dagster as dg

    from orchestration.assets import quality
    from orchestration.resources import WarehouseResource

    asset, table, run = load(monkeypatch)
    running_at_check = []
    validate = worker.run_suites

    def run_suites(*args, **kwargs):
        running_at_check.append(worker._child is not None and worker._child.poll() is None)
        return validate(*args, **kwargs)

    monkeypatch.setattr(worker, "run_suites", run_suites)
    resources = {"warehouse": WarehouseResource(published_path=str(tmp_path / "warehouse.duckdb"))}
    worker.stop()
    try:
        assert dg.materialize([asset], resources=resources, **run).success
        assert worker._child is None
        checks = quality.build_checks([asset], [parse_suite({**SUITE, "table": table}, CONFIG)])
        result = dg.materialize([asset, *checks], resources=resources, raise_on_error=False, **run)
        assert [e.check_name for e in result.get_asset_check_evaluations() if e.check_name.startswith("gx_")] \
            == ["gx_probe"]
        assert running_at_check == [True]
    finally:
        worker.stop()


def test_no_load_starts_the_child_while_the_runs_ssb_load_is_unfinished(monkeypatch):
    """The SSB load runs first among the loads; a failed attempt waits for its retry while the other loads go
    on, and those must not start GX's process beside the retry's peak."""
    from types import SimpleNamespace

    from orchestration.assets import quality, ssb

    started = []
    monkeypatch.setattr(quality, "gx_checks_in_run", lambda _context: True)
    monkeypatch.setattr(worker, "start", lambda: started.append(True))
    run, other = SimpleNamespace(run_id="run-a"), SimpleNamespace(run_id="run-b")
    quality.ssb_load_started(run)  # the first attempt failed and waits
    quality.start_validation_process(run)  # a file load meanwhile
    assert started == []
    quality.start_validation_process(other)  # another run (a test process runs many) is not held
    assert started == [True]
    quality.ssb_load_done(run)
    assert started == [True, True]
    assert ssb.ssb_observations.op.tags["dagster/priority"] == "1"  # first among the loads


def test_dbt_builds_with_no_child_beside_it_and_a_child_that_ran_is_back_after(database):
    suite = parse_suite(SUITE, CONFIG)
    run_suite(database, suite, CONFIG)
    before = worker._child
    with worker.paused():  # the dbt step's block
        assert before.poll() is not None and worker._child is None
    assert worker._child is not None and worker._child.pid != before.pid and worker._child.poll() is None
    assert run_suite(database, suite, CONFIG).rows == 3
    worker.stop()
    with worker.paused():  # a run without checks before dbt: none started after
        pass
    assert worker._child is None


def _wait_for_child(seconds: float = 5.0):
    import time

    deadline = time.monotonic() + seconds
    while worker._child is None and time.monotonic() < deadline:
        time.sleep(0.01)
    return worker._child


def test_the_child_is_back_once_dbt_has_written_its_results_and_ends_when_the_build_fails(database, tmp_path):
    """dbt writes run_results.json when it has built, then closes the file and ends (≈ 1 s): GX imports meanwhile.
    Nothing of GX lives beside dbt while it builds, and a build that fails after its results leaves no child."""
    import time

    run_suite(database, parse_suite(SUITE, CONFIG), CONFIG)
    results = tmp_path / "run_results.json"
    with worker.paused() as resume_when:
        resume_when(results.exists, every=0.01)
        time.sleep(0.2)
        assert worker._child is None  # still building
        results.write_text("{}")
        early = _wait_for_child()
        assert early is not None and early.poll() is None
    assert worker._child is early  # the block's end starts no second one
    assert run_suite(database, parse_suite(SUITE, CONFIG), CONFIG).rows == 3

    with pytest.raises(RuntimeError, match="dbt failed"):
        with worker.paused() as resume_when:
            resume_when(results.exists, every=0.01)
            started = _wait_for_child()
            raise RuntimeError("dbt failed")
    assert started is not None and started.poll() is not None and worker._child is None


def test_the_dbt_step_runs_dbt_with_no_child_and_starts_none_after_a_failed_build(database, tmp_path, monkeypatch):
    """The real dbt step (assets/dbt.py) with dbt's invocation replaced: it sees no GX process beside it."""
    import dagster as dg

    from orchestration.assets import dbt as dbt_step
    from orchestration.project import dbt_executable
    from orchestration.resources import WarehouseResource

    seen = []

    def cli(self, args, context=None, **_kwargs):
        seen.append(worker._child)
        raise RuntimeError("dbt could not build")  # as a failed build ends the step

    run_suite(database, parse_suite(SUITE, CONFIG), CONFIG)  # a check before dbt left a child
    before = worker._child
    monkeypatch.setattr(dbt_step.DbtCli, "cli", cli)
    result = dg.materialize([dbt_step.dbt_models], raise_on_error=False, resources={
        "warehouse": WarehouseResource(published_path=str(tmp_path / "warehouse.duckdb")),
        "dbt": dbt_step.DbtCli(project_dir=str(dbt_step.dbt_project.project_dir), dbt_executable=dbt_executable())})
    assert not result.success and seen == [None]
    assert before.poll() is not None and worker._child is None


def test_an_interrupted_request_takes_its_child_along(database, monkeypatch):
    """A reply left in the pipe would answer the next request: the child of an interrupted one is ended."""
    suite = parse_suite(SUITE, CONFIG)
    run_suite(database, suite, CONFIG)
    child = worker._child

    def interrupted(_stream):
        raise KeyboardInterrupt

    monkeypatch.setattr(worker, "_receive", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run_suite(database, suite, CONFIG)
    monkeypatch.undo()
    assert child.poll() is not None and worker._child is None
    other = parse_suite({**SUITE, "name": "other"}, CONFIG)
    assert run_suite(database, other, CONFIG).suite.name == "other"


def test_a_reply_cut_short_is_a_child_that_ended():
    import io
    import pickle

    from orchestration import child_process

    whole = pickle.dumps(("ok", 1))
    with pytest.raises(EOFError):
        worker._receive(io.BufferedReader(io.BytesIO(child_process.LENGTH.pack(len(whole)) + whole[:-3])))


def test_one_request_validates_several_suites_and_a_suite_that_raises_leaves_the_others_validated(database):
    good = parse_suite(SUITE, CONFIG)
    broken = parse_suite({**SUITE, "name": "broken", "frame": {"sql": "select * from raw.no_such_table"}}, CONFIG)
    other = parse_suite({**SUITE, "name": "other", "expectations": []}, CONFIG)
    replies = worker.run_suites(database, [good, broken, other], CONFIG, record_for_run="run-1")
    assert [(s.name, r is not None, e is None) for s, r, e in replies] == [
        ("probe", True, True), ("broken", False, False), ("other", True, True)]
    assert replies[1][2].startswith("Great Expectations suite broken on raw.t: CatalogException")
    assert [r.rows for _s, r, _e in replies if r is not None] == [3, 3]
    with duckdb.connect(database, read_only=True) as con:  # closed before the last reply
        recorded = con.execute("select check_name, passed from quality.check_results where run_id = 'run-1' "
                               "order by 1").fetchall()
    assert recorded == [("gx_other", True), ("gx_probe", False)]


def test_a_child_that_dies_costs_only_the_suite_it_was_validating(database):
    """Out of memory or a crash in a C extension: that suite is named, a new child validates the rest, as when
    each suite was a step of its own."""
    suites = [parse_suite(SUITE, CONFIG), parse_suite({**SUITE, "name": "other"}, CONFIG)]
    worker.stop()
    child = worker.start()  # it imports GX for seconds before it reads the request: killed meanwhile
    threading.Timer(0.3, child.kill).start()
    (first, result, error), (second, other, none) = worker.run_suites(database, suites, CONFIG)
    assert first.name == "probe" and result is None
    assert error == "the Great Expectations process ended (exit code -9) while validating suite probe on raw.t"
    assert second.name == "other" and other.rows == 3 and none is None
    assert worker._child.pid != child.pid


def test_the_suites_on_one_steps_assets_are_one_step_and_each_stays_a_check_of_its_own(tmp_path):
    """build_checks: a step per producing step, not per suite (issue 19); every suite keeps its own check,
    result and blocking; a selected subset validates only its suites; a suite that raises fails the step after
    the others have their results."""
    import dagster as dg

    from orchestration.assets import quality
    from orchestration.resources import WarehouseResource

    @dg.multi_asset(specs=[dg.AssetSpec(["raw", "t"]), dg.AssetSpec(["raw", "u"])],
                    required_resource_keys={"warehouse"})
    def tables(context):
        with context.resources.warehouse.build(context).connect() as con:
            con.execute("create schema if not exists raw")
            for name in ("t", "u"):
                con.execute(f"create or replace table raw.{name} as select * from (values ('0301', 2020, 'a', "
                            "5.0, '..')) as v(municipality_code, year, measure, value, status_symbol)")
        yield dg.MaterializeResult(asset_key=["raw", "t"])
        yield dg.MaterializeResult(asset_key=["raw", "u"])

    @dg.asset(key=["raw", "v"], deps=[["raw", "t"]])
    def downstream():
        return None

    suites = [parse_suite({**SUITE, "name": "on_t", "asset": "raw/t"}, CONFIG),
              parse_suite({**SUITE, "name": "on_u", "table": "raw.u", "asset": "raw/u"}, CONFIG),
              parse_suite({**SUITE, "name": "on_v", "asset": "raw/v"}, CONFIG)]
    checks = quality.build_checks([tables, downstream], suites)
    assert sorted(c.node_def.name for c in checks) == ["gx_suites_on_raw__v", "gx_suites_on_tables"]
    resources = {"warehouse": WarehouseResource(published_path=str(tmp_path / "warehouse.duckdb"))}
    try:
        result = dg.materialize([tables, downstream, *checks], resources=resources, raise_on_error=False)
        evaluations = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
        assert evaluations == {"gx_on_t": False, "gx_on_u": False}  # one step validated both
        assert not result.success  # ERROR suites that fail block what follows: raw/v did not run, nor its check
        assert [e.asset_key for e in result.get_asset_materialization_events()] == [
            dg.AssetKey(["raw", "t"]), dg.AssetKey(["raw", "u"])]

        only_u = dg.materialize([tables, *checks], resources=resources, raise_on_error=False,
                                selection=dg.AssetSelection.checks(dg.AssetCheckKey(dg.AssetKey(["raw", "u"]),
                                                                                    "gx_on_u"))
                                | dg.AssetSelection.keys(["raw", "t"], ["raw", "u"]).without_checks())
        assert [e.check_name for e in only_u.get_asset_check_evaluations()] == ["gx_on_u"]

        broken = [parse_suite({**SUITE, "name": "broken", "asset": "raw/t",
                               "frame": {"sql": "select * from raw.no_such_table"}}, CONFIG),
                  parse_suite({**SUITE, "name": "fine", "severity": "WARNING", "asset": "raw/u"}, CONFIG)]
        failed = dg.materialize([tables, *quality.build_checks([tables], broken)], resources=resources,
                                raise_on_error=False)
        assert [e.check_name for e in failed.get_asset_check_evaluations()] == ["gx_fine"]
        failure = next(e for e in failed.all_events if e.event_type_value == "STEP_FAILURE")
        assert failure.step_key == "gx_suites_on_tables"
        assert "Great Expectations suite broken on raw.t: CatalogException" in str(failure.event_specific_data.error)
    finally:
        worker.stop()
