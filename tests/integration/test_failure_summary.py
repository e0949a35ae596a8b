"""The failure summary names each failed step once and counts the steps skipped because of it."""

from __future__ import annotations

import dagster as dg

from orchestration.runner import failure_summary


@dg.op
def fetch_ssb():
    raise RuntimeError("SSB table 12008: gave up after 6 attempts; last: HTTP 503")


@dg.op
def stage(rows):
    return rows


@dg.op
def model(rows, more):
    return rows


@dg.job
def pipeline():
    rows = fetch_ssb()
    staged = stage(rows)
    model(staged, rows)
    model.alias("report")(stage.alias("stage_again")(rows), rows)


def test_each_failed_step_once_and_the_skipped_ones_counted():
    result = pipeline.execute_in_process(raise_on_error=False)
    lines = failure_summary(result)
    assert len(lines) == 2
    assert lines[0].startswith("step fetch_ssb: ") and lines[0].endswith(
        "RuntimeError: SSB table 12008: gave up after 6 attempts; last: HTTP 503")
    assert lines[1] == "4 step(s) skipped because a step they depend on failed"
