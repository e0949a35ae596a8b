"""The pipeline's dbt (`boligsosial-dbt`, orchestration/dbt_launcher.py), run for real: it opens the build file
of the folder it is given, one parse of the project serves every warehouse, and the run's year window
reaches the models through the environment (macros/year_window_filter.sql)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import duckdb
import pytest

from orchestration.dbt_launcher import WORKDIR_ENV
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
    assert shown.returncode != 0
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

    names = ("BOLIGSOSIAL_DBT_DATABASE", WORKDIR_ENV, "BOLIGSOSIAL_DBT_MIN_YEAR", "BOLIGSOSIAL_DBT_MAX_YEAR")
    seen = []

    def cli(self, args, context=None, **_kwargs):
        seen.append({name: os.environ.get(name) for name in names})
        raise RuntimeError("stopped where dbt would start")

    monkeypatch.setattr(dbt_step.DbtCli, "cli", cli)
    monkeypatch.setenv("BOLIGSOSIAL_DBT_MIN_YEAR", "2010")  # the calling shell's: never a run's window
    monkeypatch.delenv(WORKDIR_ENV, raising=False)
    resources = {"warehouse": WarehouseResource(published_path=str(tmp_path / "warehouse.duckdb")),
                 "dbt": dbt_step.DbtCli(project_dir=str(DBT_PROJECT_DIR), dbt_executable=dbt_executable())}
    for tags in (None, {PARTITION_TAG: "2019"}):
        assert not dg.materialize([dbt_step.dbt_models], resources=resources, tags=tags, raise_on_error=False).success
    build_folder = str(tmp_path / ".build")
    assert seen == [
        {"BOLIGSOSIAL_DBT_DATABASE": DBT_LINK_NAME, WORKDIR_ENV: build_folder,
         "BOLIGSOSIAL_DBT_MIN_YEAR": "", "BOLIGSOSIAL_DBT_MAX_YEAR": ""},
        {"BOLIGSOSIAL_DBT_DATABASE": DBT_LINK_NAME, WORKDIR_ENV: build_folder,
         "BOLIGSOSIAL_DBT_MIN_YEAR": "2019", "BOLIGSOSIAL_DBT_MAX_YEAR": "2019"}]
    assert os.environ["BOLIGSOSIAL_DBT_MIN_YEAR"] == "2010" and WORKDIR_ENV not in os.environ
