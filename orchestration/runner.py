"""Run a job in-process against an ephemeral Dagster instance, one progress line per step (CLI and tests)."""

from __future__ import annotations

import contextlib
import json
import logging
import re
import time
from pathlib import Path

from orchestration import dbt_launcher, settings


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
                from orchestration.assets.quality import GX_CHECK_PREFIX

                data = event.event_specific_data
                if data.passed and not data.check_name.startswith((GX_CHECK_PREFIX, "files_", "freshness")):
                    return  # passing dbt tests are counted in the dbt summary line
                warning = getattr(data.severity, "value", str(data.severity)) == "WARN"
                mark = "✔" if data.passed else "⚠" if warning else "✘"  # a warning publishes and is reported
                print(f"{time.strftime('%H:%M:%S')}    {mark} check {data.asset_key.to_user_string()}:{data.check_name}",
                      flush=True)
            elif kind == "STEP_SKIPPED":
                print(f"{time.strftime('%H:%M:%S')}  ↷ {step} skipped", flush=True)
        elif message.startswith("Dependencies for step"):
            return  # Dagster lists every failed upstream output, one name per output: the summary counts them
        elif _DAGSTER_DBT_HOUSEKEEPING.match(message):
            return  # dagster-dbt's notes on its own selection and parse cache (the UI's log keeps them)
        elif record.levelno >= logging.INFO and step and not message.startswith(("Executing", "Finished")):
            print(f"{time.strftime('%H:%M:%S')}    {_DBT_SELECTION.sub(_count_selected, message)}", flush=True)


_DAGSTER_DBT_HOUSEKEEPING = re.compile(r"A dbt subsetted execution is (not )?being performed|Copying `.*partial_parse")
# `dbt build … --select <every selected model>`: a run after one change names dozens; the progress counts them
_DBT_SELECTION = re.compile(r"(--select )((?:\S+ ){10,}\S+?)(`\.?)$")


def _count_selected(match: re.Match) -> str:
    return f"{match.group(1)}<{len(match.group(2).split())} models>{match.group(3)}"

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
                 tags: dict | None = None, wait_for_lock: bool = True, command: str | None = None,
                 changed_only: bool = False, force_sources: tuple[str, ...] = ()):
    """Execute a job in-process against an ephemeral instance; returns the Dagster result.

    The yearly-partitioned job runs over every statistics year unless `tags` name a partition range.
    Every job writes the warehouse: the writer lock is taken before anything is built; another writer
    is waited for (a progress line every 10 s) or, with `wait_for_lock=False`, refused at once
    (`writer_lock.WriterLockBusy`, naming the holder).

    `changed_only`: compare the inputs with those of the last publication (orchestration/changes.py) and
    run only what depends on a change; nothing changed → an `Unchanged` result, no Dagster run at all.
    `force_sources` count as changed (a backfill's reloaded SSB years).
    """
    from orchestration import writer_lock

    if writer_lock.held(settings.warehouse_path()) is not None:  # nested (a test running a job inside a run)
        return _planned_run(job_name, run_config, quiet, tags, changed_only, force_sources)
    with writer_lock.WriterLock.for_warehouse(settings.warehouse_path()).acquire(
            command=command or f"run_pipeline {job_name}", wait=wait_for_lock,
            progress=None if quiet else (lambda line: print(f"{time.strftime('%H:%M:%S')}  {line}", flush=True))):
        return _planned_run(job_name, run_config, quiet, tags, changed_only, force_sources)


class Unchanged:
    """The result of a run that found nothing changed: nothing executed, the published file untouched."""

    success = True
    skipped = True
    run_id = None
    all_events: list = []

    def __init__(self, plan):
        self.plan = plan

    def get_asset_check_evaluations(self) -> list:
        return []

    def get_asset_materialization_events(self) -> list:
        return []


def _say(quiet: bool, line: str) -> None:
    if not quiet:
        print(f"{time.strftime('%H:%M:%S')}  {line}", flush=True)


def _planned_run(job_name: str, run_config: dict | None, quiet: bool, tags: dict | None, changed_only: bool,
                 force_sources: tuple[str, ...]):
    from orchestration import changes

    if not changed_only and not force_sources:
        return _run(job_name, run_config, quiet, tags)
    plan = changes.plan_run(force_sources=force_sources)
    if plan.nothing_changed:
        _say(quiet, "nothing changed since the last publication: no source, code or configuration moved")
        for line in changes.unchanged_reasons(plan):
            _say(quiet, f"  ↷ {line}")
        return Unchanged(plan)
    for line in plan.summary_lines():
        _say(quiet, line)
    selection, config = planned_selection(job_name, plan, tags, run_config)
    if starts_validation_with_run(selection):
        from orchestration.quality import worker

        worker.start()  # GX imports while Dagster plans the run: a small load leaves nothing else to overlap
    if selection is not None:
        _say(quiet, f"rebuilding {len(selection)} of the job's assets (the changed inputs and what depends on them)")
    return _run(job_name, config, quiet, tags, asset_selection=selection)


def starts_validation_with_run(selection) -> bool:
    """Whether a planned run (its asset keys; None: the whole job) loads a source but not SSB, whose load is the
    run's largest memory peak, and validates a GX suite: then GX's process starts with the run
    (quality/worker.py); a run that loads SSB leaves it to its loads (assets/quality.py)."""
    if selection is None:
        return False
    import dagster as dg

    from orchestration import changes
    from orchestration.assets.quality import GX_CHECK_PREFIX
    from orchestration.definitions import defs

    keys = set(selection)
    loads = {key for key in keys if key.path[0] == "raw"}
    if not loads or loads & {dg.AssetKey(list(k)) for k in changes.SOURCE_ASSETS["ssb"]}:
        return False
    checks = defs.resolve_asset_graph().get_check_keys_for_assets(keys)
    return any(check.name.startswith(GX_CHECK_PREFIX) for check in checks)


def planned_selection(job_name: str, plan, tags: dict | None, run_config: dict | None = None):
    """The assets a run of `job_name` needs for the plan's changes (None: all) and its run config, which
    tells publication what the published file will incorporate. The CLI and the schedules use it."""
    selection, record = _selection(job_name, plan, tags)
    config = dict(run_config or {})
    if selection is None or any(k.to_user_string() == "published_warehouse" for k in selection):
        ops = dict(config.get("ops", {}))
        ops["published_warehouse"] = {"config": {"fingerprint": record.to_json() if record else "",
                                                 "changes": json.dumps([str(c) for c in plan.changes][:200])}}
        config["ops"] = ops
    return selection, config


def _selection(job_name: str, plan, tags: dict | None):
    """The job's asset keys downstream of the plan's changes (None: all of them), and the fingerprint the
    publication then incorporates (the job's parts updated, the rest as recorded before)."""
    import dagster as dg

    from orchestration import changes
    from orchestration.definitions import defs
    from orchestration.partitions import all_years_tags

    job = defs.resolve_job_def(job_name)
    job_keys = set(job.asset_layer.selected_asset_keys)
    before = changes.recorded()
    all_years = not tags or dict(tags) == all_years_tags() or job.partitions_def is None
    covers_all = all_years and job_name in ("full_pipeline", "annual_analysis")
    if plan.everything:
        return None, plan.fingerprint if covers_all else before
    graph = defs.resolve_asset_graph()
    roots = {dg.AssetKey(list(k)) for k in plan.roots}
    roots |= dbt_asset_keys(plan.dbt_nodes)
    selected = downstream_closure(graph, roots) & job_keys
    # what this publication incorporates: a source only when the job loaded it for every year
    now, old = plan.fingerprint, before or plan.fingerprint
    sources = dict(old.sources)
    for name, keys in changes.SOURCE_ASSETS.items():
        if {dg.AssetKey(list(k)) for k in keys} <= job_keys and (all_years or name != "ssb"):
            sources[name] = now.sources.get(name, changes.EMPTY)
    dbt_nodes = now.dbt_nodes if any(k in job_keys for k in dbt_asset_keys(set(now.dbt_nodes))) else old.dbt_nodes
    code = dict(old.code)
    code["serve"] = now.code["serve"] if {dg.AssetKey(list(k)) for k in changes.SERVE_ASSETS} <= job_keys \
        else old.code.get("serve", "")
    return sorted(selected, key=lambda k: k.to_user_string()), changes.Fingerprint(sources, code, dbt_nodes)


def downstream_closure(graph, roots) -> set:
    """The roots, everything downstream of them, and the siblings a multi-asset that cannot be split must
    materialize with them — and again everything downstream of those (KLASS's multi-asset brings its
    crosswalk, on which most models depend), until nothing new is added."""
    import dagster as dg

    selected: set = set()
    frontier = set(roots)
    while frontier - selected:
        selected |= frontier
        frontier = set(dg.AssetSelection.assets(*selected).downstream().required_multi_asset_neighbors()
                       .resolve(graph))
    return selected


def dbt_asset_keys(unique_ids: set[str]):
    """Dagster asset keys of dbt nodes (tests stand for the models they test)."""
    import dagster as dg

    from orchestration import changes
    from orchestration.assets.dbt import LayeredTranslator
    from orchestration.project import dbt_project

    manifest = json.loads(Path(dbt_project.manifest_path).read_text(encoding="utf-8"))
    translator = LayeredTranslator()
    keys = set()
    for uid in changes.dbt_unique_ids_to_models(manifest, unique_ids):
        node = manifest["nodes"].get(uid)
        if node is not None and node["resource_type"] in ("model", "seed", "snapshot"):
            keys.add(translator.get_asset_key(node))
    return {dg.AssetKey(k.path) for k in keys}


def selection_for_reload(job_name: str, sources: tuple[str, ...] = ("ssb",)):
    """For a backfill: the job's assets downstream of the reloaded sources (plus anything else that changed),
    so only the models depending on the reloaded raw tables rebuild, and only their checks run."""
    from orchestration import changes

    plan = changes.plan_run(force_sources=sources)
    return _selection(job_name, plan, None)[0]


@contextlib.contextmanager
def _one_planned_event_per_asset_or_check():
    """What Dagster records before the first step of a run over 18 years (issue 19), cut to one event and one row
    per asset or check:
    - without this switch, one «materialization planned» event per asset and year; with it, one per asset with
      the years as a subset. Its cost, that a failed run's partitions are not marked failed, does not touch an
      ephemeral instance;
    - Dagster 1.13 gives every asset and check of a partitioned run the run's years, partitioned or not
      (`DagsterRun.get_resolved_partitions_subset_for_events` returns the run's subset before it looks at the
      partitions definition), so each check of the unpartitioned dbt models was planned as 18 rows, each with
      the whole event serialised: ≈ 0.8–1.0 s a run. Here an unpartitioned asset or check is planned
      unpartitioned, as it is then evaluated (tests/unit/test_run_events.py)."""
    from dagster._core.storage.dagster_run import DagsterRun

    resolved = DagsterRun.get_resolved_partitions_subset_for_events

    def as_partitioned_as_the_asset(run, partitions_def):
        return None if partitions_def is None else resolved(run, partitions_def)

    DagsterRun.get_resolved_partitions_subset_for_events = as_partitioned_as_the_asset
    try:
        with settings.temporary_environment({"DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS": "1"}):
            yield
    finally:
        DagsterRun.get_resolved_partitions_subset_for_events = resolved


def builds_models(job, asset_selection) -> bool:
    """Whether a run of `job` (its selection; None: all of the job) runs the dbt step."""
    from orchestration.assets.dbt import dbt_models

    keys = set(asset_selection) if asset_selection is not None else set(job.asset_layer.selected_asset_keys)
    return bool(keys & set(dbt_models.keys))


def _run(job_name: str, run_config: dict | None, quiet: bool, tags: dict | None, asset_selection=None):
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
    if builds_models(job, asset_selection):
        dbt_launcher.warm_up()  # dbt imports beside the loads (orchestration/dbt_launcher.py)
    try:
        with _one_planned_event_per_asset_or_check():
            result = job.execute_in_process(instance=dg.DagsterInstance.ephemeral(), raise_on_error=False,
                                            run_config=config, tags=tags or {}, asset_selection=asset_selection)
    finally:
        dbt_launcher.stop_warm()  # taken by the dbt step, or left by a run that stopped before it
    if not result.success:  # the published warehouse stays; the half-built copy goes
        from orchestration.warehouse import WarehouseBuild

        WarehouseBuild(settings.warehouse_path(), result.run_id).discard()
    return result
