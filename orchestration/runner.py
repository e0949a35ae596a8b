"""Run a job in-process against an ephemeral Dagster instance, one progress line per step (CLI and tests)."""

from __future__ import annotations

import logging
import re
import time

from orchestration import settings


class ProgressPrinter(logging.Handler):
    """Dagster's console logger at DEBUG floods the terminal; show one line per step and our own messages."""

    def emit(self, record: logging.LogRecord) -> None:
        meta = getattr(record, "dagster_meta", None) or {}
        message = meta.get("orig_message") or record.getMessage()
        event = meta.get("dagster_event")
        step = meta.get("step_key")
        if event is not None:
            kind = event.event_type_value
            if kind == "STEP_START":
                print(f"{time.strftime('%H:%M:%S')}  ▶ {step}", flush=True)
            elif kind == "STEP_SUCCESS":
                print(f"{time.strftime('%H:%M:%S')}  ✔ {step}", flush=True)
            elif kind == "STEP_FAILURE":
                # the first line only: the run's summary states the whole message once at the end
                first, *rest = failure_message(event.step_failure_data.error).splitlines() or [""]
                print(f"{time.strftime('%H:%M:%S')}  ✘ {step}: {first}" + (" (in full below)" if rest else ""),
                      flush=True)
            elif kind == "ASSET_CHECK_EVALUATION":
                data = event.event_specific_data
                if data.passed and not data.check_name.startswith(("gx_", "files_", "freshness")):
                    return  # passing dbt tests are counted in the dbt summary line
                warning = getattr(data.severity, "value", str(data.severity)) == "WARN"
                mark = "✔" if data.passed else "⚠" if warning else "✘"  # a warning publishes and is reported
                print(f"{time.strftime('%H:%M:%S')}    {mark} check {data.asset_key.to_user_string()}:{data.check_name}",
                      flush=True)
            elif kind == "STEP_SKIPPED":
                print(f"{time.strftime('%H:%M:%S')}  ↷ {step} skipped", flush=True)
        elif message.startswith("Dependencies for step"):
            return  # Dagster lists every failed upstream output, one name per output: the summary counts them
        elif record.levelno >= logging.INFO and step and not message.startswith(("Executing", "Finished")):
            print(f"{time.strftime('%H:%M:%S')}    {message}", flush=True)


# A dg.Failure wraps the message the step chose to show; its class name says nothing to the reader.
_WRAPPER = "dagster._core.definitions.events.Failure: "


def _bare(message: str) -> str:
    """The message without its qualified exception class (`pkg.module.Class: `), for comparing."""
    return re.sub(r"^(?:[A-Za-z_]\w*\.)+[A-Za-z_]\w*: ", "", message).strip()


def failure_message(error) -> str:
    """The messages of a Dagster error and its causes: after step retries the top one only says
    'Exceeded max_retries', the cause names the table and what went wrong. A cause that repeats a message
    already shown (a dg.Failure raised from the exception it describes) is left out: stated once."""
    parts: list[str] = []
    while error is not None:
        message = error.message.strip().removeprefix(_WRAPPER)
        if message and not any(_bare(message) in _bare(p) for p in parts):
            parts.append(message)
        error = error.cause or error.context
    return " ← ".join(parts)


def failure_summary(result) -> list[str]:
    """Each failed step once with its message, then how many steps were skipped because of them."""
    failed: dict[str, str] = {}
    started: set[str] = set()
    skipped: set[str] = set()
    for event in result.all_events:
        if event.is_step_start:
            started.add(event.step_key)
        if event.is_step_failure and event.step_key not in failed:
            failed[event.step_key] = failure_message(event.step_failure_data.error)
        elif event.is_step_skipped:
            skipped.add(event.step_key)
    # Steps downstream of a failure never start and leave no event of their own.
    try:
        planned = {node.name for node in result.job_def.graph.nodes}
    except AttributeError:
        planned = set()
    skipped |= planned - started
    lines = [f"step {step}: {message}" for step, message in failed.items()]
    if skipped:
        lines.append(f"{len(skipped)} step(s) skipped because a step they depend on failed")
    return lines


def run_pipeline(job_name: str = "full_pipeline", run_config: dict | None = None, quiet: bool = False,
                 tags: dict | None = None, wait_for_lock: bool = True, command: str | None = None):
    """Execute a job in-process against an ephemeral instance; returns the Dagster result.

    The yearly-partitioned job runs over every statistics year unless `tags` name a partition range.
    Every job writes the warehouse: the writer lock is taken before anything is built; another writer
    is waited for (a progress line every 10 s) or, with `wait_for_lock=False`, refused at once
    (`writer_lock.WriterLockBusy`, naming the holder).
    """
    from orchestration import writer_lock

    if writer_lock.held(settings.warehouse_path()) is not None:  # nested (a test running a job inside a run)
        return _run(job_name, run_config, quiet, tags)
    with writer_lock.WriterLock.for_warehouse(settings.warehouse_path()).acquire(
            command=command or f"run_pipeline {job_name}", wait=wait_for_lock,
            progress=None if quiet else (lambda line: print(f"{time.strftime('%H:%M:%S')}  {line}", flush=True))):
        return _run(job_name, run_config, quiet, tags)


def _run(job_name: str, run_config: dict | None, quiet: bool, tags: dict | None):
    import dagster as dg

    from orchestration.definitions import defs
    from orchestration.partitions import all_years_tags

    from dagster._loggers import colored_console_logger

    job = defs.resolve_job_def(job_name)

    @dg.logger
    def progress_logger(_init_context):
        logger = logging.getLogger("boligsosial.progress")
        logger.handlers = [] if quiet else [ProgressPrinter()]
        logger.propagate = False
        logger.setLevel(logging.DEBUG)
        return logger

    # Replace Dagster's DEBUG console logger with one line per step (the UI keeps the full event log).
    job = job.with_logger_defs({"progress": progress_logger, "console": colored_console_logger})
    config = dict(run_config or {})
    config.setdefault("loggers", {"console": {"config": {"log_level": "CRITICAL"}}, "progress": {}})
    if job.partitions_def is not None and not tags:
        tags = all_years_tags()
    result = job.execute_in_process(instance=dg.DagsterInstance.ephemeral(), raise_on_error=False,
                                    run_config=config, tags=tags or {})
    if not result.success:  # the published warehouse stays; the half-built copy goes
        from orchestration.warehouse import WarehouseBuild

        WarehouseBuild(settings.warehouse_path(), result.run_id).discard()
    return result
