"""A Python child process that ends with the process that started it: GX's checks (quality/worker.py) and dbt's
warm start (dbt_launcher.py) each run in one, so that what they import never lives in the pipeline (issue 19).

The child runs `python -m <module> <args>` with its stdin a pipe from this process, and watches it: when this
process ends, however it ends, the pipe closes and the child ends too. `end` kills it rather than asking: both
children hold nothing between requests that a kill would lose, and a Python with GX or dbt loaded takes most of a
second to exit."""

from __future__ import annotations

import contextlib
import subprocess
import sys


def start(module: str, *args: str, stdout: int | None = None) -> subprocess.Popen:
    """`python -m module args`, its stdin a pipe from this process (its lifeline), its stderr this process's."""
    return subprocess.Popen([sys.executable, "-m", module, *args], stdin=subprocess.PIPE, stdout=stdout)


def running(child: subprocess.Popen | None) -> bool:
    return child is not None and child.poll() is None


def end(child: subprocess.Popen) -> None:
    """Kill the child, wait for it, and close this side of its pipes."""
    child.kill()
    child.wait()
    for pipe in (child.stdin, child.stdout):
        if pipe is not None:
            with contextlib.suppress(OSError):  # a child that died has closed its end already
                pipe.close()
