"""When things run (Europe/Oslo). KOSTRA publishes a statistics year unrevised around 15 March and
revised around 15 June; the SSB sensor catches the exact moment, these schedules are the safety net."""

import datetime as dt

import dagster as dg

from orchestration.jobs import annual_analysis, husbanken_monthly, kostra_release
from orchestration.partitions import PARTITION_TAG, all_years_tags

TIMEZONE = "Europe/Oslo"


def _kostra_schedule(vintage: str, cron: str, published: str) -> dg.ScheduleDefinition:
    """The day after a KOSTRA publication: load last year's figures (the statistics year)."""

    @dg.schedule(name=f"kostra_{vintage}_schedule", job=kostra_release, cron_schedule=cron,
                 execution_timezone=TIMEZONE, default_status=dg.DefaultScheduleStatus.RUNNING,
                 description=f"The day after KOSTRA's {vintage} figures ({published}): load last year's figures.")
    def _schedule(context: dg.ScheduleEvaluationContext):
        year = str(context.scheduled_execution_time.year - 1)
        return _request_if_changed("kostra_release", run_key=f"kostra-{vintage}-{year}", partition_key=year,
                                   tags={"kostra/vintage": vintage})

    return _schedule


kostra_unrevised_schedule = _kostra_schedule("unrevised", "0 8 16 3 *", "15 March")
kostra_revised_schedule = _kostra_schedule("revised", "0 8 16 6 *", "15 June")


@dg.schedule(job=husbanken_monthly, cron_schedule="0 6 5 * *", execution_timezone=TIMEZONE,
             default_status=dg.DefaultScheduleStatus.RUNNING,
             description="Husbanken's monthly series, on the 5th, for the month before.")
def husbanken_monthly_schedule(context: dg.ScheduleEvaluationContext):
    first_of_month = context.scheduled_execution_time.date().replace(day=1)
    month = (first_of_month - dt.timedelta(days=1)).replace(day=1).isoformat()
    return _request_if_changed("husbanken_monthly", run_key=f"husbanken-{month}", partition_key=month)


@dg.schedule(job=annual_analysis, cron_schedule="0 5 1 9 *", execution_timezone=TIMEZONE,
             default_status=dg.DefaultScheduleStatus.RUNNING,
             description="The annual analysis on 1 September, after the revised KOSTRA figures: every year.")
def annual_analysis_schedule(context: dg.ScheduleEvaluationContext):
    return _request_if_changed("annual_analysis", run_key=f"annual-{context.scheduled_execution_time.year}",
                               tags=all_years_tags())


def _request_if_changed(job_name: str, run_key: str, partition_key: str | None = None, tags: dict | None = None):
    """Nothing changed since the last publication → skip, with the reasons (the tick shows them in the UI);
    else a run of only the job's assets downstream of what changed, as `boligsosial demo` runs (issue 19)."""
    from orchestration import changes
    from orchestration.runner import dbt_asset_keys, planned_selection

    plan = changes.plan_run()
    if plan.nothing_changed:
        return dg.SkipReason("nothing changed since the last publication: "
                             + "; ".join(changes.unchanged_reasons(plan)))
    scope = dict(tags or {})
    if partition_key is not None:  # one partition: the publication incorporates less than every year
        scope[PARTITION_TAG] = partition_key
    selection, run_config = planned_selection(job_name, plan, scope)
    roots = {dg.AssetKey(list(k)) for k in plan.roots} | dbt_asset_keys(plan.dbt_nodes)
    if selection is not None and not roots & set(selection):  # what changed is another job's to load
        return dg.SkipReason(f"nothing {job_name} loads or builds changed; changed: "
                             + "; ".join(line.strip() for line in plan.summary_lines()))
    return dg.RunRequest(run_key=run_key, partition_key=partition_key, tags=tags or {}, run_config=run_config,
                         asset_selection=selection)


ALL_SCHEDULES = [kostra_unrevised_schedule, kostra_revised_schedule, husbanken_monthly_schedule,
                 annual_analysis_schedule]
