"""Run the declarative Great Expectations suites in `expectations/` against warehouse tables.

GX 1.x has no working DuckDB datasource and no maintained Dagster integration, so a check reads its
table read-only into pandas and validates it with an ephemeral GX context. GX is imported here, never
on the definitions' import path: its import takes seconds.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd
import yaml

from orchestration import settings

log = logging.getLogger(__name__)


@dataclass
class Suite:
    name: str
    table: str                      # schema.table in the warehouse
    severity: str                   # ERROR blocks publication, WARNING publishes and reports
    expectations: list[dict]
    description: str = ""
    path: Path | None = None


@dataclass
class SuiteResult:
    suite: Suite
    success: bool
    evaluated: int
    failed: list[dict] = field(default_factory=list)
    rows: int = 0


def load_suites(directory: Path | None = None) -> list[Suite]:
    directory = directory or settings.EXPECTATIONS_DIR
    suites = []
    for path in sorted(directory.rglob("*.yml")):
        spec = yaml.safe_load(path.read_text(encoding="utf-8"))
        suites.append(Suite(spec["name"], spec["table"], spec.get("severity", "ERROR").upper(),
                            spec["expectations"], spec.get("description", ""), path))
    return suites


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


_context = None


def _gx_context():
    """One ephemeral context per process, progress bars off (they flood the run log)."""
    global _context
    if _context is None:
        os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig

        _context = gx.get_context(mode="ephemeral")
        _context.variables.progress_bars = ProgressBarsConfig(globally=False)
        for name in ("great_expectations", "great_expectations.core", "great_expectations.data_context"):
            logging.getLogger(name).setLevel(logging.WARNING)
    return _context


def validate_frame(frame: pd.DataFrame, suite: Suite) -> SuiteResult:
    import great_expectations as gx

    context = _gx_context()
    source_name = f"pandas_{suite.name}"
    try:
        source = context.data_sources.get(source_name)
    except Exception:  # noqa: BLE001 - GX raises several types for "not found"
        source = context.data_sources.add_pandas(source_name)
    try:
        asset = source.get_asset(suite.name)
    except Exception:  # noqa: BLE001
        asset = source.add_dataframe_asset(suite.name)
    try:
        batch_definition = asset.get_batch_definition("whole")
    except Exception:  # noqa: BLE001
        batch_definition = asset.add_batch_definition_whole_dataframe("whole")
    batch = batch_definition.get_batch(batch_parameters={"dataframe": frame})
    gx_suite = gx.ExpectationSuite(name=suite.name)
    for spec in suite.expectations:
        expectation_class = getattr(gx.expectations, _camel(spec["type"]))
        kwargs = dict(spec.get("kwargs", {}))
        if spec.get("where"):
            kwargs["row_condition"] = spec["where"]
            kwargs["condition_parser"] = "pandas"
        gx_suite.add_expectation(expectation_class(**kwargs))
    result = batch.validate(gx_suite)
    failed = []
    for r in result.results:
        if not r.success:
            config = r.expectation_config
            failed.append({
                "expectation": config.type,
                "kwargs": {k: v for k, v in config.kwargs.items() if k not in ("batch_id",)},
                "unexpected_count": (r.result or {}).get("unexpected_count"),
                "partial_unexpected_list": (r.result or {}).get("partial_unexpected_list", [])[:10],
                "observed_value": (r.result or {}).get("observed_value"),
            })
    return SuiteResult(suite, bool(result.success), len(result.results), failed, len(frame))


def validate_table(con: duckdb.DuckDBPyConnection, suite: Suite) -> SuiteResult:
    frame = con.execute(f"select * from {suite.table}").df()
    return validate_frame(frame, suite)
