"""The boligsosial code location: every asset, check, job, schedule and sensor."""

from __future__ import annotations

import dagster as dg
from dagster_dbt import DbtCliResource

from orchestration.assets import dbt as dbt_assets_module
from orchestration.assets import klass, publish, quality, ssb
from orchestration.project import dbt_project
from orchestration.resources import WarehouseResource

all_assets = [ssb.ssb_observations, klass.klass_structure, dbt_assets_module.dbt_models, publish.published_warehouse]

# One writer at a time: steps run in one process, one after another (DuckDB has a single writer).
full_pipeline = dg.define_asset_job(
    "full_pipeline",
    selection=dg.AssetSelection.all(),
    description="Fetch every source, build every model, run every check, publish the warehouse.",
    executor_def=dg.in_process_executor,
    tags={"boligsosial/warehouse-writer": "true"},
)

defs = dg.Definitions(
    assets=all_assets,
    asset_checks=quality.gx_checks,
    jobs=[full_pipeline],
    resources={
        "warehouse": WarehouseResource(),
        "dbt": DbtCliResource(project_dir=dbt_project),
    },
)
