-- One row per tenancy in a register with its length in years: completed (ended during the reference
-- year) or running (elapsed up to the reference date), and whether it started during the year (a
-- household moved in, KOSTRA's «nyinnflyttede»). A view: its readers each take a few columns of it,
-- and writing 10 million tenancies to a table cost more than reading the register again.
{{ config(materialized='view') }}
select
    municipality_code,
    year,
    dwelling_id,
    target_group,
    age_band,
    tenancy_start,
    tenancy_end,
    tenancy_start >= make_date(year, 1, 1) and tenancy_start <= reference_date         as is_moved_in_this_year,
    tenancy_end is not null and tenancy_end >= make_date(year, 1, 1)
        and tenancy_end <= reference_date                                                as is_completed_this_year,
    tenancy_end is null or tenancy_end > reference_date                                  as is_running,
    {{ round_double(days_between('tenancy_start', 'least(coalesce(tenancy_end, reference_date), reference_date)')
                   ~ ' / 365.25', 4) }}
                                                                                         as length_years,
    synthetic
from {{ ref('stg_dwelling_register__tenancies') }}
where tenancy_start is not null
