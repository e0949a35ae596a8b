"""Memory hygiene (issue 19): the pipeline's steps share one process and dbt runs beside it, so what a step
freed must go back to the system before the next step, and above all before dbt starts. The same holds in
the checks' process (quality/worker.py) after each validation.

- `return_freed_memory` runs after every validation and after every step that grew the process (the jobs'
  hooks, `return_freed_memory_if_grown`): a full collection first (GX's validation objects hold the
  validated frame in reference cycles, which only a full collection frees: the raw SSB check's ≈ 130 MiB
  otherwise stayed resident until the collector's own schedule), then Arrow's and glibc's allocators hand
  back the pages they kept for reuse (Arrow's allocator is the system one: orchestration/__init__.py).
- A step that grew the process by less than `WORTH_RETURNING_MIB` since memory was last handed back is left
  alone: most steps (the checks, which validate in GX's process) allocate little, and a full collection
  costs ≈ 35 ms with a run's objects, 1.3 s over a cold run's 35 steps (as measured, before the checks of a
  step became one step), for a few MiB back. So the process keeps at most that much above where the last
  return left it.
- `exclude_from_collection` moves what lives as long as the process (the definitions; GX's modules and
  context in the checks' process) out of the collector's reach, so that a collection costs ≈ 0.04 s
  instead of ≈ 0.3 s. Never call it inside a step: objects frozen are still freed when no longer referenced,
  but a cycle among them waits for `unfreeze` at exit.
"""

from __future__ import annotations

import atexit
import ctypes
import gc
import os
import sys

try:
    _LIBC = ctypes.CDLL("libc.so.6")
except OSError:  # not glibc: nothing to trim
    _LIBC = None

WORTH_RETURNING_MIB = 32
_PAGE_MIB = os.sysconf("SC_PAGE_SIZE") / 2**20
_resident_after_return: float | None = None


def resident_mib() -> float | None:
    """The process's resident set; None where there is no /proc (then every step hands back)."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * _PAGE_MIB
    except (OSError, ValueError, IndexError):
        return None


def return_freed_memory() -> None:
    global _resident_after_return
    gc.collect()
    if "pyarrow" in sys.modules:
        sys.modules["pyarrow"].default_memory_pool().release_unused()
    if _LIBC is not None:
        _LIBC.malloc_trim(0)
    _resident_after_return = resident_mib()


def return_freed_memory_if_grown() -> None:
    """After a step: what it freed shows as growth first (pages glibc keeps for reuse, a frame in a cycle)."""
    now = resident_mib()
    if now is None or _resident_after_return is None or now - _resident_after_return >= WORTH_RETURNING_MIB:
        return_freed_memory()


_unfreeze_registered = False


def exclude_from_collection() -> None:
    """Freeze every object alive now. Call it where only long-lived objects exist (after imports)."""
    global _unfreeze_registered
    gc.collect()
    gc.freeze()
    if not _unfreeze_registered:
        # Frozen objects are not finalised by the interpreter's last collection, and DuckDB's bindings then
        # report them as leaked at exit: hand them back first.
        atexit.register(gc.unfreeze)
        _unfreeze_registered = True
