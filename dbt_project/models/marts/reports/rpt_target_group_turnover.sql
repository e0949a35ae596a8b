-- Turnover («gjennomstrømming») per target group and year, which the report could not compute:
-- households moved in during the year ÷ dwellings used by the group on the reference date, its inverse
-- (estimated tenure, «botid», as in report figure 3.4), and the median length of the tenancies that ended
-- during the year and of those running on the reference date. Per municipality, size class and all
-- delivering municipalities; counts are sums of suppressed municipal cells (bounds), ratios of bounds are bounds.
{% set min_cell = var('register_min_cell') %}
with cells as (
    select * from {{ ref('int_register_cells_aggregated') }}
    where measure in ('dwellings_used', 'moved_in', 'completed_tenancies')
),

units as (
    select level, unit_code, year, target_group,
        {{ dbt.any_value('unit_name') }}                                                         as unit_name,
        max(n_municipalities_delivered)                                                          as n_municipalities_delivered,
        -- a measure with no cell for the group in any delivering municipality is an exact 0
        case when count(*) filter (where measure = 'dwellings_used') = 0 then 0
             else max(case when measure = 'dwellings_used' then value end) end                   as used,
        coalesce(max(case when measure = 'dwellings_used' then value_low end), 0)                as used_low,
        coalesce(max(case when measure = 'dwellings_used' then value_high end), 0)               as used_high,
        case when count(*) filter (where measure = 'moved_in') = 0 then 0
             else max(case when measure = 'moved_in' then value end) end                         as moved,
        coalesce(max(case when measure = 'moved_in' then value_low end), 0)                      as moved_low,
        coalesce(max(case when measure = 'moved_in' then value_high end), 0)                     as moved_high,
        case when count(*) filter (where measure = 'completed_tenancies') = 0 then 0
             else max(case when measure = 'completed_tenancies' then value end) end              as completed,
        bool_or(synthetic)                                                                       as synthetic
    from cells
    group by level, unit_code, year, target_group
),

-- the median tenancy lengths per level come with the tenancy counts (one read of the register)
medians as (
    select level, unit_code, year, target_group, n_completed, median_completed_years as median_completed,
        n_running, median_running_years as median_running
    from {{ ref('int_register_tenancy_counts') }}
)

select
    cast(u.year as integer)                                                          as year,
    cast(u.level as varchar)                                                         as level,
    cast(u.unit_code as varchar)                                                     as unit_code,
    cast(u.unit_name as varchar)                                                     as unit_name,
    cast(u.n_municipalities_delivered as integer)                                    as n_municipalities_delivered,
    cast(u.target_group as varchar)                                                  as target_group,
    cast(u.used as bigint)                                                           as dwellings_used,
    cast(u.used_low as bigint)                                                       as dwellings_used_low,
    cast(u.used_high as bigint)                                                      as dwellings_used_high,
    cast(u.moved as bigint)                                                          as households_moved_in,
    cast(u.moved_low as bigint)                                                      as households_moved_in_low,
    cast(u.moved_high as bigint)                                                     as households_moved_in_high,
    cast(case when u.used > 0 and u.moved is not null then {{ round_double('100.0 * u.moved / u.used', 1) }} end as double precision)
                                                                                     as turnover_pct,
    cast(case when u.used_high > 0 then {{ round_double('100.0 * u.moved_low / u.used_high', 1) }} end as double precision)
                                                                                     as turnover_pct_low,
    cast(case when u.used_low > 0 then {{ round_double('100.0 * u.moved_high / u.used_low', 1) }} end as double precision)
                                                                                     as turnover_pct_high,
    cast(case when u.moved > 0 and u.used is not null then {{ round_double('cast(u.used as double precision) / u.moved', 1) }} end as double precision)
                                                                                     as estimated_tenure_years,
    cast(u.completed as bigint)                                                      as completed_tenancies,
    cast(case when m.n_completed >= {{ min_cell }} then {{ round_double('m.median_completed', 1) }} end as double precision)
                                                                                     as median_completed_tenancy_years,
    cast(case when m.n_running >= {{ min_cell }} then {{ round_double('m.median_running', 1) }} end as double precision)
                                                                                     as median_running_tenancy_years,
    cast(u.synthetic as boolean)                                                     as synthetic
from units u
left join medians m using (level, unit_code, year, target_group)
