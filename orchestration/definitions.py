"""The boligsosial code location: every asset, check, job, schedule and sensor.

`dagster dev -w workspace.yaml` shows them all; `make demo` runs the `full_pipeline` job in-process.
"""

import datetime as dt
import warnings

import dagster as dg
from dagster_dbt import DbtCliResource

from orchestration.assets import dbt as dbt_assets_module
from orchestration.assets import files, klass, publish, quality, serve, ssb
from orchestration.jobs import ALL_JOBS
from orchestration.project import dbt_executable, dbt_project
from orchestration.resources import WarehouseResource
from orchestration.schedules import ALL_SCHEDULES
from orchestration.sensors import ALL_SENSORS

source_assets = [ssb.ssb_observations, klass.klass_structure, *files.file_assets, files.husbanken_monthly]
all_assets = [*source_assets, dbt_assets_module.dbt_models, publish.published_warehouse]

# Expected freshness per source, as asset checks (the newer FreshnessPolicy is evaluated only by the daemon,
# so tests could not assert it): a KOSTRA statistics year must be in by 1 July of the following year,
# KLASS must have been read within ~a year, Husbanken's month by the 10th of the month after.
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    freshness_checks = dg.build_time_partition_freshness_checks(
        assets=[ssb.ssb_observations], deadline_cron="0 0 1 7 *", timezone="Europe/Oslo",
        severity=dg.AssetCheckSeverity.WARN,
    )
    freshness_checks += dg.build_last_update_freshness_checks(
        assets=[klass.klass_structure], lower_bound_delta=dt.timedelta(days=400), severity=dg.AssetCheckSeverity.WARN
    )
    freshness_checks += dg.build_time_partition_freshness_checks(
        assets=[files.husbanken_monthly], deadline_cron="0 0 10 * *", timezone="Europe/Oslo",
        severity=dg.AssetCheckSeverity.WARN,
    )
    freshness_sensor = dg.build_sensor_for_freshness_checks(freshness_checks=freshness_checks,
                                                            name="freshness_checks_sensor",
                                                            default_status=dg.DefaultSensorStatus.RUNNING)

# Great Expectations suites as blocking asset checks, the findings register and the digest (issue 6).
quality_assets, quality_checks = quality.build(all_assets)

defs = dg.Definitions(
    assets=[*all_assets, *quality_assets, serve.postgres_marts, serve.exports],
    asset_checks=[*quality_checks, *freshness_checks],
    jobs=ALL_JOBS,
    schedules=ALL_SCHEDULES,
    sensors=[*ALL_SENSORS, freshness_sensor],
    resources={
        "warehouse": WarehouseResource(),
        # the venv's dbt, also when the venv's bin is not on PATH (`.venv/bin/boligsosial demo`)
        "dbt": DbtCliResource(project_dir=dbt_project, dbt_executable=dbt_executable()),
    },
)
