-- Every published count of the registers as a municipal cell, on the full grid (a combination absent
-- from a delivering municipality's register is an exact 0), with small cells (1 to
-- var register_min_cell − 1) suppressed as SSB does: no value, bounds [1, min_cell − 1]. Every higher
-- level is a sum of these cells, so the suppression is carried through sums as bounds.
{% set min_cell = var('register_min_cell') %}
-- sums over the counts made once (int_register_dwelling_counts, int_register_tenancy_counts)
with dwellings as (
    select municipality_code, year, target_group, age_band, allocating_unit, status, dwelling_type, is_occupied,
        n_dwellings as n
    from {{ ref('int_register_dwelling_counts') }}
),

tenancies as (
    select unit_code as municipality_code, year, target_group, n_moved_in as moved_in, n_completed as completed
    from {{ ref('int_register_tenancy_counts') }}
    where level = 'municipality'
),

-- measure, breakdown, target_group, category, count per municipality and year
counts as (
    select municipality_code, year, 'dwellings' as measure, 'age_band' as breakdown, target_group, age_band as category, sum(n) as n
    from dwellings group by municipality_code, year, target_group, age_band
    union all
    select municipality_code, year, 'dwellings', 'allocating_unit', target_group, allocating_unit, sum(n)
    from dwellings group by municipality_code, year, target_group, allocating_unit
    union all
    select municipality_code, year, 'dwellings', 'status', target_group, status, sum(n)
    from dwellings group by municipality_code, year, target_group, status
    union all
    select municipality_code, year, 'dwellings', 'dwelling_type', target_group, dwelling_type, sum(n)
    from dwellings group by municipality_code, year, target_group, dwelling_type
    union all
    -- the elderly offer: households by dwelling type (as breakdown) × group × the main resident's age
    select municipality_code, year, 'residents', dwelling_type, target_group, age_band, sum(n)
    from dwellings where is_occupied group by municipality_code, year, dwelling_type, target_group, age_band
    union all
    -- turnover: dwellings used by the group on the reference date, households moved in during the year
    select municipality_code, year, 'dwellings_used', 'total', target_group, 'i_alt', sum(n)
    from dwellings where is_occupied group by municipality_code, year, target_group
    union all
    select municipality_code, year, 'moved_in', 'total', target_group, 'i_alt', moved_in
    from tenancies where moved_in > 0
    union all
    select municipality_code, year, 'completed_tenancies', 'total', target_group, 'i_alt', completed
    from tenancies where completed > 0
),

delivered as (
    select distinct municipality_code, year, synthetic from {{ ref('int_register_deliveries_listed') }}
),

-- the grid: every (measure, breakdown, group, category) seen in a year, for every municipality delivering then
grid as (
    select d.municipality_code, d.year, d.synthetic, k.measure, k.breakdown, k.target_group, k.category
    from delivered d
    join (select distinct year, measure, breakdown, target_group, category from counts) k using (year)
)

select
    g.municipality_code,
    g.year,
    g.measure,
    g.breakdown,
    g.target_group,
    g.category,
    cast(coalesce(c.n, 0) as bigint)                                            as true_count,
    coalesce(c.n, 0) between 1 and {{ min_cell - 1 }}                            as is_suppressed,
    case when coalesce(c.n, 0) between 1 and {{ min_cell - 1 }} then null
         else cast(coalesce(c.n, 0) as bigint) end                               as value,
    case when coalesce(c.n, 0) between 1 and {{ min_cell - 1 }} then 1
         else cast(coalesce(c.n, 0) as bigint) end                               as value_low,
    case when coalesce(c.n, 0) between 1 and {{ min_cell - 1 }} then {{ min_cell - 1 }}
         else cast(coalesce(c.n, 0) as bigint) end                               as value_high,
    g.synthetic
from grid g
left join counts c using (municipality_code, year, measure, breakdown, target_group, category)
