"""Great Expectations validates in a child process of the pipeline, never in the pipeline itself (issue 19).

GX's import and context take ≈ 150 MiB that Python never hands back, and the pipeline holds everything it
imported while dbt's process builds beside it: with GX in the pipeline, the two together reached the 1 GiB
line. The child (`python -m orchestration.quality.worker`) takes a request of suites (those on one step's
assets), opens the run's build file once for them, and for each runs the suite (`gx.run_suite`), records the
result and its findings for the run (`store.record_check`) and returns the SuiteResult. The check's step opens
no connection of its own: DuckDB lets one process write or several read, and a connection opened, written and
closed per check in the step cost ≈ 0.1 s each, 20 a run.

- Starting the child takes ≈ 2.5–3 s (Python, pandas, GX). In a run with suites to validate, a load step starts
  it when done (assets/quality.py: start_validation_process), so it imports beside the steps that follow —
  but not while the run's SSB load is unfinished (it runs first among the loads, and a retry waits): the
  child never adds its ≈ 200 MiB to that step's peak (≈ 700 MiB in the pipeline). A run that loads sources
  but not SSB starts it with the run (runner.starts_validation_with_run). Else the first check starts it.
- `paused()` ends the child for the time dbt builds (the dbt step), so nothing of GX lives beside dbt while it
  builds, and starts a new one when dbt is done (the dbt step: once dbt has written its results). The child
  ends with the process that started it (its stdin closes), or with `stop()`: the findings step calls it, as no
  check of the run follows and the report's browser needs the room; a process that runs several pipelines (the
  tests) starts one again for the next run.
- Each request carries the caller's environment, so a child that outlived a run (a test's `materialize`)
  still reads the settings of the run that calls it.

A plain subprocess speaking pickles over its stdin and stdout, not multiprocessing: a spawned worker
re-imports the parent's `__main__`, which deadlocks when that is a script that runs the pipeline itself.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import pickle
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

from orchestration import child_process
from orchestration.quality.suites import Suite, SuiteResult

_child: subprocess.Popen | None = None
_lock = threading.RLock()  # the child, and a request with its replies


def _pickled(message) -> bytes:
    return pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)


def _receive(stream):
    return pickle.loads(child_process.read_message(stream))


def start() -> subprocess.Popen:
    """Start the child if none runs; returns at once (the child imports GX meanwhile, the first request waits)."""
    global _child
    with _lock:
        if _child is not None and not child_process.running(_child):
            stop()  # a child that died: its pipes closed
        if _child is None:
            # requests on its stdin, replies on its stdout; what it warns reaches the run's console
            _child = child_process.start("orchestration.quality.worker", stdout=subprocess.PIPE)
        return _child


def stop() -> None:
    global _child
    with _lock:
        child, _child = _child, None
        if child is not None:
            # between requests (the lock is held) it holds no connection and GX's context is ephemeral
            child_process.end(child)


atexit.register(stop)  # end the child before the interpreter tears down


@contextlib.contextmanager
def paused() -> Iterator[Callable[[Callable[[], bool]], None]]:
    """Around dbt's build: no child lives beside dbt's process while it builds. One that ran before dbt is
    started again when the block ends, or sooner: the block may call what it gets with a test of dbt being
    done (the dbt step: run_results.json written), and the child then imports GX while dbt's process closes
    the file and ends (≈ 1 s); it opens the file only when a check asks, after the step. A block that raises
    (dbt failed: no check follows) leaves no child, also none a test started."""
    with _lock:
        was_running = child_process.running(_child)
        stop()
    over = threading.Event()  # the block has ended: a watcher starts no child after it

    def resume_when(built: Callable[[], bool], every: float = 0.1) -> None:
        def watch() -> None:
            while not over.wait(every):
                if built():
                    with _lock:
                        if not over.is_set():
                            start()
                    return

        if was_running:
            threading.Thread(target=watch, name="gx-resume", daemon=True).start()

    try:
        yield resume_when
    except BaseException:
        with _lock:
            over.set()
            stop()
        raise
    over.set()
    if was_running:
        start()


Reply = tuple[Suite, SuiteResult | None, str | None]  # a suite, its result or why it has none


def run_suites(database: Path, suites: list[Suite], config: dict | None = None,
               record_for_run: str | None = None) -> list[Reply]:
    """`gx.run_suite` for each suite over `database` (no connection to it may be open in this process), in the
    child, through one connection; with `record_for_run`, the child also records each result for that run in
    `database` (quality.check_results). Returns (suite, result, None) for each suite validated and (suite, None,
    why) for one that raised or whose child died: a child that died is replaced for the suites after it, so
    each suite costs only itself, as when each was a step of its own."""
    replies: list[Reply] = []
    pending = list(suites)
    with _lock:  # one request and its replies at a time
        while pending:
            child = start()
            answered = 0
            try:
                request = (str(database), pending, config, record_for_run, dict(os.environ))
                child_process.write_message(child.stdin, _pickled(request))
                for suite in pending:
                    status, payload = _receive(child.stdout)
                    answered += 1
                    replies.append((suite, payload, None) if status == "ok" else
                                   (suite, None, f"Great Expectations suite {suite.name} on {suite.table}: {payload}"))
                pending = []
            except (BrokenPipeError, EOFError):
                code = child.wait()
                stop()  # a child that died (out of memory, a crash in a C extension): a new one for the rest
                suite = pending[answered]
                replies.append((suite, None, f"the Great Expectations process ended (exit code {code}) while "
                                             f"validating suite {suite.name} on {suite.table}"))
                pending = pending[answered + 1:]
            except BaseException:
                # interrupted between request and replies (a signal, Dagster ending the step): a reply left in
                # the pipe would answer the next request, so this child goes
                stop()
                raise
    return replies


def _serve() -> None:
    """The child: GX once, then one request at a time (its suites, one reply each) until stdin closes."""
    from orchestration.memory import exclude_from_collection, return_freed_memory
    from orchestration.quality import store
    from orchestration.quality.gx import prepare_context, run_suite as validate

    requests, replies = sys.stdin.buffer, os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # whatever else writes to stdout (Python, GX, DuckDB's C++) goes to the log, not the replies
    prepare_context()  # also quiets GX's loggers
    exclude_from_collection()  # GX's modules and context live as long as the child
    import duckdb

    from orchestration.warehouse import duckdb_settings

    while True:
        try:
            database, suites, config, run_id, environment = _receive(requests)
        except EOFError:
            return
        os.environ.clear()
        os.environ.update(environment)
        con = None
        for position, suite in enumerate(suites, 1):  # one connection for them all: opening costs ≈ 40 ms a time
            try:
                if con is None:
                    con = duckdb.connect(database, read_only=run_id is None, config=duckdb_settings())
                result = validate(con, suite, config)
                if run_id is not None:
                    store.record_check(con, run_id, result)
                reply = _pickled(("ok", result))
                del result
            except Exception as error:  # noqa: BLE001 — the step names it, as if it had validated itself
                import traceback

                reply = _pickled(("error", f"{type(error).__name__}: {error}\n\nin the checks' process:\n"
                                           + "".join(traceback.format_exception(error))))
                if con is not None:  # the next suite starts on a connection in no failed transaction
                    con.close()
                    con = None
            if position == len(suites) and con is not None:
                con.close()  # before the last reply: the caller may open the file, or dbt write it, next
                con = None
            child_process.write_message(replies, reply)
            del reply
            return_freed_memory()  # the validated frame, held in GX's reference cycles


if __name__ == "__main__":
    _serve()
