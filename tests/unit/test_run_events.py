"""What a run records (issue 19): the dbt models are one unpartitioned multi-asset that reads the run's year
window from its tags, and the CLI's ephemeral runs plan each asset and check once, unpartitioned ones
unpartitioned. Both cut thousands of events and rows from a run over every year; a Dagster upgrade that
renamed the switch or changed what it patches would bring the cost back silently, so both are pinned here."""

from __future__ import annotations

import contextlib
from types import SimpleNamespace

import dagster as dg
import pytest

from orchestration.partitions import all_years_tags, partition_years, year_range_tags, yearly_partitions
from orchestration.runner import _one_planned_event_per_asset_or_check


def _context(tags: dict) -> SimpleNamespace:
    return SimpleNamespace(run=SimpleNamespace(tags=tags))


def test_a_run_window_comes_from_the_run_tags():
    assert partition_years(_context({"dagster/partition": "2019"})) == [2019]
    assert partition_years(_context(year_range_tags(2017, 2020))) == [2017, 2018, 2019, 2020]
    keys = yearly_partitions.get_partition_keys()
    assert partition_years(_context(all_years_tags())) == list(range(int(keys[0]), int(keys[-1]) + 1))
    assert partition_years(_context({"dagster/asset_partition_range_start": "2019"})) is None
    assert partition_years(_context({})) is None


@pytest.mark.parametrize("first, last, said", [
    (2020, 2019, "the years are reversed: 2020–2019"),
    (1990, 1991, "no statistics year 1990 or 1991: the years are 2008–"),
    (2019, 2999, "no statistics year 2999: the years are 2008–"),
])
def test_a_backfill_of_years_with_no_partition_is_refused_before_any_run(first, last, said, capsys, monkeypatch):
    import orchestration.cli as cli

    monkeypatch.setattr(cli, "run_pipeline", lambda *a, **k: pytest.fail("a run started"))
    with pytest.raises(ValueError, match=said.split(":")[0]):
        year_range_tags(first, last)
    assert cli.main(["backfill", str(first), str(last)]) == 2
    err = capsys.readouterr().err
    assert f"✘ backfill {first} {last}: {said}" in err


def test_the_models_are_unpartitioned_and_the_ssb_asset_is_yearly():
    from orchestration.assets.dbt import dbt_models
    from orchestration.assets.ssb import ssb_observations

    assert dbt_models.partitions_def is None
    assert ssb_observations.partitions_def == yearly_partitions


def test_one_planned_event_per_asset_only_inside_the_switch(monkeypatch):
    monkeypatch.delenv("DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS", raising=False)
    storage = dg.DagsterInstance.ephemeral().event_log_storage
    assert not storage.supports_partition_subset_in_asset_materialization_planned_events
    with _one_planned_event_per_asset_or_check():
        assert storage.supports_partition_subset_in_asset_materialization_planned_events
    assert not storage.supports_partition_subset_in_asset_materialization_planned_events


def _planned_and_recorded(inside_the_switch: bool):
    """A run over three years of a yearly load, an unpartitioned model with a check and a yearly asset after it,
    as the pipeline's SSB load, dbt models and what follows them: what was planned for each, and the check's
    execution records. (Dagster 1.13 takes the run's partitions from the last asset it meets in the plan.)"""
    years = dg.TimeWindowPartitionsDefinition(cron_schedule="0 0 1 1 *", fmt="%Y", start="2019", end="2022")

    @dg.asset(partitions_def=years, backfill_policy=dg.BackfillPolicy.single_run())
    def loaded(context) -> None:
        pass

    @dg.asset(deps=[loaded])
    def modelled() -> None:
        pass

    @dg.asset(partitions_def=years, deps=[modelled], backfill_policy=dg.BackfillPolicy.single_run())
    def reported(context) -> None:
        pass

    @dg.asset_check(asset=modelled)
    def modelled_is_sound() -> dg.AssetCheckResult:
        return dg.AssetCheckResult(passed=True)

    job = dg.define_asset_job("both")
    defs = dg.Definitions(assets=[loaded, modelled, reported], asset_checks=[modelled_is_sound], jobs=[job])
    instance = dg.DagsterInstance.ephemeral()
    tags = {"dagster/asset_partition_range_start": "2019", "dagster/asset_partition_range_end": "2021"}
    with (_one_planned_event_per_asset_or_check() if inside_the_switch else contextlib.nullcontext()):
        result = defs.resolve_job_def("both").execute_in_process(instance=instance, tags=tags)
    assert result.success
    planned = {}
    for record in instance.get_records_for_run(result.run_id).records:
        event = record.event_log_entry.dagster_event
        if event is None:
            continue
        if event.event_type_value == "ASSET_MATERIALIZATION_PLANNED":
            data = event.event_specific_data
            planned.setdefault(event.asset_key.to_user_string(), []).append(
                sorted(data.partitions_subset.get_partition_keys()) if data.partitions_subset else data.partition)
        if event.event_type_value == "ASSET_CHECK_EVALUATION_PLANNED":
            data = event.event_specific_data
            planned.setdefault("check", []).append(
                sorted(data.partitions_subset.get_partition_keys()) if data.partitions_subset else None)
    records = instance.event_log_storage.get_asset_check_execution_history(modelled_is_sound.check_key, limit=50)
    return planned, [(r.status.value, r.partition) for r in records]


def test_an_unpartitioned_model_and_its_check_are_planned_once_in_a_run_over_years():
    planned, records = _planned_and_recorded(inside_the_switch=True)
    years = ["2019", "2020", "2021"]
    assert planned == {"loaded": [years], "modelled": [None], "reported": [years], "check": [None]}
    assert records == [("SUCCEEDED", None)]  # the planned row, updated by the evaluation


def test_the_switch_leaves_dagster_as_it_was_outside_the_run():
    from dagster._core.storage.dagster_run import DagsterRun

    resolved = DagsterRun.get_resolved_partitions_subset_for_events
    _planned_and_recorded(inside_the_switch=True)
    assert DagsterRun.get_resolved_partitions_subset_for_events is resolved
    planned, _records = _planned_and_recorded(inside_the_switch=False)
    assert planned["loaded"] == [d for d in ("2019", "2020", "2021")]  # one event per year outside the switch


def test_the_progress_shows_a_steps_messages_but_not_dagster_dbts_housekeeping(capsys):
    import logging

    from orchestration.runner import ProgressPrinter

    def emit(message: str) -> str:
        record = logging.LogRecord("dagster", logging.INFO, __file__, 1, message, None, None)
        record.dagster_meta = {"orig_message": message, "step_key": "dbt_models"}
        ProgressPrinter().emit(record)
        return capsys.readouterr().out

    assert "Running dbt command: `dbt build`" in emit("Running dbt command: `dbt build`")
    assert emit("A dbt subsetted execution is not being performed. Using the default dbt selection") == ""
    assert emit("A dbt subsetted execution is being performed. Overriding default dbt selection arguments") == ""
    selected = " ".join(f"boligsosial.marts.m{i}" for i in range(52))
    shown = emit(f"Running dbt command: `dbt build --vars {{}} --select {selected}`.")
    assert shown.rstrip().endswith("Running dbt command: `dbt build --vars {} --select <52 models>`.")
    assert "--select fqn:*`." in emit("Running dbt command: `dbt build --select fqn:*`.")
    assert emit("Copying `/p/target/partial_parse.msgpack` to `/p/target/dbt_models-1/partial_parse.msgpack`") == ""
