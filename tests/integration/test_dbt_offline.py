"""Offline by default: dbt sends anonymous usage events to dbt Labs on every invocation unless the project
turns them off (dbt_project.yml `flags`). Off the network they fail quietly; on it they would leave the
machine. A real dbt invocation, its debug log read for the events."""

from __future__ import annotations

import subprocess

from orchestration.project import dbt_executable
from orchestration.settings import DBT_PROJECT_DIR


def test_dbt_sends_no_usage_events(tmp_path):
    out = subprocess.run([dbt_executable(), "ls", "--select", "dim_goal", "--project-dir", str(DBT_PROJECT_DIR),
                          "--profiles-dir", str(DBT_PROJECT_DIR), "--target-path", str(tmp_path / "target"),
                          "--log-path", str(tmp_path), "--log-level-file", "debug"],
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    log = (tmp_path / "dbt.log").read_text(encoding="utf-8")
    assert "[debug]" in log  # the log is the debug log the events would be written to
    assert "Sending event" not in log
