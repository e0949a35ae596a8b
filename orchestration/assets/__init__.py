"""Dagster assets, one module per source plus the dbt models, the quality checks and publication."""


def scheduled_run(context) -> bool:
    """Whether a schedule started this run (its tag), so HTTP clients use the longer deadline."""
    return bool(context.run.tags.get("dagster/schedule_name"))
