"""Great Expectations suites as Dagster asset checks on the run's warehouse copy, the findings they leave,
and the digest to the SSB working group.

- One asset check per suite in `expectations/` (`gx_<suite>`). Every check is *blocking*, so assets
  downstream wait for it; only a failure of an ERROR suite stops them (publication with it: the previous
  warehouse stays). A WARNING suite's failure publishes and reports. The checks on the assets of one step
  run as one step after it (`gx_suites_on_<step>`), so a failure stops what follows any asset of that step.
- `quality/findings` (before publication): checks every source's freshness (`freshness_<source>`, see
  `quality/freshness.py`; a stale source is a `stale_source` finding), folds the checks' findings into
  `quality.findings`, loads the follow-up register, logs what the digest will report.
  `published_warehouse` depends on it.
- `quality/digest` (after publication): retries mail an earlier run could not send, then sends the
  digest (new, worsened, resolved findings, overdue follow-ups) with `orchestration.alerts.send_digest`.

GX validates in a child process (`orchestration/quality/worker.py`); the pipeline never imports it.
"""


from collections.abc import Sequence

import dagster as dg

from orchestration.quality.config import load_quality_config
from orchestration.quality.store import REGISTER_CHECK
from orchestration.quality.suites import Suite, load_suites
from orchestration.resources import WarehouseResource

FINDINGS_KEY = dg.AssetKey(["quality", "findings"])
DIGEST_KEY = dg.AssetKey(["quality", "digest"])
PUBLISHED_KEY = dg.AssetKey(["published_warehouse"])
GX_CHECK_PREFIX = "gx_"


def _keys_of(asset) -> set[dg.AssetKey]:
    return set(getattr(asset, "keys", None) or [getattr(asset, "key")])


def _asset_keys(assets: Sequence) -> set[dg.AssetKey]:
    keys: set[dg.AssetKey] = set()
    for a in assets:
        keys |= _keys_of(a)
    return keys


def _check_name(suite: Suite) -> str:
    return f"{GX_CHECK_PREFIX}{suite.name}"


def _target_key(suite: Suite, available: set[dg.AssetKey], fallback: str) -> dg.AssetKey:
    """The first of the suite's `asset:` candidates that exists, else its table's own asset, else the fallback."""
    candidates = [*suite.asset, suite.table.replace(".", "/"), fallback]
    for candidate in candidates:
        key = dg.AssetKey(candidate.split("/"))
        if key in available:
            return key
    if available:  # the fallback is not there either: any asset upstream of publication will do
        return sorted(available, key=lambda k: k.to_user_string())[0]
    return dg.AssetKey(candidates[0].split("/"))


def _check_result(suite: Suite, asset_key: dg.AssetKey, result, log) -> dg.AssetCheckResult:
    name, table = _check_name(suite), suite.table
    severity = dg.AssetCheckSeverity.ERROR if suite.severity == "ERROR" else dg.AssetCheckSeverity.WARN
    if result.skipped:
        log.info(f"{suite.name}: {result.skipped}")
        return dg.AssetCheckResult(asset_key=asset_key, check_name=name, passed=True, severity=severity,
                                   metadata={"skipped": result.skipped, "table": table})
    if not result.success:
        summary = ", ".join(f"{f['kind']}: {f.get('unexpected_count') or 1}" for f in result.failed)
        log.warning(f"{suite.name} [{suite.severity}] on {table}: {summary}")
    return dg.AssetCheckResult(
        asset_key=asset_key,
        check_name=name,
        passed=result.success,
        severity=severity,
        metadata={
            "table": table, "rows": result.rows, "expectations": result.evaluated,
            "failed": len(result.failed), "unexpected": result.unexpected, "findings": len(result.findings),
            "failures": dg.MetadataValue.json(result.failed[:20]),
            "notes": dg.MetadataValue.json(result.notes),
            "sample_findings": dg.MetadataValue.json([f["finding_id"] for f in result.findings[:20]]),
        },
    )


def _suite_checks(step: str, targets: list[tuple[Suite, dg.AssetKey]]) -> dg.AssetChecksDefinition:
    """The suites on the assets of one step, as one step after it: each suite stays a check of its own (its
    result, history and blocking in the UI), validated through one request to GX's process. A step per suite
    cost ≈ 0.1 s of Dagster's and ≈ 40 ms for opening the file, 20 times a run (issue 19)."""
    specs = [dg.AssetCheckSpec(
        _check_name(suite), asset=key, blocking=True,  # downstream waits; an ERROR result stops it (see build_checks)
        description=f"[{suite.severity}] Great Expectations suite "
                    f"{suite.path.name if suite.path else suite.name} on {suite.table}: {suite.description}")
        for suite, key in targets]

    @dg.multi_asset_check(specs=specs, name=f"{GX_CHECK_PREFIX}suites_on_{step}", can_subset=True,
                          description=f"The Great Expectations suites on the assets of step {step}.")
    def _checks(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource):
        from orchestration.quality import worker

        selected = context.selected_asset_check_keys
        chosen = [(suite, key) for suite, key in targets if dg.AssetCheckKey(key, _check_name(suite)) in selected]
        build = warehouse.build(context)
        replies = worker.run_suites(build.ensure(), [suite for suite, _key in chosen], load_quality_config(),
                                    record_for_run=context.op_execution_context.run_id)
        errors = []
        for (suite, key), (_suite, result, error) in zip(chosen, replies):  # in the order asked
            if error is not None:  # no result for this check: the step fails when the others have theirs
                context.log.error(error)
                errors.append(error)
                continue
            yield _check_result(suite, key, result, context.log)
        if errors:
            raise RuntimeError("\n\n".join(errors))

    return _checks


def gx_checks_in_run(context: dg.AssetExecutionContext) -> bool:
    """Whether the run validates any suite (a step that materializes one asset, as tests do, may not)."""
    selected = context.run.asset_check_selection
    keys = selected if selected is not None else context.job_def.asset_layer.asset_graph.asset_check_keys
    return any(key.name.startswith(GX_CHECK_PREFIX) for key in keys)


# Runs whose SSB load has started and not succeeded yet (a failed attempt waits for its retry meanwhile).
_ssb_loading: set[str] = set()


def ssb_load_started(context: dg.AssetExecutionContext) -> None:
    _ssb_loading.add(context.run_id)


def ssb_load_done(context: dg.AssetExecutionContext) -> None:
    _ssb_loading.discard(context.run_id)
    start_validation_process(context)


def start_validation_process(context: dg.AssetExecutionContext) -> None:
    """After a load: GX's process (quality/worker.py) imports, ≈ 2.5–3 s, beside the steps that follow instead of
    when the first check asks. Never while the run's SSB load, its largest peak, is unfinished: that load runs
    first (its priority tag), but a failed attempt waits for its retry while the other loads go on."""
    if context.run_id in _ssb_loading:
        return
    if gx_checks_in_run(context):
        from orchestration.memory import return_freed_memory_if_grown
        from orchestration.quality import worker

        return_freed_memory_if_grown()  # the load's pages back first: the child grows beside what the run keeps
        worker.start()


def _steps(assets: Sequence) -> dict[dg.AssetKey, str]:
    """The step (its op's name) that materializes each executable asset."""
    return {key: a.node_def.name for a in assets if getattr(a, "is_executable", False) for key in _keys_of(a)}


def build_checks(assets: Sequence, suites: list[Suite] | None = None) -> list[dg.AssetChecksDefinition]:
    """One asset check per suite, attached to an asset that exists among `assets`. The checks on the assets of
    one step run as one step after it, so an ERROR suite that fails (or a suite that raises) fails that step,
    and what depends on any asset of the step waits, not only what depends on the suite's asset."""
    available = _asset_keys(assets)
    fallback = load_quality_config()["findings"]["fallback_asset"]
    steps = _steps(assets)
    by_step: dict[str, list[tuple[Suite, dg.AssetKey]]] = {}
    for suite in suites or load_suites():
        key = _target_key(suite, available, fallback)
        step = steps.get(key) or "__".join(key.path)  # an asset no step materializes: its own name
        by_step.setdefault(step, []).append((suite, key))
    return [_suite_checks(step, targets) for step, targets in sorted(by_step.items())]


def _freshness_specs() -> list[dg.AssetCheckSpec]:
    from orchestration.quality.freshness import load_rules, severity

    config = load_quality_config()
    return [dg.AssetCheckSpec(
        rule.check_name, asset=FINDINGS_KEY,
        description=f"[{severity(config)}] Source freshness: {rule.label} ({rule.rule} rule, "
                    "config/quality.yaml freshness). A stale source fails this check and is a stale_source "
                    "finding in the digest.")
        for rule in load_rules(config)]


def _findings_asset(deps: list[dg.AssetKey]) -> dg.AssetsDefinition:
    freshness_specs = _freshness_specs()

    @dg.asset(
        key=FINDINGS_KEY,
        group_name="quality",
        deps=deps,
        kinds={"duckdb", "python"},
        check_specs=[dg.AssetCheckSpec(
            REGISTER_CHECK, asset=FINDINGS_KEY,
            description="The follow-up register file parses: known status, deadline YYYY-MM-DD, unique finding ids. "
                        "When it does not, the previous register is kept and this check names row and column."),
            *freshness_specs],
        description="Findings of every quality check with their history (quality.findings, quality.check_results), "
                    "joined with the working group's follow-up register; written before publication.",
    )
    def quality_findings(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
        from orchestration.quality import file_findings, frames, freshness, store, worker

        # Every check of the run has run (they come before this step): GX's child goes, so its memory is
        # back before publication, the report's browser and the exports (a later check would start another).
        worker.stop()
        config = load_quality_config()
        run_id = context.run_id
        path = store.register_path()
        with warehouse.build(context).connect() as con:
            store.ensure_tables(con)
            register = store.load_register(con, path, config["followup"]["statuses"])
            if register.errors:
                context.log.error(register.message)
            else:
                context.log.info(register.message)
            store.record_register_check(con, run_id, register)  # its errors reach the digest too
            sources = freshness.evaluate_all(con, config)
            freshness.record(con, run_id, sources, config)
            for source in sources:
                (context.log.warning if source.stale and not source.skipped else context.log.info)(source.message)
            for f in file_findings.record(con, run_id):
                context.log.warning(f["message"])
            entries = store.merge_findings(con, run_id, config, frames.municipality_names(con))
            stats = con.execute(
                "select count(*) filter (where status = 'open'), count(*) filter (where status = 'resolved'), "
                "count(*) filter (where status = 'open' and severity = 'WARNING'), "
                "count(*) filter (where status = 'open' and severity = 'INFO') from quality.findings").fetchone()
            by_kind = dict(con.execute(
                "select kind, count(*) from quality.findings where status = 'open' group by 1 order by 1").fetchall())
        counts = entries.counts
        context.log.info(
            f"findings: {stats[0]} open ({stats[2]} warnings, {stats[3]} annotated breaks), {stats[1]} resolved; "
            f"to report: {counts['new']} new, {counts['worsened']} worsened, {counts['resolved']} resolved, "
            f"{counts['overdue']} overdue follow-ups")
        yield dg.MaterializeResult(metadata={
            "open": stats[0], "resolved": stats[1], "open_by_kind": dg.MetadataValue.json(by_kind),
            "digest": dg.MetadataValue.json(counts), "register_rows": register.rows,
            "register_path": str(path),
        })
        yield dg.AssetCheckResult(
            check_name=REGISTER_CHECK, passed=not register.errors, severity=dg.AssetCheckSeverity.WARN,
            metadata={"path": str(path), "message": register.message,
                      "errors": dg.MetadataValue.json(register.errors)})
        for source in sources:
            yield dg.AssetCheckResult(
                check_name=source.rule.check_name, passed=source.skipped is not None or not source.stale,
                severity=dg.AssetCheckSeverity.WARN if freshness.severity(config) != "ERROR"
                else dg.AssetCheckSeverity.ERROR,
                metadata={k: v for k, v in source.metadata().items() if v is not None})

    return quality_findings


@dg.asset(
    key=DIGEST_KEY,
    group_name="quality",
    deps=[PUBLISHED_KEY],
    kinds={"email"},
    description="The data-quality digest to the SSB working group, after publication: queued mail is retried "
                "first; an unreachable SMTP server queues the digest for the next run instead of failing.",
)
def quality_digest(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    from orchestration import alerts
    from orchestration.quality.digest import digest_for_run
    from orchestration.warehouse import open_published

    smtp = alerts.SmtpSettings.from_env()
    retried = alerts.retry_pending(smtp)
    for r in retried:
        if r.status == "sent":
            context.log.info(f"sent queued mail {r.path}")
        else:
            context.log.warning(f"queued mail still pending: {r.path} ({r.error})")
    published = warehouse.published()
    con = open_published(published)
    try:
        digest = digest_for_run(con, context.run_id, str(published))
    finally:
        con.close()
    metadata: dict = {"new": len(digest.new), "worsened": len(digest.worsened), "resolved": len(digest.resolved),
                      "overdue": len(digest.overdue),
                      "retried": dg.MetadataValue.json([{"status": r.status, "path": str(r.path), "error": r.error}
                                                        for r in retried])}
    result = alerts.send_digest(digest, smtp)
    if result is None:
        context.log.info("nothing new for the working group: no digest sent")
        metadata["delivery"] = "nothing to send"
    elif result.status == "sent":
        context.log.info(f"digest mailed via {smtp.host}:{smtp.port}")
        metadata["delivery"] = "sent"
    elif result.status == "written":
        context.log.info(f"digest written to {result.path} (SMTP not configured)")
        metadata["delivery"] = "written"
        metadata["path"] = str(result.path)
    else:
        context.log.warning(f"SMTP unreachable ({result.error}); digest queued at {result.path}, retried next run")
        metadata["delivery"] = "pending"
        metadata["path"] = str(result.path)
        metadata["error"] = result.error or ""
    return dg.MaterializeResult(metadata=metadata)


COMPLETENESS_CHECK = "completeness_vs_published"


@dg.asset_check(
    asset=dg.AssetKey(["raw", "ssb_observations"]),
    name=COMPLETENESS_CHECK,
    description="[ERROR] Completeness: cells per measure and statistics year, across the tables that serve the "
                "measure, compared with the published warehouse (config/quality.yaml completeness_vs_published). "
                "A year that lost most of a measure's cells fails, nothing is published, and the cells_lost "
                "finding is mailed (or written to the outbox) at once.",
    blocking=True,
)
def completeness_vs_published(context: dg.AssetCheckExecutionContext,
                              warehouse: WarehouseResource) -> dg.AssetCheckResult:
    from orchestration import settings
    from orchestration.quality import completeness, store
    from orchestration.warehouse import relation_exists

    config = load_quality_config().get("completeness_vs_published", {})
    level = "WARNING" if config.get("severity") == "WARNING" else "ERROR"
    severity = dg.AssetCheckSeverity.WARN if level == "WARNING" else dg.AssetCheckSeverity.ERROR
    published = settings.warehouse_path()
    before = completeness.published_cells(published)
    run_id = context.op_execution_context.run_id
    build = warehouse.build(context)
    with build.connect() as con:
        after = completeness.cells(con)
        lost = [] if before is None else completeness.losses(
            before, after, float(config.get("max_loss_share", 0.5)), int(config.get("min_cells", 1)))
        found = completeness.findings(lost, level)
        # In quality.findings like any check's: a WARNING publishes and reaches the digest the usual way,
        # and a later run that passes resolves an open cells_lost finding.
        store.record_source_check(con, run_id, COMPLETENESS_CHECK, "raw.ssb_observations", level,
                                  passed=not lost, skipped=before is None, kinds=[completeness.KIND],
                                  findings=found, details={"losses": len(lost)})
        synthetic = relation_exists(con, "raw.load_log") and bool(
            con.execute("select coalesce(bool_or(synthetic), false) from raw.load_log").fetchone()[0])
    if before is None:
        return dg.AssetCheckResult(passed=True, severity=severity, metadata={"skipped": "no published warehouse yet"})
    for loss in lost:
        context.log.error(loss.message)
    metadata = {"measure_years_compared": len(before.by_measure_year),
                "no_longer_configured": dg.MetadataValue.json(completeness.unjudged(before, after)),
                "losses": dg.MetadataValue.json([{"measure": x.measure, "tables": list(x.tables), "years": list(x.years),
                                                  "cells_before": x.before, "cells_after": x.after} for x in lost])}
    if lost and level == "ERROR":  # this build is discarded: the digest goes out now, without publishing
        delivery = completeness.alert_unpublished(found, run_id, published, synthetic)
        if delivery is not None:
            where = f" ({delivery.path})" if delivery.path else ""
            context.log.error(f"{completeness.KIND} findings sent to the working group: {delivery.status}{where}")
            metadata["digest"] = f"{delivery.status}{where}"
    return dg.AssetCheckResult(passed=not lost, severity=severity,
                               description="; ".join(loss.message for loss in lost) or None, metadata=metadata)


def build(assets: Sequence) -> tuple[list, list[dg.AssetChecksDefinition]]:
    """The quality assets and checks for a code location whose other assets are `assets`."""
    checks = build_checks(assets)
    if dg.AssetKey(["raw", "ssb_observations"]) in _asset_keys(assets):
        checks.append(completeness_vs_published)
    targets = sorted({key for c in checks for key in (spec.asset_key for spec in c.check_specs)},
                     key=lambda k: k.to_user_string())
    return [_findings_asset(targets), quality_digest], checks
