"""Partitions: statistics years for KOSTRA/IPLOS/reports, months for Husbanken's monthly series."""

import dagster as dg

FIRST_YEAR = 2008

# Dagster 1.13 has no yearly partitions class. A year's partition exists once the year is over:
# KOSTRA publishes a statistics year in the following March.
yearly_partitions = dg.TimeWindowPartitionsDefinition(cron_schedule="0 0 1 1 *", fmt="%Y", start=str(FIRST_YEAR))

monthly_partitions = dg.MonthlyPartitionsDefinition(start_date="2010-01-01")


def partition_years(context) -> list[int] | None:
    """The statistics years of a run's partition window, from the run's tags (so an unpartitioned asset in a
    partitioned run, such as the dbt models, sees them too); None when the run is not partitioned."""
    tags = context.run.tags
    if "dagster/partition" in tags:
        return [int(tags["dagster/partition"])]
    first, last = tags.get("dagster/asset_partition_range_start"), tags.get("dagster/asset_partition_range_end")
    if first is None or last is None:
        return None
    return list(range(int(first), int(last) + 1))


def all_years_tags() -> dict[str, str]:
    """Run tags selecting every statistics year: how `make demo` and full refreshes run the yearly job."""
    keys = yearly_partitions.get_partition_keys()
    return year_range_tags(keys[0], keys[-1])


def year_range_tags(first: str | int, last: str | int) -> dict[str, str]:
    return {"dagster/asset_partition_range_start": str(first), "dagster/asset_partition_range_end": str(last)}
