-- Report figures 4.1 and 4.2 for every municipality that delivers a dwelling register, and per size class
-- and for all delivering municipalities: dwellings by target group × the main resident's age band, ×
-- allocating unit, × status on the reference date (vacancy by group) and × dwelling type. Every figure is a
-- sum of municipal cells with small cells suppressed, so a suppressed member makes the sum an interval.
with cells as (
    select * from {{ ref('int_register_cells_aggregated') }}
    where measure = 'dwellings'
),

with_group as (
    select
        *,
        sum(value_low) over (partition by level, unit_code, year, breakdown, target_group)  as group_low,
        sum(value_high) over (partition by level, unit_code, year, breakdown, target_group) as group_high
    from cells
)

select
    cast(year as integer)                                               as year,
    cast(level as varchar)                                              as level,
    cast(unit_code as varchar)                                          as unit_code,
    cast(unit_name as varchar)                                          as unit_name,
    cast(n_municipalities_delivered as integer)                         as n_municipalities_delivered,
    cast(breakdown as varchar)                                          as breakdown,
    cast(target_group as varchar)                                       as target_group,
    cast(category as varchar)                                           as category,
    cast(value as bigint)                                               as dwellings,
    cast(value_low as bigint)                                           as dwellings_low,
    cast(value_high as bigint)                                          as dwellings_high,
    cast((value_low + value_high) / 2.0 as double precision)            as dwellings_midpoint,
    cast(n_suppressed_cells > 0 as boolean)                             as is_suppressed,
    cast(n_suppressed_cells as integer)                                 as n_suppressed_cells,
    -- share of the group's dwellings in this category: x ÷ (x + rest), rest = group − x, bounds apart
    cast(case when value_low + (group_high - value_high) > 0
         then {{ round_double('100.0 * value_low / (value_low + (group_high - value_high))', 1) }} end as double precision) as share_of_group_pct_low,
    cast(case when value_high + (group_low - value_low) > 0
         then {{ round_double('100.0 * value_high / (value_high + (group_low - value_low))', 1) }} end as double precision) as share_of_group_pct_high,
    cast(synthetic as boolean)                                          as synthetic
from with_group
