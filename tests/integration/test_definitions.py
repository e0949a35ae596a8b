"""The Dagster definitions load every layer, in-process and through the `dagster` CLI; a run outside the jobs
(the UI's «Materialize») runs in one process like the jobs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from repo_paths import REPO_ROOT


def test_definitions_load_every_layer():
    from orchestration.definitions import defs

    keys = {k.to_user_string() for k in defs.resolve_asset_graph().get_all_asset_keys()}
    assert "raw/ssb_observations" in keys
    assert "marts/fct_indicator_value" in keys
    assert "published_warehouse" in keys
    assert defs.resolve_job_def("full_pipeline") is not None


def test_a_materialization_outside_the_jobs_runs_in_one_process_holding_the_writer_lock_once(module_env, tmp_path):
    dagster = Path(sys.executable).parent / "dagster"
    (tmp_path / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path)}  # module_env: a warehouse of its own, demo sources
    selection = ",".join(f"raw/{table}{view}" for table in ("dwelling_register", "programme_municipalities")
                         for view in ("", "_current"))
    result = subprocess.run([str(dagster), "asset", "materialize", "-m", "orchestration.definitions",
                             "--select", selection], cwd=REPO_ROOT, env=env, capture_output=True, text=True,
                            timeout=300)
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-3000:]
    assert "Executing steps in process" in log and "Launching subprocess" not in log, log[-3000:]
    # one holder for the whole run: no step waits for another's lock or finds it left behind
    assert "writer lock" not in log, log[-3000:]



def test_dagster_definitions_validate_cli():
    dagster = Path(sys.executable).parent / "dagster"
    result = subprocess.run([str(dagster), "definitions", "validate", "-w", "workspace.yaml"],
                            cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
