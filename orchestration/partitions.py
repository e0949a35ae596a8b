"""Partitions: statistics years for KOSTRA/IPLOS/reports, months for Husbanken's monthly series."""

import dagster as dg

FIRST_YEAR = 2008

# Dagster 1.13 has no yearly partitions class. A year's partition exists once the year is over:
# KOSTRA publishes a statistics year in the following March.
yearly_partitions = dg.TimeWindowPartitionsDefinition(cron_schedule="0 0 1 1 *", fmt="%Y", start=str(FIRST_YEAR))

monthly_partitions = dg.MonthlyPartitionsDefinition(start_date="2010-01-01")

# Dagster's run tags for one partition and for a range run as one (a single-run backfill)
PARTITION_TAG = "dagster/partition"
RANGE_START_TAG, RANGE_END_TAG = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"


def partition_years(context) -> list[int] | None:
    """The statistics years of a run's partition window, from the run's tags (so an unpartitioned asset in a
    partitioned run, such as the dbt models, sees them too); None when the run is not partitioned."""
    tags = context.run.tags
    if PARTITION_TAG in tags:
        return [int(tags[PARTITION_TAG])]
    first, last = tags.get(RANGE_START_TAG), tags.get(RANGE_END_TAG)
    if first is None or last is None:
        return None
    return list(range(int(first), int(last) + 1))


def all_years_tags() -> dict[str, str]:
    """Run tags selecting every statistics year: how `make demo` and full refreshes run the yearly job."""
    keys = yearly_partitions.get_partition_keys()
    return year_range_tags(keys[0], keys[-1])


def year_range_tags(first: str | int, last: str | int) -> dict[str, str]:
    """Tags for the statistics years first–last; a ValueError names a reversed range or a year with no partition
    (before 2008, or not over yet), before any run starts."""
    keys = yearly_partitions.get_partition_keys()
    if int(first) > int(last):
        raise ValueError(f"the years are reversed: {first}–{last} (the first year comes first)")
    outside = [str(y) for y in (first, last) if str(y) not in keys]
    if outside:
        raise ValueError(f"no statistics year {' or '.join(outside)}: the years are {keys[0]}–{keys[-1]}")
    return {RANGE_START_TAG: str(first), RANGE_END_TAG: str(last)}
