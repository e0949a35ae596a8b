-- Every measure on the cohort structure (codes valid on 31.12 of var programme_cohort_year): the same
-- harmonisation as int_measures_harmonised (macros/harmonised_measures.sql) over int_cohort_codes_mapped,
-- so the cohort year's values are exactly as reported, earlier years are merged forward (sums), and only
-- later years are shared back by population (split_flag).
-- A figure published on a later year's codes (`codes_year`: population at 31.12 is SSB's 1 January figure
-- of the next year, on the NEXT year's codes — 1.1.2020: 1103 Stavanger with Finnøy and Rennesøy) is mapped
-- with the structure of that year (where the crosswalk has it), so the cohort year's population is shared
-- back from the reformed codes (flagged), never read as if 1103 in 2020 were 1103 in 2019. Shifted rows
-- travel under the measure name '<measure>@<years shifted>' so they never mix with a row of that year.
{%- set shifted_measures %}(
    select m.source,
        case when s.shift then m.measure || '@' || cast(m.codes_year - m.year as varchar) else m.measure end as measure,
        m.municipality_code,
        case when s.shift then m.codes_year else m.year end as year,
        m.value, m.status_symbol, m.vintage, m.synthetic, m.is_additive, m.value_low, m.value_high
    from {{ ref('int_measures_as_reported') }} m
    cross join lateral (
        select m.codes_year <> m.year and exists (
            select 1 from {{ ref('int_municipality_crosswalk') }} x
            where x.year = m.codes_year and x.reported_code = m.municipality_code) as shift) s
) as shifted{%- endset %}
with harmonised as (
    {{ harmonised_measures(shifted_measures, ref('int_cohort_codes_mapped')) }}
)

select
    source,
    split_part(measure, '@', 1) as measure,
    municipality_code,
    year - coalesce(cast(nullif(split_part(measure, '@', 2), '') as integer), 0) as year,
    value, status_symbol, vintage, synthetic, is_harmonised, split_flag, n_reported_codes, reported_codes,
    value_low, value_high
from harmonised
