"""The register benchmark's two sides do the same work: at a small size its pandas peer and the dbt marts
agree row for row (the script exits 1 and says where when they differ)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_bench_registers_pandas_equals_dbt(tmp_path):
    out = tmp_path / "benchmarks.md"
    run = subprocess.run([sys.executable, str(ROOT / "scripts" / "bench_registers.py"), "--rows", "20000", "--out", str(out)],
                         capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "Same result: identical:" in run.stdout
    section = out.read_text(encoding="utf-8")
    assert section.count("## Dwelling registers") == 1 and "load + dbt run" in section
