"""Run the declarative Great Expectations suites in `expectations/` against warehouse tables.

GX 1.x has no working DuckDB datasource and no maintained Dagster integration, so a check reads its
table (or a frame built from it, see `frames.py`) read-only into pandas and validates it with an
ephemeral GX context. GX is imported here, never on the definitions' import path: its import takes seconds.

A suite file (YAML) says:

    name: skjema13_consistency               # unique; the Dagster check is `gx_<name>`
    table: intermediate.int_kostra_values_latest_release    # what the suite checks (reported in quality.check_results)
    severity: WARNING                        # ERROR blocks publication, WARNING publishes and reports
    asset: [intermediate/int_kostra_values_latest_release]  # optional: the Dagster asset(s) the check may attach to
    requires: [raw.husbanken_instruments]    # optional: further tables; missing → "skipped: … not present"
    frame: {builder: kostra_wide, params: {…}}   # optional: {sql: …} or a builder in frames.py;
                                             # default `select * from <table>`
    schema: {municipality_code: VARCHAR, …}  # optional: DuckDB column types, checked as a GX expectation
    expectations:
      - id: tilvisning_negative              # optional; the finding kind (default <suite>.<expectation>)
        type: expect_column_values_to_be_between
        kwargs: {column: tilvisningsboliger, min_value: 0}
        where: 'year >= 2010'                # optional pandas row condition
        finding: {measure: …, observed: <column>, expected: <column>, message: "…{column}…"}
    annotations:                             # optional: rows recorded as INFO findings, never a failure
      - {id: …, where: '…', finding: {…}}

`${section.key}` anywhere in a suite is replaced with the value from `config/quality.yaml`.
Extra suite directories (tests, local experiments) come from `BOLIGSOSIAL_EXTRA_EXPECTATIONS`
(os.pathsep-separated).
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import yaml

from orchestration import settings

log = logging.getLogger(__name__)

QUALITY_CONFIG_PATH = settings.CONFIG_DIR / "quality.yaml"
SEVERITIES = ("ERROR", "WARNING")
_PLACEHOLDER = re.compile(r"\$\{([A-Za-z0-9_.]+)\}")


# ------------------------------------------------------------------------------------------ config


def load_quality_config(path: Path | None = None) -> dict:
    """`config/quality.yaml` (env BOLIGSOSIAL_QUALITY_CONFIG overrides the path)."""
    env = os.environ.get("BOLIGSOSIAL_QUALITY_CONFIG")
    config_path = Path(path) if path else Path(env) if env else QUALITY_CONFIG_PATH
    return yaml.safe_load(config_path.read_text(encoding="utf-8")) or {}


def config_value(config: dict, dotted: str) -> Any:
    node: Any = config
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            raise KeyError(dotted)
        node = node[part]
    return node


def resolve_placeholders(node: Any, config: dict, where: str = "") -> Any:
    """Replace `${a.b}` by the config value; a string that is only a placeholder keeps the value's type."""
    if isinstance(node, dict):
        return {k: resolve_placeholders(v, config, where) for k, v in node.items()}
    if isinstance(node, list):
        return [resolve_placeholders(v, config, where) for v in node]
    if isinstance(node, str) and "${" in node:
        def lookup(name: str) -> Any:
            try:
                return config_value(config, name)
            except KeyError:
                raise ValueError(f"{where}: ${{{name}}} is not set in config/quality.yaml") from None

        whole = _PLACEHOLDER.fullmatch(node.strip())
        if whole:
            return lookup(whole.group(1))
        text = _PLACEHOLDER.sub(lambda m: str(lookup(m.group(1))), node)
        try:  # "-${a.b}" with a.b = 0.25 is the number -0.25, not a string
            number = float(text)
        except ValueError:
            return text
        return int(number) if number.is_integer() and re.fullmatch(r"-?\d+", text.strip()) else number
    return node


# ------------------------------------------------------------------------------------------- suites


@dataclass
class Suite:
    name: str
    table: str                      # schema.table in the warehouse
    severity: str                   # ERROR blocks publication, WARNING publishes and reports
    expectations: list[dict]
    description: str = ""
    path: Path | None = None
    asset: list[str] = field(default_factory=list)   # candidate Dagster asset keys ("schema/name")
    requires: list[str] = field(default_factory=list)
    frame: dict | None = None
    schema: dict[str, str] | None = None
    annotations: list[dict] = field(default_factory=list)


@dataclass
class SuiteResult:
    suite: Suite
    success: bool
    evaluated: int
    failed: list[dict] = field(default_factory=list)
    rows: int = 0
    findings: list[dict] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)      # finding kinds this run evaluated (resolution scope)
    skipped: str | None = None                           # "skipped: <table> not present"
    notes: list[str] = field(default_factory=list)
    unexpected: int = 0


def expectation_dirs() -> list[Path]:
    dirs = [settings.EXPECTATIONS_DIR]
    extra = os.environ.get("BOLIGSOSIAL_EXTRA_EXPECTATIONS", "")
    dirs += [Path(p).expanduser().resolve() for p in extra.split(os.pathsep) if p.strip()]
    return dirs


def load_suites(directory: Path | list[Path] | None = None, config: dict | None = None) -> list[Suite]:
    directories = ([directory] if isinstance(directory, Path) else directory) if directory else expectation_dirs()
    config = load_quality_config() if config is None else config
    suites: list[Suite] = []
    for base in directories:
        for path in sorted(Path(base).rglob("*.yml")):
            suites.append(parse_suite(yaml.safe_load(path.read_text(encoding="utf-8")), config, path))
    names = [s.name for s in suites]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"duplicate suite names in {', '.join(map(str, directories))}: {duplicates}")
    return suites


def parse_suite(spec: dict, config: dict, path: Path | None = None) -> Suite:
    where = str(path or spec.get("name"))
    spec = resolve_placeholders(spec, config, where)
    for key in ("name", "table", "expectations"):
        if key not in spec:
            raise ValueError(f"{where}: suite needs `{key}`")
    severity = str(spec.get("severity", "ERROR")).upper()
    if severity not in SEVERITIES:
        raise ValueError(f"{where}: severity must be ERROR or WARNING, not {severity!r}")
    if len(spec["table"].split(".")) != 2:
        raise ValueError(f"{where}: table must be schema.table, not {spec['table']!r}")
    asset = spec.get("asset") or []
    return Suite(
        name=spec["name"], table=spec["table"], severity=severity, expectations=list(spec["expectations"] or []),
        description=spec.get("description", ""), path=path,
        asset=[asset] if isinstance(asset, str) else list(asset),
        requires=list(spec.get("requires") or []), frame=spec.get("frame"), schema=spec.get("schema"),
        annotations=list(spec.get("annotations") or []),
    )


# --------------------------------------------------------------------------------------------- GX


def _camel(name: str) -> str:
    return "".join(part[:1].upper() + part[1:].lower() for part in name.split("_"))


_context = None


def _gx_context():
    """One ephemeral context per process, progress bars off (they flood the run log)."""
    global _context
    if _context is None:
        os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig

        for name in ("great_expectations", "great_expectations.core", "great_expectations.data_context",
                     "great_expectations.data_context.data_context.ephemeral_data_context",
                     "great_expectations.data_context.data_context.abstract_data_context"):
            logging.getLogger(name).setLevel(logging.ERROR)
        _context = gx.get_context(mode="ephemeral")
        _context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return _context


def _gx_results(frame: pd.DataFrame, suite_name: str, specs: list[dict]) -> list:
    """Validate `frame` against expectation specs; GX results in spec order (COMPLETE result format)."""
    import great_expectations as gx

    context = _gx_context()
    source_name = f"pandas_{suite_name}"
    try:
        source = context.data_sources.get(source_name)
    except Exception:  # noqa: BLE001 - GX raises several types for "not found"
        source = context.data_sources.add_pandas(source_name)
    try:
        asset = source.get_asset(suite_name)
    except Exception:  # noqa: BLE001
        asset = source.add_dataframe_asset(suite_name)
    try:
        batch_definition = asset.get_batch_definition("whole")
    except Exception:  # noqa: BLE001
        batch_definition = asset.add_batch_definition_whole_dataframe("whole")
    batch = batch_definition.get_batch(batch_parameters={"dataframe": frame})
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


def validate_table(con: duckdb.DuckDBPyConnection, suite: Suite) -> SuiteResult:
    frame = con.execute(f"select * from {suite.table}").df()
    return validate_frame(frame, suite)


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


# --------------------------------------------------------------------------------------- findings


def as_float(value: Any) -> float | None:
    """A number, or None for missing, NaN and anything that is not one."""
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    text = str(value).strip()
    return text or None


def _year(value: Any) -> int | None:
    number = as_float(value)
    return int(number) if number is not None else None


def finding_id(kind: str, municipality: str | None, year: int | None, measure: str | None) -> str:
    """Stable and readable: `kind:municipality:year:measure`, `-` for a part that does not apply."""
    return ":".join([kind, municipality or "-", str(year) if year is not None else "-", measure or "-"])


class _Row(dict):
    def __missing__(self, key: str) -> str:
        return "–"


def _format_message(template: str, row: dict) -> str:
    values = _Row({k: (str(_year(v)) if "year" in k and _year(v) is not None else _fmt(v)) for k, v in row.items()})
    try:
        return template.format_map(values)
    except (ValueError, IndexError):
        return template


def _fmt(value: Any) -> Any:
    """Numbers in messages as in the digest: Norwegian style (`1 109`, `-55,6`)."""
    from orchestration.alerts import format_number

    number = as_float(value) if not isinstance(value, (str, bool)) else None
    if number is not None:
        return format_number(round(number) if abs(number) >= 100 else number)
    return "–" if value is None else value


def _row_finding(row: dict, spec: dict, kind: str, severity: str, default_column: str | None) -> dict:
    f = spec or {}
    municipality = _text(row.get(f.get("municipality", "municipality_code")))
    year = _year(row.get(f.get("year", "year"))) if f.get("year", "year") else None
    measure = f.get("measure") or _text(row.get(f.get("measure_column", "measure"))) or default_column
    observed_col = f.get("observed", default_column)
    observed = as_float(row.get(observed_col)) if observed_col else None
    expected = as_float(row.get(f["expected"])) if f.get("expected") else None
    if f.get("deviation"):
        deviation = as_float(row.get(f["deviation"]))
    else:
        deviation = observed - expected if observed is not None and expected is not None else None
    if f.get("relative"):
        relative = as_float(row.get(f["relative"]))
    else:
        relative = deviation / expected if deviation is not None and expected not in (None, 0) else None
    message = _format_message(f.get("message", ""), row) if f.get("message") else ""
    return {
        "finding_id": finding_id(kind, municipality, year, measure),
        "kind": kind,
        "severity": (f.get("severity") or severity).upper(),
        "municipality_code": municipality,
        "year": year,
        "measure": measure,
        "observed": observed,
        "expected": expected,
        "deviation": deviation,
        "relative_deviation": relative,
        "message": message,
    }


def _kind(suite: Suite, spec: dict) -> str:
    return spec.get("id") or (spec.get("finding") or {}).get("kind") or \
        f"{suite.name}.{spec['type'].removeprefix('expect_')}"


# ------------------------------------------------------------------------------------------ running


def relation_exists(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    schema, _, table = name.partition(".")
    row = con.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?", [schema, table]
    ).fetchone()
    return bool(row and row[0])


def run_suite(con: duckdb.DuckDBPyConnection, suite: Suite, config: dict | None = None) -> SuiteResult:
    """Build the suite's frame, validate it with GX and turn every unexpected row into a finding."""
    from orchestration.quality import frames

    config = load_quality_config() if config is None else config
    max_findings = int(config_value(config, "findings.max_per_expectation"))
    for name in [suite.table, *suite.requires]:
        if not relation_exists(con, name):
            return SuiteResult(suite, True, 0, skipped=f"skipped: {name} not present")

    notes: list[str] = []
    if suite.frame and suite.frame.get("builder"):
        built = frames.build(suite.frame["builder"], con, config, **(suite.frame.get("params") or {}))
        if isinstance(built, str):  # a builder may decline: "skipped: …"
            return SuiteResult(suite, True, 0, skipped=built)
        frame = built
        notes += list(frame.attrs.get("notes", []))
    elif suite.frame and suite.frame.get("sql"):
        frame = con.execute(suite.frame["sql"]).df()
    else:
        frame = con.execute(f"select * from {suite.table}").df()
    frame = frame.reset_index(drop=True)

    specs: list[dict] = []
    spec_frames: list[pd.DataFrame] = []
    if suite.schema:
        specs.append(_schema_spec(suite))
        spec_frames.append(_schema_frame(con, suite))
    for spec in suite.expectations:
        missing = [c for c in _columns_of(spec) if c not in frame.columns]
        if missing:
            notes.append(f"{_kind(suite, spec)}: not evaluated, column(s) {', '.join(missing)} not present")
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
            kind = _kind(suite, spec)
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
                    findings.append(_row_finding(row, finding_spec, kind, suite.severity, default_column))
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
            findings.append(_row_finding(row, spec, kind, "INFO", None))

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
