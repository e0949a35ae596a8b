"""The suites in `expectations/`: declarative YAML, one Dagster check `gx_<name>` each.

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

import os
from dataclasses import dataclass, field
from pathlib import Path

from orchestration import settings
from orchestration.quality.config import SEVERITIES, load_quality_config, resolve_placeholders


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
            suites.append(parse_suite(settings.read_yaml(path), config, path))
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
