"""Run a job in-process against an ephemeral Dagster instance, one progress line per step (CLI and tests)."""

from __future__ import annotations

import logging
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
                print(f"{time.strftime('%H:%M:%S')}  ✘ {step}: {failure_message(event.step_failure_data.error)}",
                      flush=True)
            elif kind == "ASSET_CHECK_EVALUATION":
                data = event.event_specific_data
                if data.passed and not data.check_name.startswith(("gx_", "files_", "freshness")):
                    return  # passing dbt tests are counted in the dbt summary line
                warning = getattr(data.severity, "value", str(data.severity)) == "WARN"
                mark = "✔" if data.passed else "⚠" if warning else "✘"  # a warning publishes and is reported
                print(f"{time.strftime('%H:%M:%S')}    {mark} check {data.asset_key.to_user_string()}:{data.check_name}",
                      flush=True)
        elif record.levelno >= logging.INFO and step and not message.startswith(("Executing", "Finished")):
            print(f"{time.strftime('%H:%M:%S')}    {message}", flush=True)


def failure_message(error) -> str:
    """The messages of a Dagster error and its causes: after step retries the top one only says
    'Exceeded max_retries', the cause names the table and what went wrong."""
    parts = []
    while error is not None:
        message = error.message.strip()
        if message and message not in parts:
            parts.append(message)
        error = error.cause or error.context
    return " ← ".join(parts)


def run_pipeline(job_name: str = "full_pipeline", run_config: dict | None = None, quiet: bool = False,
                 tags: dict | None = None):
    """Execute a job in-process against an ephemeral instance; returns the Dagster result.

    The yearly-partitioned job runs over every statistics year unless `tags` name a partition range.
    """
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
