"""The boligsosial code location: every asset, check, job, schedule and sensor.

`dagster dev -w workspace.yaml` shows them all; `make demo` runs the `full_pipeline` job in-process.
"""

import dagster as dg

from orchestration.assets import dbt as dbt_assets_module
from orchestration.assets import dwelling_register, files, klass, publish, quality, report, serve, ssb
from orchestration.jobs import ALL_JOBS
from orchestration.memory import exclude_from_collection
from orchestration.project import dbt_project, pipeline_dbt_executable
from orchestration.resources import WarehouseResource
from orchestration.schedules import ALL_SCHEDULES
from orchestration.sensors import ALL_SENSORS

source_assets = [ssb.ssb_observations, klass.klass_structure, *files.file_assets, files.husbanken_monthly,
                 dwelling_register.dwelling_register_files]
all_assets = [*source_assets, dbt_assets_module.dbt_models, publish.published_warehouse]
# The annual report reads the published warehouse, so it is outside the checks' reach (not in all_assets).
report_assets = [report.annual_report]

# Great Expectations suites as blocking asset checks, the findings register with the source-freshness
# rules of config/quality.yaml (the one freshness system), and the digest.
quality_assets, quality_checks = quality.build(all_assets)

defs = dg.Definitions(
    assets=[*all_assets, *quality_assets, *report_assets, serve.postgres_marts, serve.exports],
    asset_checks=quality_checks,
    jobs=ALL_JOBS,
    # Also a run the UI or `dagster asset materialize` starts outside the jobs runs its steps in one process,
    # as the jobs do: the build has one DuckDB writer, and a process per step would pay the definitions'
    # import each time and hand the writer lock from step to step.
    executor=dg.in_process_executor,
    schedules=ALL_SCHEDULES,
    sensors=ALL_SENSORS,
    resources={
        "warehouse": WarehouseResource(),
        # the venv's dbt, also when the venv's bin is not on PATH (`.venv/bin/boligsosial demo`)
        "dbt": dbt_assets_module.DbtCli(project_dir=dbt_project, dbt_executable=pipeline_dbt_executable()),
    },
)

# Everything above lives as long as the process: keep it out of the per-step collections (memory.py).
exclude_from_collection()
