"""Shared fixtures: every test that builds a warehouse gets its own directory and environment.

Tests live by kind, and the folder gives the marker (`pytest -m unit`, `-m "unit or integration"`):
unit/ (no DuckDB file, dbt, Dagster run or server), integration/ (real DuckDB, dbt, Dagster
definitions, local HTTP/SMTP servers, on small data), e2e/ (real pipeline runs)."""

from __future__ import annotations

import os

import duckdb
import pytest
from repo_paths import TESTS_DIR
from postgres_server import postgres_server  # noqa: F401  (the session fixture, for integration and e2e)

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
# The pipeline's report asset renders ~357 pages; the suite runs the pipeline many times and renders the
# report in one test of its own (tests/e2e/test_report_browser.py).
os.environ.setdefault("BOLIGSOSIAL_REPORT", "off")
# Network retries stay real in tests, only faster: read when the definitions are imported.
os.environ.setdefault("BOLIGSOSIAL_HTTP_BACKOFF", "0.01")
os.environ.setdefault("BOLIGSOSIAL_STEP_RETRY_DELAY", "0")

KINDS = ("unit", "integration", "e2e")


def pytest_collection_modifyitems(config, items):
    parallel = config.pluginmanager.hasplugin("xdist")
    for item in items:
        kind = item.path.relative_to(TESTS_DIR).parts[0]
        if kind not in KINDS:
            raise pytest.UsageError(f"{item.nodeid}: a test lives in tests/unit, tests/integration or tests/e2e")
        item.add_marker(kind)
        if parallel:
            # With `-n 2 --dist loadgroup`: a module stays on one worker (its module-scoped servers and
            # warehouses are built once), and every user of the session's demo warehouse on the same one.
            group = "demo_warehouse" if "demo_warehouse" in item.fixturenames else item.path.name
            item.add_marker(pytest.mark.xdist_group(group))


@pytest.fixture(scope="module")
def module_env(tmp_path_factory):
    """An isolated warehouse, landing zone, inbox and outbox for one test module."""
    base = tmp_path_factory.mktemp("warehouse")
    mp = pytest.MonkeyPatch()
    mp.setenv("BOLIGSOSIAL_WAREHOUSE", str(base / "boligsosial.duckdb"))
    mp.setenv("BOLIGSOSIAL_LANDING", str(base / "landing"))
    mp.setenv("BOLIGSOSIAL_OUTBOX", str(base / "outbox"))
    mp.setenv("BOLIGSOSIAL_INBOX", str(base / "inbox"))  # never read (and empty) the checkout's own inbox
    mp.setenv("BOLIGSOSIAL_SOURCE", "demo")
    for name in ("BOLIGSOSIAL_SMTP_HOST", "SSB_API_URL", "KLASS_API_URL"):
        mp.delenv(name, raising=False)
    yield base
    mp.undo()


@pytest.fixture
def env(tmp_path):
    """For the file importers: a build warehouse connection, an inbox and a landing zone, all fresh."""
    con = duckdb.connect(str(tmp_path / "build.duckdb"))
    yield con, tmp_path / "inbox", tmp_path / "landing"
    con.close()
