"""The data team's Dagster set-up without a run: schedules, the inbox sensor and the SSB sensor (against the
local SSB replay server). The partitioned run and the failure alert are in e2e/test_partitioned_runs.py."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import dagster as dg
import pytest

from orchestration import settings

OSLO = ZoneInfo("Europe/Oslo")


def _tick(schedule, when: dt.datetime):
    from orchestration.definitions import defs

    context = dg.build_schedule_context(scheduled_execution_time=when, repository_def=defs.get_repository_def())
    return schedule.evaluate_tick(context)


@pytest.mark.parametrize(
    ("name", "after", "expected_tick", "partition"),
    [
        ("kostra_unrevised_schedule", dt.datetime(2026, 1, 10, tzinfo=OSLO), dt.datetime(2026, 3, 16, 8, 0), "2025"),
        ("kostra_revised_schedule", dt.datetime(2026, 3, 20, tzinfo=OSLO), dt.datetime(2026, 6, 16, 8, 0), "2025"),
        ("husbanken_monthly_schedule", dt.datetime(2026, 11, 23, tzinfo=OSLO), dt.datetime(2026, 12, 5, 6, 0),
         "2026-11-01"),
        ("annual_analysis_schedule", dt.datetime(2026, 11, 23, tzinfo=OSLO), dt.datetime(2027, 9, 1, 5, 0), None),
    ],
)
def test_schedule_next_tick_and_its_run(name, after, expected_tick, partition, monkeypatch, tmp_path):
    from dagster._utils.schedules import cron_string_iterator

    monkeypatch.setenv("BOLIGSOSIAL_WAREHOUSE", str(tmp_path / "none.duckdb"))  # nothing published: every tick runs

    from orchestration.definitions import defs

    schedule = defs.resolve_schedule_def(name)
    assert schedule.execution_timezone == "Europe/Oslo"
    ticks = cron_string_iterator(after.timestamp(), schedule.cron_schedule, schedule.execution_timezone)
    next_tick = next(ticks)
    assert next_tick.replace(tzinfo=None) == expected_tick
    result = _tick(schedule, next_tick)
    [request] = result.run_requests
    if partition:
        assert request.partition_key == partition
    else:  # the annual analysis covers every statistics year
        assert request.tags["dagster/asset_partition_range_start"] == "2008"
    assert defs.resolve_job_def(schedule.job_name).tags["boligsosial/warehouse-writer"] == "true"


@pytest.mark.parametrize(("name", "tick"), [("annual_analysis_schedule", dt.datetime(2027, 9, 1, 5, 0)),
                                            ("kostra_revised_schedule", dt.datetime(2027, 6, 16, 8, 0)),
                                            ("husbanken_monthly_schedule", dt.datetime(2027, 1, 5, 6, 0))])
def test_a_schedule_skips_with_the_reason_when_nothing_changed(name, tick, monkeypatch, tmp_path):
    """Issue 19: a warehouse whose recorded input versions equal today's: the tick says why it does not run."""
    import duckdb

    from orchestration import changes
    from orchestration.definitions import defs

    warehouse = tmp_path / "boligsosial.duckdb"
    monkeypatch.setenv("BOLIGSOSIAL_WAREHOUSE", str(warehouse))
    con = duckdb.connect(str(warehouse))
    changes.record(con, changes.current()[0], "run-1", "[]")
    con.close()
    schedule = defs.resolve_schedule_def(name)
    result = _tick(schedule, tick)
    assert not result.run_requests
    assert result.skip_message.startswith("nothing changed since the last publication: ")
    assert "raw/ssb_observations not reloaded: source ssb" in result.skip_message


def test_schedules_and_sensors_run_as_soon_as_the_daemon_starts():
    from orchestration.definitions import defs

    repo = defs.get_repository_def()
    assert {s.name for s in repo.schedule_defs} >= {"kostra_unrevised_schedule", "kostra_revised_schedule",
                                                    "husbanken_monthly_schedule", "annual_analysis_schedule"}
    for schedule in repo.schedule_defs:
        assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING, schedule.name
    for sensor in repo.sensor_defs:
        assert sensor.default_status == dg.DefaultSensorStatus.RUNNING, sensor.name


def test_inbox_sensor_requests_one_run_per_new_or_changed_file(tmp_path, monkeypatch):
    from orchestration.definitions import defs

    inbox = tmp_path / "inbox"
    (inbox / "husbanken").mkdir(parents=True)
    monkeypatch.setenv("BOLIGSOSIAL_INBOX", str(inbox))
    monkeypatch.setenv("BOLIGSOSIAL_FOLLOWUP_REGISTER", str(tmp_path / "register.csv"))
    sensor = defs.resolve_sensor_def("inbox_sensor")
    instance = dg.DagsterInstance.ephemeral()

    def evaluate(cursor):
        context = dg.build_sensor_context(cursor=cursor, instance=instance, repository_def=defs.get_repository_def())
        result = sensor.evaluate_tick(context)
        return result.run_requests, result.cursor

    requests, cursor = evaluate(None)
    assert requests == []
    (inbox / "husbanken" / "startlan_2019.csv").write_text("Kommunenummer;År\n0301;2019\n", encoding="utf-8")
    requests, cursor = evaluate(cursor)
    assert len(requests) == 1 and requests[0].tags["boligsosial/file"] == "husbanken/startlan_2019.csv"
    requests, cursor = evaluate(cursor)
    assert requests == [], "the same file again requests nothing"
    (inbox / "husbanken" / "startlan_2019.csv").write_text("Kommunenummer;År\n0301;2019\n0302;2019\n")
    (tmp_path / "register.csv").write_text("finding_id,status\n")
    requests, cursor = evaluate(cursor)
    assert sorted(r.tags["boligsosial/file"] for r in requests) == ["followup/register.csv",
                                                                    "husbanken/startlan_2019.csv"]
    assert len({r.run_key for r in requests}) == 2


def test_ssb_sensor_requests_a_run_only_when_updated_moves(monkeypatch, tmp_path):
    from orchestration.ingest.ssb.releases import load_table_config
    from orchestration.definitions import defs
    from tests.fakes.ssb_replay import SsbReplayServer

    tables = {t["table_id"] for t in load_table_config()}
    with SsbReplayServer.from_directory(settings.DEMO_DATA_DIR / "ssb") as server:
        monkeypatch.setenv("BOLIGSOSIAL_SOURCE", "live")
        monkeypatch.setenv("SSB_API_URL", server.url_v2)
        monkeypatch.setenv("BOLIGSOSIAL_WAREHOUSE", str(tmp_path / "none-yet.duckdb"))
        sensor = defs.resolve_sensor_def("ssb_updated_sensor")
        instance = dg.DagsterInstance.ephemeral()

        def evaluate(cursor):
            result = sensor.evaluate_tick(dg.build_sensor_context(cursor=cursor, instance=instance,
                                                                  repository_def=defs.get_repository_def()))
            return result.run_requests, result.cursor

        first, cursor = evaluate(None)
        # nothing known yet: every table is new, and one run loads them all
        assert len(first) == 1 and set(first[0].tags["boligsosial/ssb_tables"].split(",")) == tables
        again, cursor = evaluate(cursor)
        assert again == []
        server.set_table_updated("12008", "2026-09-01T06:00:00Z")
        moved, cursor = evaluate(cursor)
        assert [r.tags["boligsosial/ssb_tables"] for r in moved] == ["12008"]
        assert moved[0].partition_key == "2025"
        assert moved[0].run_key != first[0].run_key
        again, cursor = evaluate(cursor)
        assert again == []
        assert all(r.path.endswith(tuple(f"/tables/{t}" for t in tables))
                   for r in server.requests), "the sensor only asks the cheap table endpoint"
