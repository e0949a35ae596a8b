"""A job's steps share one process (DuckDB has one writer), so what a step frees must go back to the system
before the next step runs (issue 19). A real Dagster run of a writer job's shape, a step that builds and drops
≈ 200 MiB of pandas text (Arrow-backed, as the loads' and checks' frames are)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

# In a child process: the resident set of a pytest worker says nothing about one run.
RUN = r"""
import gc, sys
import dagster as dg, numpy as np, pandas as pd
from orchestration import jobs
from orchestration.memory import resident_mib

def rss_mib():
    return int(resident_mib())

seen = {}

class Holder:  # as GX's validation objects do: the frame hangs in a reference cycle
    pass

@dg.asset
def big_frame():
    frame = pd.DataFrame({"text": pd.array(np.char.add("kommune ", np.arange(4_000_000).astype(str)), dtype="str")})
    seen["with_frame"] = rss_mib()
    if sys.argv[1] == "cycle":
        holder = Holder()
        holder.itself, holder.frame = holder, frame
        gc.collect()  # the step's many allocations age the cycle into the oldest generation, as in a check
        del holder
    del frame

job = jobs._writer_job("memory_probe", dg.AssetSelection.assets(big_frame), "probe")
defs = dg.Definitions(assets=[big_frame], jobs=[job])
before = rss_mib()
assert defs.resolve_job_def("memory_probe").execute_in_process(instance=dg.DagsterInstance.ephemeral()).success
print(before, seen["with_frame"], rss_mib())
"""


@pytest.mark.parametrize("held", ["dropped", "cycle"])
def test_a_step_hands_back_what_it_freed(held):
    out = subprocess.run([sys.executable, "-c", RUN, held], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    before, with_frame, after = map(int, out.stdout.split()[-3:])
    assert with_frame - before > 150, f"the probe frame took only {with_frame - before} MiB"
    assert after - before < 60, f"after the run {after - before} MiB of the step's {with_frame - before} MiB stay"


# Five steps that allocate next to nothing: a full collection after each would cost ≈ 35 ms a step with a run's
# objects and give back nothing, so only the first step (nothing handed back yet in this process) pays one.
SMALL_STEPS = r"""
import dagster as dg
from orchestration import jobs, memory

returns = []
full_return = memory.return_freed_memory
memory.return_freed_memory = jobs.return_freed_memory = lambda: (returns.append(1), full_return())

def small(name, deps):
    @dg.asset(name=name, deps=deps)
    def _small():
        return None
    return _small

steps = [small(f"step_{i}", [f"step_{i - 1}"] if i else []) for i in range(5)]
job = jobs._writer_job("small_steps", dg.AssetSelection.all(), "probe")
defs = dg.Definitions(assets=steps, jobs=[job])
assert defs.resolve_job_def("small_steps").execute_in_process(instance=dg.DagsterInstance.ephemeral()).success
print(len(returns))
"""


def test_steps_that_grew_the_process_little_pay_no_collection():
    out = subprocess.run([sys.executable, "-c", SMALL_STEPS], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert int(out.stdout.split()[-1]) == 1


def test_importing_the_package_first_gives_arrow_the_system_allocator_and_its_children_the_setting():
    """Arrow's own allocator keeps freed pages; dbt's process (its Python models convert through Arrow) peaked
    ≈ 34 MiB higher with it. Imported before pandas, the package sets the system allocator for itself, and the
    environment its children (dbt) inherit."""
    code = ("import os, orchestration, pandas, pyarrow; "
            "print(pyarrow.default_memory_pool().backend_name, os.environ['ARROW_DEFAULT_MEMORY_POOL'])")
    env = {k: v for k, v in os.environ.items() if k != "ARROW_DEFAULT_MEMORY_POOL"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["system", "system"]
