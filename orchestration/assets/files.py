"""File sources: Husbanken exports, the programme reports, the KMD survey and the programme list.

Each asset imports its inbox sub-folder: files are landed as received (kept once), validated, loaded
into `raw.<table>` with provenance, or rejected as a whole with file, row and column named. A rejected
file never fails the run (earlier good data stays); it is reported in the metadata and by the
`files_accepted` check. Read files leave the data team's inbox: the landing zone has them now. The demo
inbox (data/demo/inbox) is read in demo mode but never emptied.
"""

import dagster as dg

from orchestration.assets.quality import start_validation_process
from orchestration.ingest.files.inbox import import_inboxes
from orchestration.partitions import monthly_partitions
from orchestration.resources import WarehouseResource
from orchestration.warehouse import relation_exists

SOURCES = {
    "husbanken_instruments": ("husbanken", "Husbanken's instrument statistics (startlån, tilskudd, bostøtte …)"),
    "programme_report_answers": ("programme_reports", "The programme municipalities' yearly reports, every answer"),
    "kmd_survey": ("kmd_survey", "The KMD survey «Bruk av kommunale boliger» per municipality"),
    "programme_municipalities": ("programme_list", "The programme municipalities with programme and validity"),
}


def _file_asset(table: str, module_name: str, description: str) -> dg.AssetsDefinition:
    # The importer writes the append-only history table and the `_current` view staging reads.
    specs = [
        dg.AssetSpec(["raw", table], group_name="raw_files", kinds={"duckdb", "python"},
                     description=f"{description}; every received row, append-only, with provenance."),
        dg.AssetSpec(["raw", f"{table}_current"], group_name="raw_files", kinds={"duckdb"},
                     deps=[dg.AssetKey(["raw", table])],
                     description=f"{description}; the rows of the latest file per period (corrections applied)."),
    ]

    @dg.multi_asset(name=f"import_{table}", specs=specs,
                    check_specs=[dg.AssetCheckSpec("files_accepted", asset=["raw", table])])
    def _asset(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
        with warehouse.build(context).connect() as con:
            reports = import_inboxes(con, module_name, log=context.log.info, warn=context.log.warning)
        start_validation_process(context)
        loaded = [o.file for r in reports for o in r.loaded]
        rejected = {o.file: o.messages for r in reports for o in r.rejected}
        yield dg.MaterializeResult(asset_key=["raw", table], metadata={
            "files_loaded": dg.MetadataValue.json(loaded),
            "rows_loaded": sum(r.rows_loaded for r in reports),
            "files_rejected": dg.MetadataValue.json(rejected),
        })
        yield dg.MaterializeResult(asset_key=["raw", f"{table}_current"])
        yield dg.AssetCheckResult(
            asset_key=["raw", table], check_name="files_accepted", passed=not rejected,
            severity=dg.AssetCheckSeverity.WARN, metadata={"rejected": dg.MetadataValue.json(rejected)},
            description="Every file read this run was valid; a rejected one names file, row and column.",
        )

    return _asset


file_assets = [_file_asset(table, module_name, text) for table, (module_name, text) in SOURCES.items()]


@dg.asset(key=["raw", "husbanken_monthly"], group_name="raw_monthly", kinds={"duckdb", "python"},
          partitions_def=monthly_partitions,
          check_specs=[dg.AssetCheckSpec("month_present", asset=["raw", "husbanken_monthly"])],
          description="Husbanken's monthly series (statlig bostøtte) for one month: imports the Husbanken inbox "
          "and confirms the month arrived.")
def husbanken_monthly(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    month = context.partition_key[:7]
    with warehouse.build(context).connect() as con:
        import_inboxes(con, "husbanken", log=context.log.info, warn=context.log.warning)
        rows = con.execute(
            "select count(*) from raw.husbanken_instruments_current where grain = 'month' and period = ?", [month]
        ).fetchone()[0] if relation_exists(con, "raw.husbanken_instruments_current") else 0
    yield dg.MaterializeResult(metadata={"month": month, "rows": rows})
    yield dg.AssetCheckResult(check_name="month_present", passed=rows > 0, severity=dg.AssetCheckSeverity.WARN,
                              metadata={"rows": rows},
                              description=f"Husbanken's monthly rows for {month} are in the warehouse.")

