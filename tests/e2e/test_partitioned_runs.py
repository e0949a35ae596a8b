"""The data team's Dagster set-up, run for real: a failed run sends the failure alert naming job, step and
error (to a local SMTP server). That a partitioned run loads one year is shown on the partitioned run of
tests/e2e/test_live_sources.py (`published_live`), which the suite runs anyway."""

from __future__ import annotations

import email
import email.policy
import shutil
import socket
import time

import dagster as dg

from orchestration import settings


def test_failed_run_sends_an_alert_naming_job_step_and_error(module_env, tmp_path, monkeypatch):
    from aiosmtpd.controller import Controller

    from orchestration.definitions import defs

    received = []

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            received.append(envelope.content)
            return "250 OK"

    with socket.socket() as probe:  # aiosmtpd checks its own readiness by connecting: it needs a real port
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        monkeypatch.setenv("BOLIGSOSIAL_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("BOLIGSOSIAL_SMTP_PORT", str(port))
        demo = tmp_path / "demo"
        shutil.copytree(settings.DEMO_DATA_DIR, demo)
        (demo / "ssb" / "12204" / "data__municipalities.json").write_text("not json")
        monkeypatch.setenv("BOLIGSOSIAL_DEMO_DATA", str(demo))
        monkeypatch.setenv("BOLIGSOSIAL_WAREHOUSE", str(tmp_path / "fresh" / "boligsosial.duckdb"))

        instance = dg.DagsterInstance.ephemeral()
        job = defs.resolve_job_def("kostra_release")
        result = job.execute_in_process(instance=instance, raise_on_error=False, tags={"dagster/partition": "2020"})
        assert not result.success
        sensor = defs.resolve_sensor_def("run_failure_alert_sensor")
        failure_event = next(e for e in result.all_events if e.event_type_value == "PIPELINE_FAILURE"
                             or e.event_type_value == "RUN_FAILURE")
        context = dg.build_run_status_sensor_context(
            sensor_name=sensor.name, dagster_instance=instance, dagster_run=result.dagster_run,
            dagster_event=failure_event,
        ).for_run_failure()
        sensor._run_status_sensor_fn(context)
        deadline = time.time() + 5
        while not received and time.time() < deadline:
            time.sleep(0.05)
    finally:
        controller.stop()
    assert len(received) == 1
    message = email.message_from_bytes(received[0], policy=email.policy.default)
    body = message.get_body(("plain",)).get_content()
    assert "kostra_release" in message["Subject"] and "raw__ssb_observations" in message["Subject"]
    assert "12204" in body
