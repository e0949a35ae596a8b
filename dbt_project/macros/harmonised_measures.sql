{#
  harmonised_measures(measures, crosswalk): every measure of `measures` (codes as reported) on the target
  structure of `crosswalk` (columns year, reported_code, reference_code, weight_kind, split_flag,
  mapping_quality, weight): value × weight summed per target code, year and measure. Used for the
  reference structure (int_measures_harmonised) and the cohort structure (int_cohort_measures_harmonised),
  so the two cannot drift apart. The rules are in int_measures_harmonised.sql.
#}
{% macro harmonised_measures(measures, crosswalk) -%}
with measures as (
    select * from {{ measures }}
),

crosswalk as (
    select * from {{ crosswalk }}
),

allocated as (
    select
        m.source, m.measure, c.reference_code as municipality_code, m.year,
        m.value * c.weight as value,
        m.value_low * c.weight as value_low,
        m.value_high * c.weight as value_high,
        m.status_symbol, m.vintage, m.synthetic, m.is_additive,
        c.reported_code, c.weight_kind, c.split_flag, c.mapping_quality
    from measures m
    inner join crosswalk c on c.year = m.year and c.reported_code = m.municipality_code
),

ranked as (
    select *, min(mapping_quality) over (partition by source, measure, municipality_code, year) as best_quality
    from allocated
),

preferred as (
    select * from ranked where mapping_quality = best_quality
),

summed as (
    select
        source, measure, municipality_code, year,
        {{ sum_of_parts('value') }}                                         as value,
        {{ status_of_parts() }}                                             as status_symbol,
        max(vintage)                                                        as vintage,   -- 'unrevised' sorts after 'revised'
        bool_or(synthetic)                                                  as synthetic,
        bool_and(is_additive)                                               as is_additive,
        bool_or(weight_kind in ('merge', 'split') or reported_code <> municipality_code) as is_harmonised,
        bool_or(split_flag)                                                 as split_flag,
        -- bounds add up over parts; unknown when a part is absent (not merely suppressed)
        {{ bounds_of_parts() }},
        {{ sorted_distinct_list('reported_code') }}                         as reported_code_list
    from preferred
    group by source, measure, municipality_code, year
),

with_codes as (
    select *, {{ list_length('reported_code_list') }} as n_reported_codes,
        array_to_string(reported_code_list, ',') as reported_codes
    from summed
)

select
    cast(source as varchar)                 as source,
    cast(measure as varchar)                as measure,
    cast(municipality_code as varchar)      as municipality_code,
    cast(year as integer)                   as year,
    cast(value as double precision)         as value,
    cast(status_symbol as varchar)          as status_symbol,
    cast(vintage as varchar)                as vintage,
    synthetic,
    is_harmonised,
    split_flag,
    cast(n_reported_codes as integer)       as n_reported_codes,
    cast(reported_codes as varchar)         as reported_codes,
    cast(value_low as double precision)     as value_low,
    cast(value_high as double precision)    as value_high
from with_codes
-- a published ratio cannot be rebuilt from parts
where is_additive or (n_reported_codes = 1 and not split_flag)
{%- endmacro %}
