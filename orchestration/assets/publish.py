"""Publication: swap the run's build file in as the warehouse BI reads."""


import dagster as dg
import duckdb

from orchestration.assets.dbt import dbt_models
from orchestration.resources import WarehouseResource


@dg.asset(
    key=["published_warehouse"],
    group_name="publish",
    deps=[dbt_models, dg.AssetKey(["quality", "findings"])],  # findings are written into the build before publication
    kinds={"duckdb"},
    description="The warehouse BI reads. Replaced atomically, only after every blocking check passed.",
)
def published_warehouse(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    build = warehouse.build(context)
    with duckdb.connect(str(build.ensure()), read_only=True) as con:
        tables = con.execute(
            "select schema_name, table_name, estimated_size from duckdb_tables() "
            "where schema_name = 'marts' order by table_name"
        ).fetchall()
    path = build.publish()
    context.log.info(f"published {path} ({len(tables)} mart tables)")
    return dg.MaterializeResult(
        metadata={"path": str(path), "mart_tables": len(tables),
                  "mart_rows": dg.MetadataValue.json({t[1]: t[2] for t in tables})}
    )
