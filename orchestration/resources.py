"""Dagster resources: the warehouse a run builds in, and dbt."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from orchestration import settings
from orchestration.warehouse import WarehouseBuild


class WarehouseResource(dg.ConfigurableResource):
    """Where the published warehouse lives; each run builds in a private copy (see warehouse.py)."""

    published_path: str = ""

    def published(self) -> Path:
        return Path(self.published_path) if self.published_path else settings.warehouse_path()

    def build(self, context) -> WarehouseBuild:
        # Asset contexts expose run_id; asset-check contexts only through their op context.
        run_id = getattr(context, "run_id", None) or context.op_execution_context.run_id
        return WarehouseBuild(self.published(), run_id)
