"""Dwelling registers from the inbox (`<inbox>/dwelling_register/`): a thin wrapper over the importer.

As for every file source, a file refused for personal data is neither landed nor loaded, and deleted from the
data team's inbox (the demo inbox is never emptied); loaded and rejected files leave the inbox for the landing
zone, which keeps them as received.
"""

import dagster as dg

from orchestration.assets.quality import start_validation_process
from orchestration.ingest.files.inbox import import_inboxes
from orchestration.resources import WarehouseResource

TABLE = "dwelling_register"
DESCRIPTION = "Municipal dwelling registers (one row per dwelling and tenancy; personal data refused)"


def import_registers(con, log=print, warn=None) -> list:
    """The registers' inboxes, imported as every file source's (openpyxl loads only when a run needs it)."""
    return import_inboxes(con, "dwelling_register", log=log, warn=warn)


@dg.multi_asset(
    name=f"import_{TABLE}",
    specs=[
        dg.AssetSpec(["raw", TABLE], group_name="raw_files", kinds={"duckdb", "python"},
                     description=f"{DESCRIPTION}; every received row, append-only, with provenance."),
        dg.AssetSpec(["raw", f"{TABLE}_current"], group_name="raw_files", kinds={"duckdb"},
                     deps=[dg.AssetKey(["raw", TABLE])],
                     description=f"{DESCRIPTION}; the latest file per municipality and reference year."),
    ],
    check_specs=[dg.AssetCheckSpec("files_accepted", asset=["raw", TABLE])],
)
def dwelling_register_files(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    with warehouse.build(context).connect() as con:
        reports = import_registers(con, log=context.log.info, warn=context.log.warning)
    start_validation_process(context)
    rejected = {o.file: o.messages for r in reports for o in r.rejected}
    yield dg.MaterializeResult(asset_key=["raw", TABLE], metadata={
        "files_loaded": dg.MetadataValue.json([o.file for r in reports for o in r.loaded]),
        "rows_loaded": sum(r.rows_loaded for r in reports),
        "files_rejected": dg.MetadataValue.json(rejected),
    })
    yield dg.MaterializeResult(asset_key=["raw", f"{TABLE}_current"])
    yield dg.AssetCheckResult(
        asset_key=["raw", TABLE], check_name="files_accepted", passed=not rejected,
        severity=dg.AssetCheckSeverity.WARN, metadata={"rejected": dg.MetadataValue.json(rejected)},
        description="Every register read this run was accepted; a rejected one names file, row and column, "
                    "a refused one (personal data) names the column and was not stored.")
