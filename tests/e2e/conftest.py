"""The session's shared demo warehouse; the helpers around it are in shared_warehouse.py."""

from __future__ import annotations

import fcntl
import os
import shutil

import pytest
from shared_warehouse import REGISTER_HEADER, DemoWarehouse, RunSummary, as_reported_from_file, demo_env


@pytest.fixture(scope="session")
def demo_warehouse(tmp_path_factory) -> DemoWarehouse:
    """`make demo` once per session into a temporary directory; hand out read-only connections or copies.

    Under pytest-xdist (`make test` runs two workers) the workers share one build: the first to ask builds
    it under a file lock in the session's common temporary folder, the other waits and reads the same files."""
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # the folder all workers' temporary folders live in
    base = root / "demo_warehouse"
    with open(root / "demo_warehouse.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not RunSummary.path(base).exists():
            shutil.rmtree(base, ignore_errors=True)  # a build that failed in another worker
            _build(base)
    return DemoWarehouse(base=base, run=RunSummary.load(base))


def _build(base) -> None:
    from orchestration.runner import run_pipeline
    from tools.demo_data.world import DemoWorld

    (base / "followup").mkdir(parents=True)
    # One follow-up already registered (deadline ahead), so the first run joins the register to a finding.
    drop_2022 = sorted(as_reported_from_file(DemoWorld().wheelchair_drop_codes, 2022))
    registered = f"yoy_drop:{drop_2022[0]}:2022:dwellings_wheelchair"
    (base / "followup" / "register.csv").write_text(
        REGISTER_HEADER + f"{registered},contacted,,Husbanken,2099-12-31,\n", encoding="utf-8")
    with demo_env(base):
        result = run_pipeline(quiet=True)
    assert result.success, [e.message for e in result.all_events if e.is_step_failure]
    RunSummary.of(result, registered).save(base)  # written last: its presence says the build is complete
