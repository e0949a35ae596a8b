"""The dbt models (staging → intermediate → marts) as Dagster assets, built in the run's warehouse copy."""


import json
import os
from typing import Any, Mapping

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets

from orchestration.partitions import partition_years, yearly_partitions
from orchestration.project import dbt_project, ensure_manifest
from orchestration.resources import WarehouseResource

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
    partitions_def=yearly_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
)
def dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource):
    build = warehouse.build(context)
    build.ensure()
    # dbt runs as a subprocess that inherits the environment: point its profile at this run's build file.
    os.environ["BOLIGSOSIAL_DBT_DATABASE"] = str(build.path)
    args = ["build"]
    years = partition_years(context)
    if years:  # the incremental fact rebuilds only the partition window's years
        args += ["--vars", json.dumps({"min_year": min(years), "max_year": max(years)})]
    yield from dbt.cli(args, context=context).stream()
    _prune_target_dirs(keep=5)


def _prune_target_dirs(keep: int) -> None:
    """dagster-dbt gives every invocation its own target folder; keep the newest few for debugging."""
    import shutil
    from pathlib import Path

    target = Path(dbt_project.project_dir) / "target"
    runs = sorted((p for p in target.glob("dbt_models-*") if p.is_dir()), key=lambda p: p.stat().st_mtime)
    for old in runs[:-keep]:
        shutil.rmtree(old, ignore_errors=True)
