"""The Dagster definitions load every layer, in-process and through the `dagster` CLI."""

from __future__ import annotations

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



def test_dagster_definitions_validate_cli():
    dagster = Path(sys.executable).parent / "dagster"
    result = subprocess.run([str(dagster), "definitions", "validate", "-w", "workspace.yaml"],
                            cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
