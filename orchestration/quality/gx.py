"""Run a suite: build its frame (`frames.py`), validate it with Great Expectations, collect findings.

GX 1.x has no working DuckDB datasource and no maintained Dagster integration, so a check reads its
table (or a frame built from it, see `frames.py`) read-only into pandas and validates it with an
ephemeral GX context. GX is imported here, never on the definitions' import path: its import takes seconds.
Suites are described in `suites.py`.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import logging
import math
import os
import re
import sys
import types
from typing import Any

import duckdb
import pandas as pd

from orchestration.quality import frames
from orchestration.quality.config import config_value, load_quality_config
from orchestration.quality.findings import as_float, finding_id, row_finding, suite_kind
from orchestration.quality.suites import Suite, SuiteResult
from orchestration.warehouse import relation_exists

log = logging.getLogger(__name__)


def _camel(name: str) -> str:
    return "".join(part[:1].upper() + part[1:].lower() for part in name.split("_"))


_context = None

# GX imports these with its own import, for one expectation (KL divergence: a chart and scipy's entropy) and
# two distribution metrics that no suite here uses: ≈ 1 s of the checks' process start and ≈ 80 MiB of it.
# They are imported when something first reads one of their attributes instead.
IMPORTED_ON_FIRST_USE = ("scipy.stats", "altair")


class _ImportedOnFirstUse(types.ModuleType):
    """Stands in `sys.modules` for a module not imported yet; the first attribute read imports it."""

    def __getattr__(self, attr: str):  # called only for what the stand-in lacks: anything of the module's own
        name = self.__name__
        if sys.modules.get(name) is self:
            del sys.modules[name]
        module = importlib.import_module(name)
        self.__dict__.update(module.__dict__)  # those who bound the stand-in now read the module's attributes
        return getattr(module, attr)


def _import_on_first_use(names: tuple[str, ...]) -> None:
    for name in names:
        if name in sys.modules:
            continue
        spec = importlib.util.find_spec(name)
        if spec is None:  # not installed: GX's own import names it
            continue
        stand_in = _ImportedOnFirstUse(name)
        stand_in.__spec__ = spec  # the import system reads it (whether the module is still initialising)
        sys.modules[name] = stand_in


def _gx_context():
    """One ephemeral context per process, progress bars off (they flood the run log). The checks' process
    makes it when it starts (worker.py), before anything else lives there to be frozen with it (memory.py)."""
    global _context
    if _context is None:
        os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
        _import_on_first_use(IMPORTED_ON_FIRST_USE)
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig

        for name in ("great_expectations", "great_expectations.core", "great_expectations.data_context",
                     "great_expectations.data_context.data_context.ephemeral_data_context",
                     "great_expectations.data_context.data_context.abstract_data_context"):
            logging.getLogger(name).setLevel(logging.ERROR)
        _context = gx.get_context(mode="ephemeral")
        _context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return _context


_batches = None


def _frame_batches():
    """One pandas source and dataframe asset for every validation of the process. Adding and deleting a source
    per validation made the ephemeral context write its whole configuration out as YAML four times a suite:
    the demo's 20 suites took 4.3 s that way, 3.6 s now."""
    global _batches
    if _batches is None:
        source = _gx_context().data_sources.add_or_update_pandas("boligsosial_frames")
        _batches = source, source.add_dataframe_asset("frame").add_batch_definition_whole_dataframe("whole")
    return _batches


def prepare_context() -> None:
    """Import GX and make the process's context and its frames' source now."""
    _frame_batches()


def _gx_results(frame: pd.DataFrame, suite_name: str, specs: list[dict]) -> list:
    """Validate `frame` against expectation specs; GX results in spec order (COMPLETE result format)."""
    import great_expectations as gx

    source, whole_frame = _frame_batches()
    try:
        batch = whole_frame.get_batch(batch_parameters={"dataframe": frame})
        gx_suite = gx.ExpectationSuite(name=suite_name)
        for i, spec in enumerate(specs):
            expectation_class = getattr(gx.expectations, _camel(spec["type"]))
            kwargs = dict(spec.get("kwargs", {}))
            if spec.get("where"):
                kwargs["row_condition"] = spec["where"]
                kwargs["condition_parser"] = "pandas"
            # `meta` carries the spec's position, so every result maps back to its spec.
            gx_suite.add_expectation(expectation_class(**kwargs, meta={"spec_index": i}))
        result = batch.validate(gx_suite, result_format={"result_format": "COMPLETE"})
    finally:
        # GX's execution engine keeps the batches it loaded and their data: the validated frame would stay in
        # memory until the next suite (≈ 100 MiB in `make demo`, issue 19)
        batches = source.get_execution_engine().batch_manager
        batches.reset_batch_cache()
        batches.batch_data_cache.clear()
    by_index = {int((r.expectation_config.meta or {}).get("spec_index", -1)): r for r in result.results}
    missing = [i for i in range(len(specs)) if i not in by_index]
    if missing:
        raise RuntimeError(f"suite {suite_name}: GX returned no result for expectation(s) {missing}")
    return [by_index[i] for i in range(len(specs))]


def _columns_of(spec: dict) -> list[str]:
    """Columns an expectation needs in the frame (a missing one makes it "not evaluated", not a crash)."""
    if spec["type"] == "expect_column_to_exist":  # a missing column is what it checks
        return []
    kwargs = spec.get("kwargs", {})
    cols = [kwargs[k] for k in ("column", "column_A", "column_B") if k in kwargs]
    cols += list(kwargs.get("column_list", []))
    return cols


def validate_frame(frame: pd.DataFrame, suite: Suite) -> SuiteResult:
    """Validate a frame against a suite's expectations (no findings; see `run_suite` for those)."""
    frame = frame.reset_index(drop=True)
    results = _gx_results(frame, suite.name, suite.expectations)
    failed = [_failure(r) for r in results if not r.success]
    return SuiteResult(suite, not failed, len(results), failed, len(frame))


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        try:
            value = value.item()
        except (ValueError, AttributeError):
            pass
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def _failure(r) -> dict:
    config = r.expectation_config
    result = r.result or {}
    return _jsonable({
        "expectation": config.type,
        "kwargs": {k: v for k, v in config.kwargs.items() if k not in ("batch_id",)},
        "unexpected_count": result.get("unexpected_count"),
        "partial_unexpected_list": (result.get("partial_unexpected_list") or result.get("unexpected_list") or [])[:10],
        "observed_value": result.get("observed_value"),
        "exception": (r.exception_info or {}).get("exception_message") if r.exception_info else None,
    })


_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def referenced_names(suite: Suite) -> set[str]:
    """Every name the suite's expectations, conditions, findings and annotations mention, plus the columns a
    finding reads by default: a superset of the columns it uses, so a frame cut to them validates and reports
    exactly as the whole table would (no suite checks which columns a frame has; its `schema:` reads the
    catalogue)."""
    names = {"municipality_code", "year", "measure"}

    def walk(value: Any) -> None:
        if isinstance(value, str):
            names.update(_NAME.findall(value))
        elif isinstance(value, dict):
            for key, item in value.items():
                walk(key)
                walk(item)
        elif isinstance(value, (list, tuple)):
            for item in value:
                walk(item)

    walk(suite.expectations)
    walk(suite.annotations)
    return names


def run_suite(con: duckdb.DuckDBPyConnection, suite: Suite, config: dict | None = None) -> SuiteResult:
    """Build the suite's frame, validate it with GX and turn every unexpected row into a finding."""
    config = load_quality_config() if config is None else config
    max_findings = int(config_value(config, "findings.max_per_expectation"))
    for name in [suite.table, *suite.requires]:
        if not relation_exists(con, name):
            return SuiteResult(suite, True, 0, skipped=f"skipped: {name} not present")

    notes: list[str] = []
    needed = referenced_names(suite)
    if suite.frame and suite.frame.get("builder"):
        params = dict(suite.frame.get("params") or {})
        if suite.frame["builder"] in frames.READS_NEEDED_ONLY:
            params["needed"] = needed
        built = frames.build(suite.frame["builder"], con, config, **params)
        if isinstance(built, str):  # a builder may decline: "skipped: …"
            return SuiteResult(suite, True, 0, skipped=built)
        frame = built
        notes += list(frame.attrs.get("notes", []))
    elif suite.frame and suite.frame.get("sql"):
        frame = frames.read_frame(con, frames.only_needed(con, suite.frame["sql"], needed))
    else:
        frame = frames.read_frame(con, frames.only_needed(con, f"select * from {suite.table}", needed))
    frame = frame.reset_index(drop=True)

    specs: list[dict] = []
    spec_frames: list[pd.DataFrame] = []
    if suite.schema:
        specs.append(_schema_spec(suite))
        spec_frames.append(_schema_frame(con, suite))
    for spec in suite.expectations:
        missing = [c for c in _columns_of(spec) if c not in frame.columns]
        if missing:
            notes.append(f"{suite_kind(suite, spec)}: not evaluated, column(s) {', '.join(missing)} not present")
            continue
        specs.append(spec)
        spec_frames.append(frame)

    failed: list[dict] = []
    findings: list[dict] = []
    kinds: list[str] = []
    unexpected_total = 0
    # Group consecutive specs by frame so each frame is one GX batch.
    for data, group in _group_by_frame(spec_frames, specs):
        results = _gx_results(data, suite.name, group)
        for spec, r in zip(group, results):
            kind = suite_kind(suite, spec)
            kinds.append(kind)
            if r.success:
                continue
            failure = _failure(r)
            failure["kind"] = kind
            failed.append(failure)
            result = r.result or {}
            indexes = result.get("unexpected_index_list")
            unexpected_total += int(result.get("unexpected_count") or (len(indexes) if indexes else 1))
            finding_spec = dict(spec.get("finding") or {})
            default_column = (spec.get("kwargs") or {}).get("column") or (spec.get("kwargs") or {}).get("column_A")
            if indexes:
                rows = data.loc[[i for i in indexes if i in data.index][:max_findings]]
                for row in rows.to_dict("records"):
                    findings.append(row_finding(row, finding_spec, kind, suite.severity, default_column))
                if len(indexes) > max_findings:
                    notes.append(f"{kind}: {len(indexes)} unexpected rows, findings recorded for the first {max_findings}")
            else:  # a table-level expectation: one finding for the table
                observed = result.get("observed_value")
                findings.append({
                    "finding_id": finding_id(kind, None, None, finding_spec.get("measure") or default_column or suite.table),
                    "kind": kind, "severity": suite.severity, "municipality_code": None, "year": None,
                    "measure": finding_spec.get("measure") or default_column or suite.table,
                    "observed": as_float(observed) if not isinstance(observed, (list, dict)) else None,
                    "expected": None, "deviation": None, "relative_deviation": None,
                    "message": finding_spec.get("message")
                    or f"{spec['type']} failed on {suite.table}: observed {json.dumps(_jsonable(observed))[:300]}",
                })
    for annotation in suite.annotations:
        kind = annotation.get("id") or f"{suite.name}.annotation"
        kinds.append(kind)
        try:
            rows = frame.query(annotation["where"]) if len(frame) else frame
        except Exception as err:  # noqa: BLE001 - a bad condition is a suite bug: say so, do not crash the run
            notes.append(f"{kind}: annotation condition failed: {err}")
            continue
        spec = {"severity": "INFO", **(annotation.get("finding") or {})}
        for row in rows.head(max_findings).to_dict("records"):
            findings.append(row_finding(row, spec, kind, "INFO", None))

    # One finding per id (a duplicated key can produce the same id twice): keep the first.
    unique: dict[str, dict] = {}
    for f in findings:
        f["check_name"] = f"gx_{suite.name}"
        f["table_name"] = suite.table
        unique.setdefault(f["finding_id"], f)
    return SuiteResult(suite, not failed, len(specs), failed, len(frame), list(unique.values()),
                       sorted(set(kinds)), None, notes, unexpected_total)


def _group_by_frame(spec_frames: list[pd.DataFrame], specs: list[dict]):
    groups: list[tuple[pd.DataFrame, list[dict]]] = []
    for data, spec in zip(spec_frames, specs):
        if groups and groups[-1][0] is data:
            groups[-1][1].append(spec)
        else:
            groups.append((data, [spec]))
    return groups


NUMERIC_TYPES = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER",
                 "UBIGINT", "UHUGEINT", "FLOAT", "DOUBLE", "DECIMAL"}


def type_matches(actual: str | None, expected: str) -> bool:
    """`expected` is a DuckDB type, alternatives joined by `|`, or NUMERIC (any number type)."""
    if actual is None:
        return False
    base = actual.upper().split("(")[0]
    for option in (o.strip().upper() for o in expected.split("|")):
        if option == "NUMERIC" and base in NUMERIC_TYPES:
            return True
        if option == actual.upper() or option == base:
            return True
    return False


def _schema_spec(suite: Suite) -> dict:
    return {
        "id": f"schema.{suite.name}",
        "type": "expect_column_values_to_be_in_set",
        "kwargs": {"column": "type_ok", "value_set": [True]},
        "finding": {"municipality": "_none", "year": None, "measure_column": "column_name",
                    "message": "column {column_name}: type {actual_type}, expected {expected_type}"},
    }


def _schema_frame(con: duckdb.DuckDBPyConnection, suite: Suite) -> pd.DataFrame:
    schema, _, table = suite.table.partition(".")
    actual = dict(con.execute(
        "select column_name, data_type from information_schema.columns where table_schema = ? and table_name = ?",
        [schema, table]).fetchall())
    rows = [{"column_name": col, "expected_type": str(expected).upper(),
             "actual_type": actual.get(col, "(missing)").upper(),
             "type_ok": type_matches(actual.get(col), str(expected))} for col, expected in (suite.schema or {}).items()]
    return pd.DataFrame(rows, columns=["column_name", "expected_type", "actual_type", "type_ok"])
