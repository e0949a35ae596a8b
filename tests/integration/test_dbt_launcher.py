"""The pipeline's dbt (`boligsosial-dbt`, orchestration/dbt_launcher.py), run for real: it opens the build file
of the folder it is given, one parse of the project serves every warehouse, the run's year window
reaches the models through the environment (macros/year_window_filter.sql), and a warm dbt process the run
started takes the launcher's command as a cold dbt would run it."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import pytest
from repo_paths import REPO_ROOT

from orchestration.dbt_launcher import WARM_ENV, WORKDIR_ENV
from orchestration.project import pipeline_dbt_executable
from orchestration.settings import DBT_PROJECT_DIR
from orchestration.warehouse import DBT_LINK_NAME

pytestmark = pytest.mark.integration


def _dbt(workdir: Path, target: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    """The launcher as the dbt step starts it: the build file by its name, dbt in the run's build folder."""
    return subprocess.run(
        [pipeline_dbt_executable(), *args, "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
         "--target-path", str(target), "--log-path", str(target)],
        env={**os.environ, WORKDIR_ENV: str(workdir), "BOLIGSOSIAL_DBT_DATABASE": DBT_LINK_NAME,
             "BOLIGSOSIAL_DBT_MIN_YEAR": "", "BOLIGSOSIAL_DBT_MAX_YEAR": "", "DBT_LOG_FORMAT": "json", **env},
        capture_output=True, text=True)


def _shown(log: str) -> list[dict]:
    [line] = [line for line in log.splitlines() if '"name": "ShowNode"' in line]
    return json.loads(json.loads(line)["data"]["preview"])


def _warehouse(folder: Path) -> Path:
    folder.mkdir()
    with duckdb.connect(str(folder / DBT_LINK_NAME)) as con:
        con.execute("create table marker as select range::int as year from range(2017, 2023)")  # 2017–2022
    return folder


def test_a_second_warehouse_reuses_the_parse_and_its_own_build_file_is_opened(tmp_path):
    first, second = _warehouse(tmp_path / "first"), _warehouse(tmp_path / "second")
    parsed = _dbt(first, tmp_path / "target-first", "parse")
    assert parsed.returncode == 0, parsed.stdout[-3000:]
    assert json.loads((tmp_path / "target-first" / "perf_info.json").read_text())["parsed_path_count"] > 0

    # the second warehouse starts from the first one's parse, as every run starts from the project's
    (tmp_path / "target-second").mkdir()
    shutil.copy(tmp_path / "target-first" / "partial_parse.msgpack", tmp_path / "target-second")
    reused = _dbt(second, tmp_path / "target-second", "parse")
    assert reused.returncode == 0, reused.stdout[-3000:]
    assert "Unable to do partial parsing" not in reused.stdout, reused.stdout[-3000:]
    assert json.loads((tmp_path / "target-second" / "perf_info.json").read_text())["parsed_path_count"] == 0

    # the second folder's build file, in the run's year window (2019–2020 of the marker's 2017–2022)
    with duckdb.connect(str(second / DBT_LINK_NAME)) as con:
        con.execute("delete from marker where year = 2020")
    shown = _dbt(second, tmp_path / "target-second", "show", "--inline",
                 "select count(*) as n from marker {{ year_window_filter() }}", "--output", "json",
                 BOLIGSOSIAL_DBT_MIN_YEAR="2019", BOLIGSOSIAL_DBT_MAX_YEAR="2020")
    assert shown.returncode == 0, shown.stdout[-3000:]
    assert _shown(shown.stdout) == [{"n": 1}]


def test_a_year_window_that_is_not_a_year_is_refused_by_name(tmp_path):
    folder = _warehouse(tmp_path / "w")
    shown = _dbt(folder, tmp_path / "target", "show", "--inline", "select count(*) as n from marker {{ year_window_filter() }}",
                 BOLIGSOSIAL_DBT_MIN_YEAR="2019; drop table marker", BOLIGSOSIAL_DBT_MAX_YEAR="2020")
    assert shown.returncode == 2  # dbt's code for an error (the warm start's test expects the same)
    assert "BOLIGSOSIAL_DBT_MIN_YEAR must be a year, got '2019; drop table marker'" in shown.stdout, shown.stdout[-3000:]
    with duckdb.connect(str(folder / DBT_LINK_NAME), read_only=True) as con:
        assert con.execute("select count(*) from marker").fetchone()[0] == 6


def test_the_dbt_step_gives_dbt_its_build_folder_and_window_and_keeps_neither(tmp_path, monkeypatch):
    """The real dbt step (assets/dbt.py) up to dbt's start: what the dbt process would inherit, and after it."""
    import dagster as dg

    from orchestration.assets import dbt as dbt_step
    from orchestration.partitions import PARTITION_TAG
    from orchestration.project import dbt_executable
    from orchestration.resources import WarehouseResource

    names = ("BOLIGSOSIAL_DBT_DATABASE", WORKDIR_ENV, "BOLIGSOSIAL_DBT_MIN_YEAR", "BOLIGSOSIAL_DBT_MAX_YEAR", WARM_ENV)
    seen = []

    def cli(self, args, context=None, **_kwargs):
        seen.append({name: os.environ.get(name) for name in names})
        raise RuntimeError("stopped where dbt would start")

    monkeypatch.setattr(dbt_step.DbtCli, "cli", cli)
    monkeypatch.setenv("BOLIGSOSIAL_DBT_MIN_YEAR", "2010")  # the calling shell's: never a run's window
    monkeypatch.delenv(WORKDIR_ENV, raising=False)
    monkeypatch.setenv(WARM_ENV, str(tmp_path / "socket"))  # a shell's: no warm process of this run waits there
    resources = {"warehouse": WarehouseResource(published_path=str(tmp_path / "warehouse.duckdb")),
                 "dbt": dbt_step.DbtCli(project_dir=str(DBT_PROJECT_DIR), dbt_executable=dbt_executable())}
    for tags in (None, {PARTITION_TAG: "2019"}):
        assert not dg.materialize([dbt_step.dbt_models], resources=resources, tags=tags, raise_on_error=False).success
    build_folder = str(tmp_path / ".build")
    assert seen == [
        {"BOLIGSOSIAL_DBT_DATABASE": DBT_LINK_NAME, WORKDIR_ENV: build_folder,
         "BOLIGSOSIAL_DBT_MIN_YEAR": "", "BOLIGSOSIAL_DBT_MAX_YEAR": "", WARM_ENV: ""},
        {"BOLIGSOSIAL_DBT_DATABASE": DBT_LINK_NAME, WORKDIR_ENV: build_folder,
         "BOLIGSOSIAL_DBT_MIN_YEAR": "2019", "BOLIGSOSIAL_DBT_MAX_YEAR": "2019", WARM_ENV: ""}]
    assert os.environ["BOLIGSOSIAL_DBT_MIN_YEAR"] == "2010" and WORKDIR_ENV not in os.environ


# --- the warm start: dbt imported beside the loads, in a process the run started ------------------------------


@pytest.fixture
def warm():
    """A warm dbt process of this test's own, ended after it."""
    from orchestration import dbt_launcher

    dbt_launcher.warm_up()
    process = dbt_launcher._warm[0]
    yield dbt_launcher, process
    dbt_launcher.stop_warm()
    assert process.poll() is not None


def _count_shown(folder: Path, target: Path, **env: str) -> subprocess.CompletedProcess:
    return _dbt(folder, target, "show", "--inline", "select count(*) as n from marker {{ year_window_filter() }}",
                "--output", "json", **env)


def test_the_warm_process_runs_the_launchers_dbt_and_ends_before_the_launcher(tmp_path, warm):
    dbt_launcher, process = warm
    folder = _warehouse(tmp_path / "w")
    assert not dbt_launcher.warm_taken()
    shown = _count_shown(folder, tmp_path / "target", BOLIGSOSIAL_DBT_MIN_YEAR="2019",
                         BOLIGSOSIAL_DBT_MAX_YEAR="2020", **dbt_launcher.warm_environment())
    assert shown.returncode == 0, shown.stdout[-3000:] + shown.stderr[-3000:]
    assert dbt_launcher.warm_taken()
    assert process.poll() is not None, "the launcher returned before the process that ran dbt ended"
    # the launcher's arguments, folder and environment reached dbt: its window (2019–2020 of the marker's
    # 2017–2022), its target folder, its log format
    assert _shown(shown.stdout) == [{"n": 2}]
    assert (tmp_path / "target" / "run_results.json").exists()
    with duckdb.connect(str(folder / DBT_LINK_NAME)) as con:  # writable: dbt's process has let go of the file
        con.execute("insert into marker values (2023)")


def test_a_failing_dbt_in_the_warm_process_fails_the_launcher_as_a_cold_one_does(tmp_path, warm):
    dbt_launcher, _process = warm
    folder = _warehouse(tmp_path / "w")
    shown = _count_shown(folder, tmp_path / "target", BOLIGSOSIAL_DBT_MIN_YEAR="2019; drop table marker",
                         BOLIGSOSIAL_DBT_MAX_YEAR="2020", **dbt_launcher.warm_environment())
    assert dbt_launcher.warm_taken()
    assert shown.returncode == 2  # dbt's code for an error, as test_a_year_window_… gets it cold
    assert "BOLIGSOSIAL_DBT_MIN_YEAR must be a year, got '2019; drop table marker'" in shown.stdout


def test_an_environment_the_imports_read_differently_starts_dbt_cold_and_says_why(tmp_path, warm):
    dbt_launcher, process = warm
    folder = _warehouse(tmp_path / "w")
    shown = _count_shown(folder, tmp_path / "target", PYTHONHASHSEED="7", **dbt_launcher.warm_environment())
    assert shown.returncode == 0, shown.stdout[-3000:]
    assert _shown(shown.stdout) == [{"n": 6}]
    assert not dbt_launcher.warm_taken()
    assert "dbt starts cold: its environment differs from the warm process's in PYTHONHASHSEED" in shown.stderr
    assert process.wait(timeout=30) == 0  # it declined and ended
    assert dbt_launcher.warm_environment() == {WARM_ENV: ""}  # none waits now: the next dbt gets no socket


def test_the_dbt_step_hands_dbt_the_warm_process_and_dagster_dbts_environment_keeps_it_warm(tmp_path, warm):
    """dagster-dbt's own `cli` (the dbt step's call) adds its variables to dbt's environment; none of them
    makes the warm process decline."""
    from orchestration.definitions import defs
    from orchestration.settings import temporary_environment

    dbt_launcher, _process = warm
    folder = _warehouse(tmp_path / "w")
    resource = defs.resources["dbt"]  # as the definitions configure it
    with temporary_environment({WORKDIR_ENV: str(folder), "BOLIGSOSIAL_DBT_DATABASE": DBT_LINK_NAME,
                                "BOLIGSOSIAL_DBT_MIN_YEAR": "", "BOLIGSOSIAL_DBT_MAX_YEAR": "",
                                **dbt_launcher.warm_environment()}):
        invocation = resource.cli(["show", "--inline", "select count(*) as n from marker", "--output", "json"],
                                  raise_on_error=False, target_path=tmp_path / "target")
    events = list(invocation.stream_raw_events())
    assert invocation.process.wait() == 0, [e.raw_event for e in events][-5:]
    assert dbt_launcher.warm_taken()


def test_a_waiting_warm_process_ends_with_the_process_that_started_it(tmp_path):
    # it ends without its exit handlers (killed, say): the warm process sees its stdin close
    script = ("import os; from orchestration import dbt_launcher; dbt_launcher.warm_up(); "
              "print(dbt_launcher._warm[0].pid, flush=True); os._exit(0)")
    started = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60,
                             env={**os.environ, "PYTHONPATH": str(REPO_ROOT)})
    assert started.returncode == 0, started.stderr
    pid = int(started.stdout.split()[0])
    deadline = time.monotonic() + 30
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(pid), "the warm process outlived the process that started it"


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def _warm_up_ignoring_interrupts(dbt_launcher) -> subprocess.Popen:
    """A warm process started as from a shell's background job, which ignores SIGINT (inherited)."""
    dbt_launcher.stop_warm()
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        dbt_launcher.warm_up()
    finally:
        signal.signal(signal.SIGINT, previous)
    return dbt_launcher._warm[0]


def _interrupted_during_a_long_query(tmp_path: Path, dbt_launcher, before_interrupt=None):
    """The launcher runs a query that would take minutes in the warm process; interrupted once it runs, as a
    cancelled step's dbt is (dagster-dbt sends SIGINT to the process it started: the launcher, which takes
    SIGINT as dagster-dbt's child does). Returns the ended launcher and everything it printed."""
    folder = _warehouse(tmp_path / "w")
    launcher = subprocess.Popen(
        [pipeline_dbt_executable(), "show", "--inline", "select sum(hash(range)) as s from range(20000000000)",
         "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
         "--target-path", str(tmp_path / "target")],
        env={**os.environ, WORKDIR_ENV: str(folder), "BOLIGSOSIAL_DBT_DATABASE": DBT_LINK_NAME,
             **dbt_launcher.warm_environment()},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))  # whatever this test's shell ignores
    lines: list[str] = []
    running = threading.Event()

    def read() -> None:
        for line in launcher.stdout:
            lines.append(line)
            if "Concurrency:" in line:  # parsed: dbt's node thread starts the query next
                running.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    assert running.wait(120), "".join(lines)[-3000:]
    assert dbt_launcher.warm_taken()
    time.sleep(2)  # the query runs: dbt cancels it (a query that starts a moment after the cancel runs on)
    if before_interrupt:
        before_interrupt()
    launcher.send_signal(signal.SIGINT)
    launcher.wait(timeout=60)
    reader.join(10)
    return launcher, "".join(lines)


def test_an_interrupt_of_the_launcher_reaches_the_dbt_it_handed_over(tmp_path):
    """Also when the run that started the warm process ignores SIGINT (a shell's background job, `make test &`):
    the warm dbt takes the launcher's interrupts, as a cold dbt in the launcher would."""
    from orchestration import dbt_launcher

    process = _warm_up_ignoring_interrupts(dbt_launcher)
    try:
        launcher, out = _interrupted_during_a_long_query(tmp_path, dbt_launcher)
        assert launcher.returncode != 0, out[-3000:]
        assert process.poll() is not None, "dbt went on after its launcher was interrupted"
        assert "CANCEL query" in out and "did not end within" not in out, out[-3000:]
    finally:
        dbt_launcher.stop_warm()


def test_a_warm_dbt_that_misses_the_interrupt_is_killed_after_the_grace(tmp_path, warm):
    """dbt can miss an interrupt (dbt-duckdb's cancel misses a query that starts a moment after it, and dbt then
    waits for that query): the launcher kills the warm process after INTERRUPT_GRACE_SECONDS instead of waiting
    with it. A stopped warm process stands in for the miss."""
    dbt_launcher, process = warm
    launcher, out = _interrupted_during_a_long_query(tmp_path, dbt_launcher,
                                                     before_interrupt=lambda: os.kill(process.pid, signal.SIGSTOP))
    assert launcher.returncode == 1, out[-3000:]
    assert process.poll() is not None
    assert f"dbt did not end within {dbt_launcher.INTERRUPT_GRACE_SECONDS} s of the interrupt: killed" in out
