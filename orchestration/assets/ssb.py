"""SSB statistics as a Dagster asset: the loading is `ingest.ssb.releases`; this maps its errors onto retries."""

import dagster as dg

from orchestration import settings
from orchestration.assets import scheduled_run
from orchestration.assets.quality import ssb_load_done, ssb_load_started
from orchestration.ingest.ssb.catalogue import CatalogueMismatch
from orchestration.ingest.ssb.releases import RAW_TABLE, RejectedData, ingest
from orchestration.partitions import partition_years, yearly_partitions
from orchestration.resources import WarehouseResource


class SsbLoadConfig(dg.Config):
    reload: bool = False  # replace the window's cells even if that release was loaded before (backfills)


@dg.asset(
    key=["raw", RAW_TABLE],
    group_name="raw_ssb",
    kinds={"duckdb", "python"},
    description="Every cell of the configured SSB tables (KOSTRA, IPLOS, population), one row per cell, "
    "status symbols kept, every release kept.",
    retry_policy=dg.RetryPolicy(max_retries=2, delay=settings.step_retry_delay_seconds(),
                                backoff=dg.Backoff.EXPONENTIAL),
    partitions_def=yearly_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    # first among the loads: the run's largest memory peak is over before GX's process starts (below)
    op_tags={"dagster/priority": "1"},
)
def ssb_observations(context: dg.AssetExecutionContext, warehouse: WarehouseResource,
                     config: SsbLoadConfig) -> dg.MaterializeResult:
    years = partition_years(context)
    ssb_load_started(context)
    with warehouse.build(context).connect() as con:
        try:
            with settings.http_run(scheduled_run(context), context.log.warning):
                loaded = ingest(con, years=years, reload=config.reload, log=context.log.info,
                                run_id=context.run_id)
        except RejectedData as err:  # the retry policy is for the network, not for bad data
            raise dg.Failure(description=str(err), allow_retries=False) from err
        except CatalogueMismatch as err:  # SSB lacks configured codes: a person must fix the catalogue
            raise dg.Failure(description=str(err), allow_retries=False) from err
        except Exception as err:
            from orchestration.ingest.ssb.client import SsbQueryError

            if isinstance(err, SsbQueryError):  # a wrong query stays wrong: fail at once, no retry
                raise dg.Failure(description=str(err), allow_retries=False) from err
            raise
        total_rows = con.execute(f"select count(*) from raw.{RAW_TABLE}").fetchone()[0]
    ssb_load_done(context)
    return dg.MaterializeResult(
        metadata={"cells_loaded_this_run": sum(loaded.values()), "cells_total": total_rows,
                  "per_table": dg.MetadataValue.json(loaded), "mode": settings.source_mode()}
    )
