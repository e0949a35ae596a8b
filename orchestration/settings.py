"""Paths and switches, all overridable from the environment so tests and deployments can move them."""

from __future__ import annotations

import contextlib
import contextvars
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parents[1]
CONFIG_DIR = Path(__file__).resolve().parent / "config"
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
EXPECTATIONS_DIR = PROJECT_ROOT / "expectations"
DEMO_DATA_DIR = PROJECT_ROOT / "data" / "demo"
REFERENCE_DATA_DIR = PROJECT_ROOT / "data" / "reference"


def read_yaml(path: Path | str) -> Any:
    """A YAML file of the project's (configuration, expectation suites), parsed by libyaml, PyYAML's C parser,
    where PyYAML was built with it: the same documents as `yaml.safe_load`, ≈ 8× faster (a run reads some 50)."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(Path(path).read_text(encoding="utf-8"), Loader=loader)  # noqa: S506 — a safe loader


def _path_from_env(name: str, default: Path) -> Path:
    value = os.environ.get(name)
    return Path(value).expanduser().resolve() if value else default


def warehouse_path() -> Path:
    """The published warehouse BI reads."""
    return _path_from_env("BOLIGSOSIAL_WAREHOUSE", PROJECT_ROOT / "warehouse" / "boligsosial.duckdb")


def landing_dir() -> Path:
    """Raw files exactly as received, with their provenance. Defaults beside the warehouse."""
    return _path_from_env("BOLIGSOSIAL_LANDING", warehouse_path().parent / "landing")


def inbox_dir() -> Path:
    """Where the data team drops spreadsheets, one sub-folder per source."""
    return _path_from_env("BOLIGSOSIAL_INBOX", PROJECT_ROOT / "data" / "inbox")


def outbox_dir() -> Path:
    """Digests and alerts that could not be mailed are written here."""
    return _path_from_env("BOLIGSOSIAL_OUTBOX", warehouse_path().parent / "outbox")


def followup_register_path() -> Path:
    """The SSB working group's follow-up register (a CSV they edit)."""
    return _path_from_env("BOLIGSOSIAL_FOLLOWUP_REGISTER", PROJECT_ROOT / "data" / "followup" / "register.csv")


def demo_data_dir() -> Path:
    return _path_from_env("BOLIGSOSIAL_DEMO_DATA", DEMO_DATA_DIR)


def source_mode() -> str:
    """`demo` reads the embedded demo files; `live` calls SSB and KLASS over HTTP."""
    mode = os.environ.get("BOLIGSOSIAL_SOURCE", "demo").strip().lower()
    if mode not in {"demo", "live"}:
        raise ValueError(f"BOLIGSOSIAL_SOURCE must be 'demo' or 'live', not {mode!r}")
    return mode


def ssb_api_url() -> str:
    return os.environ.get("SSB_API_URL", "https://data.ssb.no/api/pxwebapi/v2").rstrip("/")


def klass_api_url() -> str:
    return os.environ.get("KLASS_API_URL", "https://data.ssb.no/api/klass/v1").rstrip("/")


def http_retries() -> int:
    """Retries of a failing SSB/KLASS call (5xx, 429, timeouts) inside one step."""
    return int(os.environ.get("BOLIGSOSIAL_HTTP_RETRIES", "5"))


_HTTP_RUN: contextvars.ContextVar[tuple[bool, Callable[[str], None] | None] | None] = contextvars.ContextVar(
    "boligsosial_http_run", default=None)


@contextlib.contextmanager
def temporary_environment(values: dict[str, str]):
    """Within: these environment variables set (for a subprocess started inside, or a library that reads them
    then); afterwards the process's environment is as before, also in a long-lived process (daemon, tests)."""
    before = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextlib.contextmanager
def http_run(scheduled: bool, progress: Callable[[str], None] | None = None):
    """Within: HTTP clients built here use the scheduled deadline or not, and report waits to `progress`
    (the Dagster assets pass whether a schedule started the run, and the run log)."""
    token = _HTTP_RUN.set((scheduled, progress))
    try:
        yield
    finally:
        _HTTP_RUN.reset(token)


def http_progress() -> Callable[[str], None] | None:
    current = _HTTP_RUN.get()
    return current[1] if current else None


def scheduled_run() -> bool:
    """Whether this run was started by a schedule (`http_run`), else `BOLIGSOSIAL_SCHEDULED_RUN`."""
    current = _HTTP_RUN.get()
    if current is not None:
        return current[0]
    return os.environ.get("BOLIGSOSIAL_SCHEDULED_RUN", "").lower() in {"1", "true", "yes"}


def http_deadline_seconds(source: str, scheduled: bool | None = None) -> float:
    """How long one call to a source may take in all, waits for retries included.

    `BOLIGSOSIAL_<SOURCE>_DEADLINE` (e.g. BOLIGSOSIAL_SSB_DEADLINE), else `BOLIGSOSIAL_HTTP_DEADLINE`
    (interactive runs, default 180 s: a person waits for the answer) or
    `BOLIGSOSIAL_HTTP_DEADLINE_SCHEDULED` (scheduled runs, default 1800 s: nobody waits, SSB may be back).
    """
    own = os.environ.get(f"BOLIGSOSIAL_{source.upper()}_DEADLINE")
    if own:
        return float(own)
    if scheduled_run() if scheduled is None else scheduled:
        return float(os.environ.get("BOLIGSOSIAL_HTTP_DEADLINE_SCHEDULED", "1800"))
    return float(os.environ.get("BOLIGSOSIAL_HTTP_DEADLINE", "180"))


def http_backoff_seconds() -> float:
    """The first back-off wait; it doubles with each retry."""
    return float(os.environ.get("BOLIGSOSIAL_HTTP_BACKOFF", "1.0"))


def step_retry_delay_seconds() -> int:
    """Delay before Dagster retries a failed network step (after the client's own retries)."""
    return int(os.environ.get("BOLIGSOSIAL_STEP_RETRY_DELAY", "30"))


def exports_dir() -> Path:
    """Parquet/CSV exports of the marts with their manifest. Defaults beside the warehouse."""
    return _path_from_env("BOLIGSOSIAL_EXPORTS", warehouse_path().parent / "exports")


def postgres_url() -> str | None:
    """The PostgreSQL database the marts are published to (`postgresql://user:password@host:port/db`);
    unset = no PostgreSQL publication."""
    return os.environ.get("BOLIGSOSIAL_POSTGRES_URL", "").strip() or None
