"""dbt's unit tests (formulas on fixed inputs) run here, in `make test`: production runs exclude them
(orchestration/assets/dbt.py `production_build_args`, issue 19)."""

from __future__ import annotations

import os
import shutil
import subprocess

from orchestration import settings
from orchestration.assets.dbt import production_build_args
from orchestration.project import dbt_executable


def test_production_build_leaves_unit_tests_to_ci():
    assert production_build_args()[:3] == ["build", "--exclude-resource-type", "unit_test"]


def test_every_dbt_unit_test_passes(demo_warehouse, tmp_path):
    copy = tmp_path / "unit.duckdb"
    shutil.copyfile(demo_warehouse.path, copy)  # unit tests read the input relations' columns
    out = subprocess.run([dbt_executable(), "test", "--select", "test_type:unit", "--project-dir",
                          str(settings.DBT_PROJECT_DIR), "--profiles-dir", str(settings.DBT_PROJECT_DIR),
                          "--target-path", str(tmp_path / "target")],
                         env={**os.environ, "BOLIGSOSIAL_DBT_DATABASE": str(copy)}, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout[-3000:]
    assert "PASS=" in out.stdout and "ERROR=0" in out.stdout
    passed = int(out.stdout.rsplit("PASS=", 1)[1].split()[0])
    assert passed >= 20, out.stdout[-1000:]
