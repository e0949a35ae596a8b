-- Husbanken's exports list only the municipalities that got something: for an instrument declared
-- `absent_means_zero` (orchestration/config/husbanken_columns.yaml, mirrored in var
-- husbanken_absent_means_zero), a municipality missing from a year the export covers had none. This
-- model is that zero: every code valid that year (the crosswalk's codes as reported) × every measure the
-- export carries that year, where the export has no row. An instrument not declared keeps absence as
-- absence (no rows here).
{%- set instruments = var('husbanken_absent_means_zero') %}
with received as (
    select * from {{ ref('int_husbanken_instruments_by_year') }}
    where instrument in ({% for i in instruments %}'{{ i }}'{% if not loop.last %}, {% endif %}{% endfor %}{% if not instruments %}null{% endif %})
),

-- a year its months do not complete ('..') is not covered; a municipality with such a row is not absent
covered as (
    select instrument, measure, year, max(received_at) as received_at, bool_or(synthetic) as synthetic
    from received
    where status_symbol is distinct from '..'
    group by instrument, measure, year
),

codes as (
    select distinct year, reported_code as municipality_code
    from {{ ref('stg_reference__municipality_crosswalk') }}
)

select
    c.municipality_code, v.year, v.instrument, v.measure,
    cast(0 as double precision)                                         as value,
    cast(null as varchar)                                               as status_symbol,
    v.received_at, v.synthetic,
    cast(0 as double precision)                                         as value_low,
    cast(0 as double precision)                                         as value_high
from covered v
inner join codes c on c.year = v.year
where not exists (
    select 1 from received r
    where r.instrument = v.instrument and r.measure = v.measure and r.year = v.year
      and r.municipality_code = c.municipality_code)
