-- Every measure on the cohort structure (codes valid on 31.12 of var programme_cohort_year): the same
-- harmonisation as int_measures_harmonised (macros/harmonised_measures.sql) over int_cohort_codes_mapped,
-- so the cohort year's values are exactly as reported, earlier years are merged forward (sums), and only
-- later years are shared back by population (split_flag).
-- A year's population at 31.12 is SSB's 1 January figure of the next year, published on the NEXT year's
-- codes (1.1.2020: 1103 Stavanger with Finnøy and Rennesøy): it is mapped with the structure of year + 1
-- (where the crosswalk has that year), so the cohort year's population is shared back from the reformed
-- codes (flagged), never read as if 1103 in 2020 were 1103 in 2019. The shifted rows travel under a
-- '@next_year' measure name so they never mix with a row of the following year.
{%- set population = "source = 'SSB' and measure in ('population_end_of_year', 'population_80_plus_end_of_year')" %}
{%- set shifted_measures %}(
    select m.source,
        case when s.shift then m.measure || '@next_year' else m.measure end as measure,
        m.municipality_code,
        case when s.shift then m.year + 1 else m.year end as year,
        m.value, m.status_symbol, m.vintage, m.synthetic, m.is_additive, m.value_low, m.value_high
    from {{ ref('int_measures_as_reported') }} m
    cross join lateral (
        select {{ population }} and exists (
            select 1 from {{ ref('int_municipality_crosswalk') }} x
            where x.year = m.year + 1 and x.reported_code = m.municipality_code) as shift) s
) as shifted{%- endset %}
with harmonised as (
    {{ harmonised_measures(shifted_measures, ref('int_cohort_codes_mapped')) }}
)

select
    source,
    replace(measure, '@next_year', '') as measure,
    municipality_code,
    case when measure like '%@next_year' then year - 1 else year end as year,
    value, status_symbol, vintage, synthetic, is_harmonised, split_flag, n_reported_codes, reported_codes,
    value_low, value_high
from harmonised
