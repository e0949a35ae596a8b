"""KLASS as Dagster assets: the raw structure tables and the derived municipality crosswalk (`ingest.klass.load`)."""

import dagster as dg

from orchestration import settings
from orchestration.assets import scheduled_run
from orchestration.assets.quality import start_validation_process
from orchestration.ingest.klass.load import ingest
from orchestration.ingest.klass.tables import CHANGES_TABLE, CODES_TABLE, GROUPS_TABLE
from orchestration.reference import crosswalk
from orchestration.resources import WarehouseResource

KLASS_TABLES = {
    CODES_TABLE: "KLASS 131: every municipality code valid since 2008, with its validity.",
    CHANGES_TABLE: "KLASS 131 changes since 2008 (merges, splits, renumberings).",
    GROUPS_TABLE: "KLASS 112 ↔ 131: KOSTRA group of each municipality per statistics year (the grouping on 1 January).",
}
CROSSWALK_KEY = dg.AssetKey(crosswalk.TABLE.split("."))


@dg.multi_asset(
    specs=[dg.AssetSpec(["raw", table], description=text, group_name="raw_klass", kinds={"duckdb", "python"})
           for table, text in KLASS_TABLES.items()]
    + [dg.AssetSpec(CROSSWALK_KEY, group_name="reference", kinds={"duckdb", "python"},
                    description="Every as-reported code and year mapped onto the reference structure (splits flagged, "
                    "with allocation weights).",
                    # split weights need the population SSB delivered in the same run
                    deps=[dg.AssetKey(["raw", CHANGES_TABLE]), dg.AssetKey(["raw", "ssb_observations"])])],
    retry_policy=dg.RetryPolicy(max_retries=2, delay=settings.step_retry_delay_seconds(),
                                backoff=dg.Backoff.EXPONENTIAL),
)
def klass_structure(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    with warehouse.build(context).connect() as con:
        with settings.http_run(scheduled_run(context), context.log.warning):
            counts = ingest(con, log=context.log.info)
    start_validation_process(context)
    for table in KLASS_TABLES:
        yield dg.MaterializeResult(asset_key=["raw", table],
                                   metadata={"rows_loaded_this_run": counts.get(table, 0)})
    yield dg.MaterializeResult(asset_key=CROSSWALK_KEY,
                               metadata={"rows_loaded_this_run": counts.get("municipality_crosswalk", 0)})
