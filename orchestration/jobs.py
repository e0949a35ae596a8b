"""Named jobs the data team schedules and launches by hand. Every job writes the warehouse, so every
job carries the writer tag that the instance's run queue limits to one run at a time (deploy/dagster.yaml),
and runs its steps in one process, one after another (DuckDB has a single writer). Partitioning is
inferred from the selected assets: statistics years, or months for Husbanken's monthly series."""

import dagster as dg

from orchestration.memory import return_freed_memory, return_freed_memory_if_grown

WRITER_TAGS = {"boligsosial/warehouse-writer": "true"}

SSB_SOURCES = dg.AssetSelection.groups("raw_ssb")
KLASS_SOURCES = dg.AssetSelection.groups("raw_klass", "reference")  # KLASS and the crosswalk derived from it
FILE_SOURCES = dg.AssetSelection.groups("raw_files")
MONTHLY_SOURCES = dg.AssetSelection.groups("raw_monthly")
# The models, checks, quality register and publication downstream of whatever a job loads.
TRANSFORM_AND_PUBLISH = dg.AssetSelection.groups("staging", "intermediate", "marts", "catalogue", "quality",
                                                 "publish", "serve")
EVERYTHING_YEARLY = dg.AssetSelection.all() - MONTHLY_SOURCES


# Steps share one process (the in-process executor): what a step freed goes back before the next one
# (memory.py: only after a step that grew the process; after a failure always).
@dg.success_hook(name="return_freed_memory_after_success")
def _after_success(_context: dg.HookContext) -> None:
    return_freed_memory_if_grown()


@dg.failure_hook(name="return_freed_memory_after_failure")
def _after_failure(_context: dg.HookContext) -> None:
    return_freed_memory()


def _writer_job(name: str, selection: dg.AssetSelection, description: str):
    return dg.define_asset_job(name, selection=selection, description=description,
                               executor_def=dg.in_process_executor, tags=WRITER_TAGS,
                               hooks={_after_success, _after_failure})


full_pipeline = _writer_job(
    "full_pipeline", EVERYTHING_YEARLY,
    "Every source, model, check and publication. `make demo` runs it over all statistics years.")

kostra_release = _writer_job(
    "kostra_release", SSB_SOURCES | KLASS_SOURCES | TRANSFORM_AND_PUBLISH,
    "A KOSTRA/IPLOS release for one statistics year (unrevised 15 March, revised 15 June): fetch what moved "
    "at SSB, rebuild that year's marts, check, publish.")

annual_analysis = _writer_job(
    "annual_analysis", EVERYTHING_YEARLY,
    "The yearly analysis: every source and every statistics year rebuilt, checked and published.")

inbox_load = _writer_job(
    "inbox_load", FILE_SOURCES | TRANSFORM_AND_PUBLISH,
    "Files dropped in the inbox (Husbanken, programme reports, KMD survey, programme list, follow-up register "
    "edits): import, rebuild, check, publish.")

husbanken_monthly = _writer_job(
    "husbanken_monthly", MONTHLY_SOURCES | dg.AssetSelection.assets(["published_warehouse"]),
    "Husbanken's monthly series for one month: load from the inbox and landing zone and publish (staging views "
    "show the month at once; marts follow at the next yearly run).")



@dg.op(description="The configured SSB catalogue against SSB's live metadata; loads nothing, writes a proposed "
                   "catalogue for review (same as `boligsosial sources check`).")
def ssb_sources_check_op(context: dg.OpExecutionContext):
    from orchestration.ingest.ssb.check import run

    result = run(emit=context.log.info)
    if not result.ok:
        context.log.warning(result.verification.message())
    return dg.Output(len(result.verification.gaps), metadata={
        "gaps": len(result.verification.gaps), "proposed_catalogue": str(result.proposed_path),
        "missing_tables": dg.MetadataValue.json(result.verification.missing_tables)})


@dg.job(description="Check the SSB catalogue (tables, ContentsCodes, years) against SSB's metadata without loading "
                    "anything; prints matches, gaps and label matches, writes ssb_tables.proposed.yaml.")
def ssb_sources_check():
    ssb_sources_check_op()


ALL_JOBS = [full_pipeline, kostra_release, annual_analysis, inbox_load, husbanken_monthly, ssb_sources_check]
