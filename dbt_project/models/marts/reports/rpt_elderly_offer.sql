-- Report figures 4.3 and 4.4: the offer in municipal dwellings by dwelling type × the main resident's age,
-- for the target group «eldre mv.» and for all groups, and the share of the unit's inhabitants over 80 who
-- live in each dwelling type, beside the national KOSTRA/IPLOS shares of those over 80 in municipal
-- dwellings and in nursing homes (the register has no nursing homes; the national figure shows the rest of
-- the care offer). A household counts once (its main resident's age).
with cells as (
    select * from {{ ref('int_register_cells_aggregated') }}
    where measure = 'residents'
),

by_type as (
    select level, unit_code, year, breakdown as dwelling_type, category as age_band,
        {{ dbt.any_value('unit_name') }} as unit_name, max(n_municipalities_delivered) as n_municipalities_delivered,
        -- no «eldre» cell for the type in any delivering municipality: an exact 0
        coalesce(sum(case when target_group = 'eldre' then n_suppressed_cells end), 0) as eldre_suppressed,
        coalesce(sum(case when target_group = 'eldre' then value_low end), 0)          as eldre_low,
        coalesce(sum(case when target_group = 'eldre' then value_high end), 0)         as eldre_high,
        sum(n_suppressed_cells)                                              as all_suppressed,
        sum(value_low)                                                       as all_low,
        sum(value_high)                                                      as all_high,
        bool_or(synthetic)                                                   as synthetic
    from cells group by level, unit_code, year, breakdown, category
),

with_total as (
    select * from by_type
    union all
    select level, unit_code, year, 'alle', age_band, {{ dbt.any_value('unit_name') }}, max(n_municipalities_delivered),
        sum(eldre_suppressed), sum(eldre_low), sum(eldre_high), sum(all_suppressed), sum(all_low), sum(all_high),
        bool_or(synthetic)
    from by_type group by level, unit_code, year, age_band
),

deliveries as (
    select * from {{ ref('int_register_deliveries_listed') }}
),

levelled as (
    {{ register_levels('deliveries') }}
),

population_80 as (
    select level, unit_code, year, sum(population_80_plus) as population_80_plus from levelled group by level, unit_code, year
),

national as (
    select n.year,
        100.0 * max(case when n.measure = 'residents_80plus_municipal_dwellings' then n.value end) / max(p.pop80) as dwellings_pct,
        100.0 * max(case when n.measure = 'residents_80plus_nursing_homes' then n.value end) / max(p.pop80)       as nursing_pct
    from {{ ref('int_national_values_latest_release') }} n
    join (select year, sum(population_80_plus) as pop80 from {{ ref('int_municipality_year') }} group by year) p using (year)
    where n.measure in ('residents_80plus_municipal_dwellings', 'residents_80plus_nursing_homes')
    group by n.year
)

select
    cast(t.year as integer)                                                          as year,
    cast(t.level as varchar)                                                         as level,
    cast(t.unit_code as varchar)                                                     as unit_code,
    cast(t.unit_name as varchar)                                                     as unit_name,
    cast(t.n_municipalities_delivered as integer)                                    as n_municipalities_delivered,
    cast(t.dwelling_type as varchar)                                                 as dwelling_type,
    cast(t.age_band as varchar)                                                      as age_band,
    cast(case when t.eldre_suppressed = 0 then t.eldre_low end as bigint)            as eldre_households,
    cast(t.eldre_low as bigint)                                                      as eldre_households_low,
    cast(t.eldre_high as bigint)                                                     as eldre_households_high,
    cast(case when t.all_suppressed = 0 then t.all_low end as bigint)                as all_households,
    cast(t.all_low as bigint)                                                        as all_households_low,
    cast(t.all_high as bigint)                                                       as all_households_high,
    cast(case when t.age_band = '80_plus' then p.population_80_plus end as bigint)   as population_80_plus,
    cast(case when t.age_band = '80_plus' and p.population_80_plus > 0
         then {{ round_double('100.0 * t.all_low / p.population_80_plus', 2) }} end as double precision)     as share_of_80plus_pct_low,
    cast(case when t.age_band = '80_plus' and p.population_80_plus > 0
         then {{ round_double('100.0 * t.all_high / p.population_80_plus', 2) }} end as double precision)    as share_of_80plus_pct_high,
    cast(case when t.age_band = '80_plus' and t.dwelling_type = 'alle' then {{ round_double('n.dwellings_pct', 2) }} end as double precision)
                                                                                     as national_80plus_municipal_dwellings_pct,
    cast(case when t.age_band = '80_plus' and t.dwelling_type = 'alle' then {{ round_double('n.nursing_pct', 2) }} end as double precision)
                                                                                     as national_80plus_nursing_homes_pct,
    cast(t.synthetic as boolean)                                                     as synthetic
from with_total t
left join population_80 p using (level, unit_code, year)
left join national n using (year)
