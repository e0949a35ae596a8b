"""The end-to-end tests' warehouses (the session fixture is in conftest.py).

Read-only assertions share ONE demo warehouse, built once per session by the real pipeline
(`demo_warehouse`). A test that changes a warehouse (a rerun, a failed run, the quality runs that
follow one another) works on its own copy of it (`DemoWarehouse.copy_to`), or builds its own from
empty (`module_env`) when its scenario starts there.
"""

from __future__ import annotations

import contextlib
import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from orchestration import settings

# The quality tests judge source freshness on this date and start from a register holding one follow-up.
TODAY = "2026-11-23"
REGISTER_HEADER = "finding_id,status,cause,owner,deadline,note\n"
CLEARED = ("BOLIGSOSIAL_SMTP_HOST", "BOLIGSOSIAL_SMTP_PORT", "BOLIGSOSIAL_SMTP_USER", "BOLIGSOSIAL_SMTP_PASSWORD",
           "BOLIGSOSIAL_SMTP_STARTTLS", "BOLIGSOSIAL_ALERT_SENDER", "BOLIGSOSIAL_ALERT_RECIPIENTS",
           "BOLIGSOSIAL_EXTRA_EXPECTATIONS", "BOLIGSOSIAL_QUALITY_CONFIG", "BOLIGSOSIAL_DEMO_DATA",
           "SSB_API_URL", "KLASS_API_URL")


def demo_environ(base: Path) -> dict[str, str]:
    """Warehouse, landing zone, inbox, outbox and register of a demo warehouse rooted at `base`."""
    return {
        "BOLIGSOSIAL_WAREHOUSE": str(base / "boligsosial.duckdb"),
        "BOLIGSOSIAL_LANDING": str(base / "landing"),
        "BOLIGSOSIAL_OUTBOX": str(base / "outbox"),
        "BOLIGSOSIAL_INBOX": str(base / "inbox"),  # never the checkout's own inbox
        "BOLIGSOSIAL_FOLLOWUP_REGISTER": str(base / "followup" / "register.csv"),
        "BOLIGSOSIAL_SOURCE": "demo",
        "BOLIGSOSIAL_TODAY": TODAY,
        "GX_ANALYTICS_ENABLED": "false",
    }


@contextlib.contextmanager
def demo_env(base: Path) -> Iterator[pytest.MonkeyPatch]:
    """Point the pipeline at the demo warehouse rooted at `base` until the block ends."""
    mp = pytest.MonkeyPatch()
    for name, value in demo_environ(base).items():
        mp.setenv(name, value)
    for name in CLEARED:
        mp.delenv(name, raising=False)
    try:
        yield mp
    finally:
        mp.undo()


def as_reported_from_file(codes: list[str], year: int) -> set[str]:
    """The codes under which current (reference) municipalities reported in `year` (KLASS crosswalk file)."""
    import pandas as pd

    cw = pd.read_csv(settings.REFERENCE_DATA_DIR / "klass" / "municipality_crosswalk_2024.csv", dtype=str)
    cw = cw[cw.year == str(year)]
    out = set()
    for code in codes:
        out |= set(cw[cw.reference_code == code].reported_code) or {code}
    return out


@dataclass(frozen=True)
class RunSummary:
    """What the tests read of the build's Dagster result, kept as JSON beside the warehouse so that every
    pytest-xdist worker sees the same run."""

    run_id: str
    checks: dict[str, bool]  # asset check name → passed
    registered: str          # the follow-up the register held when the run read it

    @staticmethod
    def path(base: Path) -> Path:
        return base / "run.json"

    @classmethod
    def of(cls, result, registered: str) -> RunSummary:
        return cls(result.run_id, {e.check_name: e.passed for e in result.get_asset_check_evaluations()}, registered)

    def save(self, base: Path) -> None:
        self.path(base).write_text(json.dumps(self.__dict__), encoding="utf-8")

    @classmethod
    def load(cls, base: Path) -> RunSummary:
        return cls(**json.loads(cls.path(base).read_text(encoding="utf-8")))


@dataclass(frozen=True)
class DemoWarehouse:
    """The published demo warehouse of one `full_pipeline` run, and what that run was given."""

    base: Path
    run: RunSummary          # the run's id, its check results, the register it read

    @property
    def registered(self) -> str:
        return self.run.registered

    @property
    def path(self) -> Path:
        return self.base / "boligsosial.duckdb"

    def connect(self) -> duckdb.DuckDBPyConnection:
        return duckdb.connect(str(self.path), read_only=True)

    def copy_to(self, dest: Path) -> Path:
        """A private copy (warehouse, landing zone, outbox, register) for a test that changes things."""
        shutil.copytree(self.base, dest, ignore=shutil.ignore_patterns(".build", RunSummary.path(self.base).name))
        return dest
