"""Named jobs the data team schedules and launches by hand. Every job writes the warehouse, so every
job carries the writer tag that the instance's run queue limits to one run at a time (deploy/dagster.yaml),
and runs its steps in one process, one after another (DuckDB has a single writer)."""

import dagster as dg


WRITER_TAGS = {"boligsosial/warehouse-writer": "true"}

SSB_SOURCES = dg.AssetSelection.assets(["raw", "ssb_observations"])
KLASS_SOURCES = dg.AssetSelection.groups("raw_klass")
FILE_SOURCES = dg.AssetSelection.groups("raw_files")
MONTHLY_SOURCES = dg.AssetSelection.groups("raw_monthly")
# The models, checks, quality register and publication downstream of whatever a job loads.
TRANSFORM_AND_PUBLISH = dg.AssetSelection.groups("staging", "intermediate", "marts", "catalogue", "quality",
                                                 "publish")

full_pipeline = dg.define_asset_job(
    "full_pipeline",
    selection=dg.AssetSelection.all() - MONTHLY_SOURCES,
    description="Every source, model, check and publication. `make demo` runs it over all statistics years.",
    executor_def=dg.in_process_executor,
    tags=WRITER_TAGS,
)

kostra_release = dg.define_asset_job(
    "kostra_release",
    selection=SSB_SOURCES | KLASS_SOURCES | TRANSFORM_AND_PUBLISH,
    description="A KOSTRA/IPLOS release for one statistics year (unrevised 15 March, revised 15 June): "
    "fetch what moved at SSB, rebuild that year's marts, check, publish.",
    executor_def=dg.in_process_executor,
    tags=WRITER_TAGS,
)

annual_analysis = dg.define_asset_job(
    "annual_analysis",
    selection=dg.AssetSelection.all() - MONTHLY_SOURCES,
    description="The yearly analysis: every source and every statistics year rebuilt, checked and published.",
    executor_def=dg.in_process_executor,
    tags=WRITER_TAGS,
)

inbox_load = dg.define_asset_job(
    "inbox_load",
    selection=FILE_SOURCES | TRANSFORM_AND_PUBLISH,
    description="Files dropped in the inbox (Husbanken, programme reports, KMD survey, programme list, "
    "follow-up register edits): import, rebuild, check, publish.",
    executor_def=dg.in_process_executor,
    tags=WRITER_TAGS,
)

husbanken_monthly = dg.define_asset_job(
    "husbanken_monthly",
    selection=MONTHLY_SOURCES | dg.AssetSelection.assets(["published_warehouse"]),
    description="Husbanken's monthly series for one month: load from the landing zone and publish "
    "(staging views show the month at once; marts follow at the next yearly run).",
    executor_def=dg.in_process_executor,
    tags=WRITER_TAGS,
)

ALL_JOBS = [full_pipeline, kostra_release, annual_analysis, inbox_load, husbanken_monthly]
