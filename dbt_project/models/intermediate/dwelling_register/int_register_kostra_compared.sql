-- A register against the municipality's KOSTRA skjema 13 figures for the same year: dwellings, vacant
-- dwellings (statuses in var register_vacant_statuses), wheelchair-accessible dwellings and households
-- moved in during the year. The unsuppressed register counts are compared (this model is never
-- published; the quality suite consistency/dwelling_register_kostra reads it). A KOSTRA cell that is
-- suppressed or missing gives no comparison (kostra_value null) and says so.
{% set vacant = var('register_vacant_statuses') %}
with dwellings as (
    select municipality_code, year,
        cast(sum(n_dwellings) as bigint)                                        as dwellings_total,
        cast(coalesce(sum(n_dwellings) filter (where status in ('{{ vacant | join("', '") }}')), 0) as bigint) as dwellings_vacant,
        cast(coalesce(sum(n_wheelchair_accessible), 0) as bigint) as dwellings_wheelchair
    from {{ ref('int_register_dwelling_counts') }}
    group by municipality_code, year
),

register as (
    select municipality_code, year, 'dwellings_total' as measure, dwellings_total as register_value from dwellings
    union all
    select municipality_code, year, 'dwellings_vacant', dwellings_vacant from dwellings
    union all
    select municipality_code, year, 'dwellings_wheelchair', dwellings_wheelchair from dwellings
    union all
    select unit_code, year, 'households_newly_moved_in', cast(sum(n_moved_in) as bigint)
    from {{ ref('int_register_tenancy_counts') }} where level = 'municipality' group by unit_code, year
),

kostra as (
    select municipality_code, year, measure, value, status_symbol
    from {{ ref('int_kostra_values_latest_release') }}
    where measure in ('dwellings_total', 'dwellings_vacant', 'dwellings_wheelchair', 'households_newly_moved_in')
),

delivered as (
    select municipality_code, year, municipality_name, synthetic from {{ ref('int_register_deliveries_listed') }}
)

select
    r.municipality_code,
    r.year,
    d.municipality_name,
    r.measure,
    cast(r.register_value as double precision)                                  as register_value,
    k.value                                                                     as kostra_value,
    k.status_symbol                                                             as kostra_status_symbol,
    r.register_value - k.value                                                  as deviation,
    abs(r.register_value - k.value)                                             as abs_deviation,
    case when k.value > 0 then (r.register_value - k.value) / k.value end       as rel_deviation,
    case when k.value > 0 then {{ round_double('100 * (r.register_value - k.value) / k.value', 1) }} end as rel_pct,
    d.synthetic
from register r
join delivered d using (municipality_code, year)
left join kostra k using (municipality_code, year, measure)
