"""Sensors: files dropped in the inbox, tables that moved at SSB, and failed runs."""

import datetime as dt
import hashlib
import json
from pathlib import Path

import dagster as dg

from orchestration import settings
from orchestration.jobs import inbox_load, kostra_release
from orchestration.partitions import all_years_tags, yearly_partitions

INBOX_SOURCES = ("husbanken", "programme_reports", "kmd_survey", "programme_list")


def watched_files() -> dict[str, Path]:
    """Every file the inbox sensor watches, by a stable name."""
    files: dict[str, Path] = {}
    inbox = settings.inbox_dir()
    for source in INBOX_SOURCES:
        folder = inbox / source
        if folder.is_dir():
            for path in sorted(folder.iterdir()):
                if path.is_file() and not path.name.startswith((".", "~$")):
                    files[f"{source}/{path.name}"] = path
    register = settings.followup_register_path()
    if register.is_file():
        files["followup/register.csv"] = register
    return files


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dg.sensor(job=inbox_load, minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.RUNNING,
           description="One run for each new or changed file in the inbox or the follow-up register, exactly once.")
def inbox_sensor(context: dg.SensorEvaluationContext):
    seen: dict[str, str] = json.loads(context.cursor) if context.cursor else {}
    requests = []
    current: dict[str, str] = {}
    for name, path in watched_files().items():
        checksum = _sha256(path)
        current[name] = checksum
        if seen.get(name) != checksum:
            requests.append(dg.RunRequest(
                run_key=f"{name}@{checksum[:16]}",
                tags={**all_years_tags(), "boligsosial/file": name, "boligsosial/checksum": checksum[:16]},
            ))
    context.update_cursor(json.dumps({**seen, **current}, sort_keys=True))
    if not requests:
        return dg.SkipReason("no new or changed files")
    return requests


def _latest_partition(last_period: str | None) -> str:
    keys = yearly_partitions.get_partition_keys()
    if last_period and last_period[:4] in keys:
        return last_period[:4]
    return keys[-1]


@dg.sensor(job=kostra_release, minimum_interval_seconds=3600, default_status=dg.DefaultSensorStatus.RUNNING,
           description="Asks SSB (GET /tables/{id}) whether a configured table's `updated` moved; a run only then.")
def ssb_updated_sensor(context: dg.SensorEvaluationContext):
    if settings.source_mode() != "live":
        return dg.SkipReason("BOLIGSOSIAL_SOURCE is not 'live': nothing to ask SSB")
    from orchestration.ingest.ssb.releases import load_table_config
    from orchestration.ingest.ssb.client import SsbClient

    client = SsbClient(base_url=settings.ssb_api_url(), max_retries=2)
    known: dict[str, str] = json.loads(context.cursor) if context.cursor else _loaded_stamps()
    moved: dict[str, str] = {}
    partition = None
    for table in load_table_config():
        table_id = table["table_id"]
        info = client.table_info(table_id)
        changed, updated = client.changed_since(info, known.get(table_id))
        if not changed or not updated:
            continue
        moved[table_id] = updated
        if table.get("kostra"):
            partition = max(partition or "", _latest_partition(info.get("lastPeriod")))
    context.update_cursor(json.dumps({**known, **moved}, sort_keys=True))
    if not moved:
        return dg.SkipReason("no configured SSB table moved")
    # One run for everything that moved this tick: each run rebuilds and publishes the whole warehouse.
    stamp = ",".join(f"{t}@{u}" for t, u in sorted(moved.items()))
    return dg.RunRequest(
        run_key=f"ssb-{hashlib.sha256(stamp.encode()).hexdigest()[:16]}",
        partition_key=partition or _latest_partition(None),
        tags={"boligsosial/ssb_tables": ",".join(sorted(moved)), "boligsosial/ssb_updated": stamp[:250]},
    )


def _loaded_stamps() -> dict[str, str]:
    """On a first tick, what the published warehouse already holds: no run for releases loaded before."""
    import duckdb

    path = settings.warehouse_path()
    if not path.exists():
        return {}
    try:
        con = duckdb.connect(str(path), read_only=True)
        try:
            rows = con.execute("select table_id, max(updated) from raw.ssb_table_versions group by 1").fetchall()
        finally:
            con.close()
    except duckdb.Error:
        return {}
    return {table_id: updated for table_id, updated in rows}


@dg.run_failure_sensor(description="A failed run mails the working group's channel: job, step and error.",
                       default_status=dg.DefaultSensorStatus.RUNNING)
def run_failure_alert_sensor(context: dg.RunFailureSensorContext):
    from orchestration.alerts import send_failure_alert

    step_key, error = None, context.failure_event.message or "run failed"
    for event in context.get_step_failure_events():
        step_key = event.step_key
        if event.step_failure_data and event.step_failure_data.error:
            error = event.step_failure_data.error.to_string()
        break
    from orchestration.warehouse import WarehouseBuild

    WarehouseBuild(settings.warehouse_path(), context.dagster_run.run_id).discard()  # the published one stays
    result = send_failure_alert(context.dagster_run.job_name, step_key, error, context.dagster_run.run_id,
                                dt.datetime.now(dt.timezone.utc))
    context.log.info(f"failure alert {result.status}" + (f": {result.path}" if result.path else ""))


ALL_SENSORS = [inbox_sensor, ssb_updated_sensor, run_failure_alert_sensor]
