"""The session's shared demo warehouse; the helpers around it are in shared_warehouse.py."""

from __future__ import annotations

import pytest
from shared_warehouse import REGISTER_HEADER, DemoWarehouse, as_reported_from_file, demo_env


@pytest.fixture(scope="session")
def demo_warehouse(tmp_path_factory) -> DemoWarehouse:
    """`make demo` once per session into a temporary directory; hand out read-only connections or copies."""
    from orchestration.runner import run_pipeline
    from tools.demo_data.world import DemoWorld

    base = tmp_path_factory.mktemp("demo_warehouse")
    (base / "followup").mkdir()
    # One follow-up already registered (deadline ahead), so the first run joins the register to a finding.
    drop_2022 = sorted(as_reported_from_file(DemoWorld().wheelchair_drop_codes, 2022))
    registered = f"yoy_drop:{drop_2022[0]}:2022:dwellings_wheelchair"
    (base / "followup" / "register.csv").write_text(
        REGISTER_HEADER + f"{registered},contacted,,Husbanken,2099-12-31,\n", encoding="utf-8")
    with demo_env(base):
        result = run_pipeline(quiet=True)
    assert result.success, [e.message for e in result.all_events if e.is_step_failure]
    return DemoWarehouse(base=base, result=result, registered=registered)
