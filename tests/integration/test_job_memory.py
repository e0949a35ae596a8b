"""A job's steps share one process (DuckDB has one writer), so what a step frees must go back to the system
before the next step runs (issue 19). A real Dagster run of a writer job's shape, a step that builds and drops
≈ 200 MiB of pandas text (Arrow-backed, as the loads' and checks' frames are)."""

from __future__ import annotations

import subprocess
import sys

# In a child process: the resident set of a pytest worker says nothing about one run.
RUN = r"""
import dagster as dg, numpy as np, pandas as pd
from orchestration import jobs

def rss_mib():
    return int(open("/proc/self/statm").read().split()[1]) * 4096 // 2**20

seen = {}

@dg.asset
def big_frame():
    frame = pd.DataFrame({"text": pd.array(np.char.add("kommune ", np.arange(4_000_000).astype(str)), dtype="str")})
    seen["with_frame"] = rss_mib()
    del frame

job = jobs._writer_job("memory_probe", dg.AssetSelection.assets(big_frame), "probe")
defs = dg.Definitions(assets=[big_frame], jobs=[job])
before = rss_mib()
assert defs.resolve_job_def("memory_probe").execute_in_process(instance=dg.DagsterInstance.ephemeral()).success
print(before, seen["with_frame"], rss_mib())
"""


def test_a_step_hands_back_what_it_freed():
    out = subprocess.run([sys.executable, "-c", RUN], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    before, with_frame, after = map(int, out.stdout.split()[-3:])
    assert with_frame - before > 150, f"the probe frame took only {with_frame - before} MiB"
    assert after - before < 60, f"after the run {after - before} MiB of the step's {with_frame - before} MiB stay"
