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
# Under xdist, the longest modules go first so that the two workers finish together (each runs several
# pipelines; docs/benchmarks.md, "Test suite"); the first builds the shared demo warehouse while the second,
# which needs none, runs its own. Then the rest of e2e, integration, unit, each in collection order.
LONGEST_FIRST = ("test_backfill_and_writers.py", "test_live_sources.py", "test_quality_pipeline.py",
                 "test_ssb_catalogue_live.py", "test_pipeline.py")


def pytest_configure(config):
    # dagster-dbt as the pipeline's process imports it, without dbt-core (orchestration/project.py), whichever
    # test imports it first; a test that runs dbt-core in-process (dbtRunner) still can.
    from orchestration.project import import_dagster_dbt

    import_dagster_dbt()
    if config.pluginmanager.hasplugin("xdist") and config.getoption("numprocesses", None):  # xdist's controller
        # Parse the dbt project once, before the workers start: each would otherwise find the manifest stale
        # when it first imports the definitions and write dbt_project/target/manifest.json at the same time.
        from orchestration.project import ensure_manifest

        ensure_manifest()


def pytest_collection_modifyitems(config, items):
    parallel = hasattr(config, "workerinput")  # an xdist worker (it collects; the controller does not)
    for item in items:
        kind = item.path.relative_to(TESTS_DIR).parts[0]
        if kind not in KINDS:
            raise pytest.UsageError(f"{item.nodeid}: a test lives in tests/unit, tests/integration or tests/e2e")
        item.add_marker(kind)
    # `make test` runs `-n 2 --dist loadscope`: a module stays on one worker, so its module-scoped servers
    # and warehouses are built once; the session's demo warehouse is shared by the workers
    # (tests/e2e/conftest.py). (xdist's `loadgroup` marks do not reach pytest 9's test ids.)
    if parallel:  # a stable sort: the tests of a module keep their order (the quality runs follow one another)
        def rank(item):
            name = item.path.name
            first = LONGEST_FIRST.index(name) if name in LONGEST_FIRST else len(LONGEST_FIRST)
            return first, ("e2e", "integration", "unit").index(item.path.relative_to(TESTS_DIR).parts[0])
        items.sort(key=rank)


@pytest.fixture(scope="session")
def demo_world():
    """The deterministic demo world (tools/demo_data), read only: its figures are computed once per process."""
    from tools.demo_data.world import DemoWorld

    return DemoWorld()


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
