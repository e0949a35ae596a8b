"""Publication: swap the run's build file in as the warehouse BI reads."""


import json

import dagster as dg
import duckdb

from orchestration.assets.dbt import dbt_models
from orchestration.resources import WarehouseResource
from orchestration.warehouse import table_row_counts


class PublishConfig(dg.Config):
    # What this publication incorporates (orchestration/changes.py), set by the runner; empty: computed here
    # for a run of every asset over every year, else the earlier record is kept (the next run compares more).
    fingerprint: str = ""
    changes: str = "[]"  # why the run rebuilt what it did, for the UI


@dg.asset(
    key=["published_warehouse"],
    group_name="publish",
    deps=[dbt_models, dg.AssetKey(["quality", "findings"])],  # findings are written into the build before publication
    kinds={"duckdb"},
    description="The warehouse BI reads. Replaced atomically, only after every blocking check passed. Its data "
                "version is the fingerprint of the inputs it incorporates (meta.publication): a run whose inputs "
                "equal it does nothing.",
)
def published_warehouse(context: dg.AssetExecutionContext, warehouse: WarehouseResource,
                        config: PublishConfig) -> dg.MaterializeResult:
    from orchestration import changes

    build = warehouse.build(context)
    fingerprint = changes.Fingerprint.from_json(config.fingerprint) if config.fingerprint else None
    if (fingerprint is None and context.job_name in ("full_pipeline", "annual_analysis") and _all_years(context)
            and _every_asset(context)):
        fingerprint = changes.current()[0]
    with duckdb.connect(str(build.ensure())) as con:
        if fingerprint is not None:
            changes.record(con, fingerprint, context.run_id, config.changes)
        tables = table_row_counts(con, "marts")
    path = build.publish()
    context.log.info(f"published {path} ({len(tables)} mart tables)")
    metadata = {"path": str(path), "mart_tables": len(tables),
                "mart_rows": dg.MetadataValue.json({t[1]: t[2] for t in tables}),
                "rebuilt_because": dg.MetadataValue.json(json.loads(config.changes))}
    if fingerprint is not None:
        metadata["input_versions"] = dg.MetadataValue.json(
            {"sources": fingerprint.recordable().sources, "code": fingerprint.code,
             "dbt_nodes": len(fingerprint.dbt_nodes)})
    return dg.MaterializeResult(
        metadata=metadata,
        data_version=dg.DataVersion(fingerprint.recordable().digest) if fingerprint is not None else None)


def _all_years(context) -> bool:
    from orchestration.partitions import all_years_tags

    tags = context.run.tags
    return all(tags.get(k) == v for k, v in all_years_tags().items())


def _every_asset(context) -> bool:
    """Whether the run selected every asset of its job (a run of the whole job lists none)."""
    from orchestration.definitions import defs

    selected = context.run.asset_selection
    return not selected or set(defs.resolve_job_def(context.job_name).asset_layer.selected_asset_keys) <= set(
        selected)
