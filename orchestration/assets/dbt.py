"""The dbt models (staging → intermediate → marts) as Dagster assets, built in the run's warehouse copy."""


import contextlib
import importlib.metadata
import io
import os
import shutil
from functools import cached_property
from pathlib import Path
from typing import Any, Mapping

import dagster as dg

from orchestration import dbt_launcher, settings
from orchestration.partitions import partition_years, yearly_partitions
from orchestration.project import dbt_project, ensure_manifest  # dbt_project imports dagster_dbt without dbt-core
from orchestration.resources import WarehouseResource

from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets  # noqa: E402 (after project.py's import)

ensure_manifest()


class LayeredTranslator(DagsterDbtTranslator):
    """Asset keys `<schema>/<model>` and groups by layer, so the graph shows the architecture."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return dg.AssetKey([dbt_resource_props["source_name"], dbt_resource_props["name"]])
        schema = dbt_resource_props.get("config", {}).get("schema") or "main"
        return dg.AssetKey([schema, dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return dbt_resource_props.get("config", {}).get("schema") or "dbt"


@dbt_assets(
    manifest=dbt_project.manifest_path,
    dagster_dbt_translator=LayeredTranslator(),
    project=dbt_project,
    # Not partitioned: every model but the incremental fact rebuilds its whole table whatever the run's years,
    # so a record per model and year would claim less than was built, and cost ≈ 1 500 events a run (issue 19).
    # The run's year window comes from its tags (partition_years).
)
def dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource):
    from orchestration.quality import worker

    build = warehouse.build(context)
    args = production_build_args()
    # the incremental fact rebuilds only the partition window's years; over every year it rebuilds them all
    # without the window, as a cold build does. In the environment, not as --vars: those make dbt parse again.
    window = year_window(partition_years(context))
    if window:
        context.log.info(f"dbt: year window {window[0]}–{window[1]} (the indicator fact rebuilds these years only)")
    # the checks' GX process (quality/worker.py) never holds its memory beside dbt's while it builds
    with worker.paused() as resume_checks_when, build.linked_for_dbt() as database:
        # Taken by dbt's process when it starts (dagster-dbt copies the environment in `cli`). The profile names
        # this run's build file relative to the folder dbt starts in, so it reads alike for every warehouse
        # (orchestration/dbt_launcher.py); an empty window is none, also when the calling shell set one.
        with settings.temporary_environment({
            "BOLIGSOSIAL_DBT_DATABASE": database.name, dbt_launcher.WORKDIR_ENV: str(database.parent),
            "BOLIGSOSIAL_DBT_MIN_YEAR": str(window[0]) if window else "",
            "BOLIGSOSIAL_DBT_MAX_YEAR": str(window[1]) if window else "",
            **dbt_launcher.warm_environment(),  # the run's warm dbt process, when one waits
        }):
            invocation = dbt.cli(args, context=context)
        # dbt writes its results when it has built, then closes the file and ends: GX imports meanwhile
        resume_checks_when((invocation.target_path / "run_results.json").exists)
        if os.environ.get("BOLIGSOSIAL_DBT_OUTPUT") == "summary":
            # `boligsosial demo` shows one line for dbt instead of every node's log (the UI keeps them all).
            # Silenced only while dagster-dbt reads the next event (it echoes dbt's log lines then); each event
            # goes to Dagster at once, so Dagster records it while dbt builds on, not all of them after dbt.
            events = iter(invocation.stream())
            while True:
                with contextlib.redirect_stdout(io.StringIO()):
                    event = next(events, None)
                if event is None:
                    break
                yield event
            context.log.info(_summary(invocation.get_artifact("run_results.json")))
        else:
            yield from invocation.stream()
    context.log.info("dbt ran in the process the run started beside its loads (imports done)"
                     if dbt_launcher.warm_taken() else "dbt started cold (no warm process waited)")
    _keep_parse(invocation.target_path)
    _prune_target_dirs(keep=5)


class DbtCli(DbtCliResource):
    """dagster-dbt's dbt CLI without two costs it pays in the Dagster process on every run (issue 19).

    - the dbt adapter it opens before each call: it serves only `fetch_column_metadata`/row counts, which
      these assets do not use (≈ 10 CPU-s and 54 MiB to build);
    - `dbt --version` in a subprocess to learn the version (≈ 10 CPU-s): the venv's dbt is this dbt-core.

    Its target folder is absolute: dagster-dbt passes the folder to dbt relative to the project, and dbt,
    started in the build folder (orchestration/dbt_launcher.py), would write its log beside the build."""

    def _get_unique_target_path(self, *, context) -> Path:
        return Path(self.project_dir).resolve() / super()._get_unique_target_path(context=context)

    def _initialize_dbt_core_adapter(self, args):  # dagster-dbt 0.29: runs without one when it cannot be built
        return None

    @cached_property
    def _cli_version(self):
        from packaging import version

        return version.parse(importlib.metadata.version("dbt-core"))


def production_build_args() -> list[str]:
    """`dbt build` as a production run needs it: unit tests check formulas on fixed inputs, which no load can
    change, so they run in development and CI (`make test`: tests/e2e/test_dbt_unit_tests.py), not here.
    dbt's own log file (dbt_project/logs/dbt.log) at info, not debug: debug writes every statement of every
    node, ≈ 2 MB and ≈ 0.5–1 s of a build here; the SQL each node ran stays in the target folder (run/), and
    `dbt … --log-level-file debug` by hand logs it all."""
    return ["build", "--exclude-resource-type", "unit_test", "--log-level-file", "info"]


def year_window(years: list[int] | None) -> tuple[int, int] | None:
    """The run's first and last year for macros/year_window_filter.sql; None when it covers every year."""
    if not years or set(map(str, years)) == set(yearly_partitions.get_partition_keys()):
        return None
    return min(years), max(years)


def _summary(run_results: dict) -> str:
    counts: dict[str, int] = {}
    statuses: dict[str, int] = {}
    for result in run_results.get("results", []):
        kind = result["unique_id"].split(".")[0]
        counts[kind] = counts.get(kind, 0) + 1
        statuses[result["status"]] = statuses.get(result["status"], 0) + 1
    what = ", ".join(f"{n} {kind}s" for kind, n in sorted(counts.items()))
    how = ", ".join(f"{n} {status}" for status, n in sorted(statuses.items()))
    return f"dbt build: {what} — {how} in {run_results.get('elapsed_time', 0):.1f} s"


def _keep_parse(invocation_target: Path) -> None:
    """dagster-dbt starts each invocation from target/partial_parse.msgpack; leave this invocation's there, so
    the next run in this warehouse parses only the files that changed (dbt checks every file's checksum)."""
    produced = invocation_target / "partial_parse.msgpack"
    if produced.exists():
        tmp = produced.with_suffix(".copying")
        shutil.copyfile(produced, tmp)
        os.replace(tmp, Path(dbt_project.project_dir) / "target" / produced.name)


def _prune_target_dirs(keep: int) -> None:
    """dagster-dbt gives every invocation its own target folder; keep the newest few for debugging."""
    target = Path(dbt_project.project_dir) / "target"
    runs = sorted((p for p in target.glob("dbt_models-*") if p.is_dir()), key=lambda p: p.stat().st_mtime)
    for old in runs[:-keep]:
        shutil.rmtree(old, ignore_errors=True)
