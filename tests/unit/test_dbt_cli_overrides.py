"""orchestration.assets.dbt.DbtCli overrides private members of dagster-dbt's DbtCliResource: two drop costs
paid on every run (a dbt adapter, a `dbt --version` subprocess), one makes the target folder absolute (dbt
starts in the build folder). A dagster-dbt upgrade that renames or stops calling them would bring the costs
back, or dbt's log beside the build, without any error: this pins the names and the call sites."""

from __future__ import annotations

import importlib.metadata
import inspect

from dagster_dbt import DbtCliResource
from packaging import version

from orchestration.assets.dbt import DbtCli
from orchestration.project import dbt_executable
from orchestration.settings import DBT_PROJECT_DIR


def test_the_overridden_members_exist_in_dagster_dbt_and_cli_calls_them():
    for name in ("_initialize_dbt_core_adapter", "_cli_version", "_get_unique_target_path"):
        assert name in vars(DbtCliResource), f"dagster-dbt no longer has DbtCliResource.{name}: revisit DbtCli"
        assert name in vars(DbtCli)
    cli = inspect.getsource(DbtCliResource.cli)
    assert "self._initialize_dbt_core_adapter(" in cli and "self._cli_version" in cli
    assert "self._get_unique_target_path(" in cli


def test_the_target_folder_is_absolute_inside_the_projects_target():
    target = DbtCli(project_dir=str(DBT_PROJECT_DIR), dbt_executable=dbt_executable())._get_unique_target_path(context=None)
    assert target.is_absolute() and target.parent == DBT_PROJECT_DIR.resolve() / "target"


def test_the_overrides_answer_without_an_adapter_or_a_subprocess(monkeypatch):
    resource = DbtCli(project_dir=str(DBT_PROJECT_DIR), dbt_executable=dbt_executable())

    def no_subprocess(*args, **kwargs):
        raise AssertionError(f"DbtCli started a subprocess: {args!r}")

    import subprocess

    monkeypatch.setattr(subprocess, "run", no_subprocess)
    monkeypatch.setattr(subprocess, "check_output", no_subprocess)
    monkeypatch.setattr(subprocess, "Popen", no_subprocess)
    assert resource._cli_version == version.parse(importlib.metadata.version("dbt-core"))
    assert resource._initialize_dbt_core_adapter(["build"]) is None
