"""Serving after publication: the marts in PostgreSQL for BI, and Parquet/CSV exports with a manifest.
Thin wrappers: the work is in orchestration/serve/. Both read the published warehouse read-only."""

import dagster as dg

from orchestration import settings
from orchestration.assets.publish import published_warehouse
from orchestration.resources import WarehouseResource


@dg.asset(
    key=["postgres_marts"],
    group_name="serve",
    deps=[published_warehouse],
    kinds={"postgres"},
    output_required=False,
    description="Every mart copied to the PostgreSQL database named by BOLIGSOSIAL_POSTGRES_URL (schema marts, "
                "swapped in one transaction); skipped when the variable is unset.",
)
def postgres_marts(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    from orchestration.serve.postgres import publish_marts

    url = settings.postgres_url()
    if url is None:
        context.log.info("PostgreSQL publication skipped: BOLIGSOSIAL_POSTGRES_URL is not set "
                         "(postgresql://user:password@host:5432/database publishes the marts there)")
        return
    publication = publish_marts(url, warehouse.published(), log=context.log.debug)
    context.log.info(f"published {len(publication.tables)} marts to {publication.target} "
                     f"(schema {publication.schema}) in {publication.seconds:.1f} s")
    yield dg.MaterializeResult(metadata={
        "target": publication.target, "schema": publication.schema,
        "rows": dg.MetadataValue.json(publication.tables),
        "published_at": publication.published_at.isoformat()})


@dg.asset(
    key=["exports"],
    group_name="serve",
    deps=[published_warehouse],
    kinds={"parquet", "csv"},
    description="Parquet for every mart, CSV (also in a Norwegian-Excel variant) for the report tables and "
                "manifest.json, in BOLIGSOSIAL_EXPORTS (default: `exports/` beside the warehouse).",
)
def exports(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    from orchestration.serve.exports import write_exports

    out_dir = settings.exports_dir()
    manifest = write_exports(warehouse.published(), out_dir, log=context.log.debug)
    context.log.info(f"exports written to {out_dir} ({len(manifest['tables'])} marts, manifest.json)")
    return dg.MaterializeResult(metadata={
        "path": str(out_dir), "synthetic": manifest["synthetic"],
        "rows": dg.MetadataValue.json({t["name"]: t["rows"] for t in manifest["tables"]})})
