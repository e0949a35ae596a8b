"""When things run (Europe/Oslo). KOSTRA publishes a statistics year unrevised around 15 March and
revised around 15 June; the SSB sensor catches the exact moment, these schedules are the safety net."""

import datetime as dt

import dagster as dg

from orchestration.jobs import annual_analysis, husbanken_monthly, kostra_release
from orchestration.partitions import all_years_tags

TIMEZONE = "Europe/Oslo"


def _statistics_year(scheduled: dt.datetime) -> str:
    return str(scheduled.year - 1)


@dg.schedule(job=kostra_release, cron_schedule="0 8 16 3 *", execution_timezone=TIMEZONE,
             default_status=dg.DefaultScheduleStatus.RUNNING,
             description="The day after KOSTRA's unrevised figures (15 March): load last year's figures.")
def kostra_unrevised_schedule(context: dg.ScheduleEvaluationContext):
    year = _statistics_year(context.scheduled_execution_time)
    return dg.RunRequest(run_key=f"kostra-unrevised-{year}", partition_key=year, tags={"kostra/vintage": "unrevised"})


@dg.schedule(job=kostra_release, cron_schedule="0 8 16 6 *", execution_timezone=TIMEZONE,
             default_status=dg.DefaultScheduleStatus.RUNNING,
             description="The day after KOSTRA's revised figures (15 June): reload last year's figures.")
def kostra_revised_schedule(context: dg.ScheduleEvaluationContext):
    year = _statistics_year(context.scheduled_execution_time)
    return dg.RunRequest(run_key=f"kostra-revised-{year}", partition_key=year, tags={"kostra/vintage": "revised"})


@dg.schedule(job=husbanken_monthly, cron_schedule="0 6 5 * *", execution_timezone=TIMEZONE,
             default_status=dg.DefaultScheduleStatus.RUNNING,
             description="Husbanken's monthly series, on the 5th, for the month before.")
def husbanken_monthly_schedule(context: dg.ScheduleEvaluationContext):
    first_of_month = context.scheduled_execution_time.date().replace(day=1)
    month = (first_of_month - dt.timedelta(days=1)).replace(day=1).isoformat()
    return dg.RunRequest(run_key=f"husbanken-{month}", partition_key=month)


@dg.schedule(job=annual_analysis, cron_schedule="0 5 1 9 *", execution_timezone=TIMEZONE,
             default_status=dg.DefaultScheduleStatus.RUNNING,
             description="The annual analysis on 1 September, after the revised KOSTRA figures: every year.")
def annual_analysis_schedule(context: dg.ScheduleEvaluationContext):
    return dg.RunRequest(run_key=f"annual-{context.scheduled_execution_time.year}", tags=all_years_tags())


ALL_SCHEDULES = [kostra_unrevised_schedule, kostra_revised_schedule, husbanken_monthly_schedule,
                 annual_analysis_schedule]
