-- Indicator values on the cohort structure (the report's 2019 codes), the members of the programme
-- groups (fct_indicator_group_value, rpt_programme_share, rpt_programme_comparison). Analyses of a year
-- use that year's structure (statistics.md): the values are computed from the measures as reported,
-- harmonised onto the cohort codes (int_cohort_measures_harmonised: the cohort year exact, earlier years
-- merged forward, later years shared back by population and flagged) — never pushed forward to the
-- reference structure and split back.
-- Derived measures (tilvisningsboliger, dwellings for the disadvantaged, residents 80+) are computed on
-- the cohort codes too (int_cohort_indicator_inputs). Only where a derived indicator has no row on the
-- cohort structure for a municipality and year is it shared back from fct_indicator_value by
-- int_cohort_crosswalk's population weights (method 'split_back_from_reference', split_flag set where a
-- reference municipality has more than one cohort code).
with indicators as (
    select * from {{ ref('dim_indicator') }}
),

derived as (
    select indicator_id from indicators
    where numerator_measure like 'derived.%' or coalesce(denominator_measure, '') like 'derived.%'
),

on_cohort_structure as (
    {{ indicator_values(ref('dim_indicator'), ref('int_cohort_indicator_inputs'), ref('int_indicator_missing_reasons')) }}
),

-- a cohort code spread onto several reference municipalities (split after the cohort year) sums its parts
split_parts as (
    select
        v.indicator_id, c.cohort_code as municipality_code, v.year, i.denominator_measure, i.value_scale,
        v.numerator * c.weight as numerator, v.denominator * c.weight as denominator,
        v.numerator_low * c.weight as numerator_low, v.numerator_high * c.weight as numerator_high,
        v.denominator_low * c.weight as denominator_low, v.denominator_high * c.weight as denominator_high,
        v.status_symbol, v.synthetic, v.missing_reason,
        v.split_flag or c.weight < 1 as split_flag
    from {{ ref('fct_indicator_value') }} v
    inner join indicators i on i.indicator_id = v.indicator_id
    inner join {{ ref('int_cohort_crosswalk') }} c on c.reference_code = v.municipality_code
    where v.indicator_id in (select indicator_id from derived)
      and not exists (
          select 1 from on_cohort_structure o
          where o.indicator_id = v.indicator_id and o.municipality_code = c.cohort_code and o.year = v.year)
),

split_summed as (
    select
        indicator_id, municipality_code, year, {{ dbt.any_value('denominator_measure') }} as denominator_measure,
        {{ dbt.any_value('value_scale') }} as value_scale,
        case when count(numerator) = count(*) then {{ exact_sum('numerator') }} end               as numerator,
        case when count(denominator) = count(*) then {{ exact_sum('denominator') }} end           as denominator,
        case when count(numerator_low) = count(*) then {{ exact_sum('numerator_low') }} end       as numerator_low,
        case when count(numerator_high) = count(*) then {{ exact_sum('numerator_high') }} end     as numerator_high,
        case when count(denominator_low) = count(*) then {{ exact_sum('denominator_low') }} end   as denominator_low,
        case when count(denominator_high) = count(*) then {{ exact_sum('denominator_high') }} end as denominator_high,
        min(status_symbol) as status_symbol, bool_or(synthetic) as synthetic, bool_or(split_flag) as split_flag,
        min(missing_reason) as missing_reason
    from split_parts
    group by indicator_id, municipality_code, year
),

split_back as (
    select *,
        {{ ratio_of_sums('numerator', 'denominator', 'denominator_measure', 'value_scale') }}           as value,
        {{ ratio_low('numerator_low', 'denominator_high', 'denominator_measure', 'value_scale') }}      as value_low,
        {{ ratio_high('numerator_high', 'denominator_low', 'denominator_measure', 'value_scale') }}     as value_high
    from split_summed
),

unioned as (
    select indicator_id, municipality_code, year, value, numerator, denominator, value_low, value_high,
           numerator_low, numerator_high, denominator_low, denominator_high, status_symbol, synthetic,
           split_flag, missing_reason, 'cohort_structure' as structure_method
    from on_cohort_structure
    union all
    select indicator_id, municipality_code, year, value, numerator, denominator, value_low, value_high,
           numerator_low, numerator_high, denominator_low, denominator_high, status_symbol, synthetic,
           split_flag, missing_reason, 'split_back_from_reference'
    from split_back
)

select
    cast(indicator_id as varchar)                                       as indicator_id,
    cast(municipality_code as varchar)                                  as municipality_code,
    cast(year as integer)                                               as year,
    cast(value as double precision)                                     as value,
    cast(numerator as double precision)                                 as numerator,
    cast(denominator as double precision)                               as denominator,
    cast(value_low as double precision)                                 as value_low,
    cast(value_high as double precision)                                as value_high,
    cast(numerator_low as double precision)                             as numerator_low,
    cast(numerator_high as double precision)                            as numerator_high,
    cast(denominator_low as double precision)                           as denominator_low,
    cast(denominator_high as double precision)                          as denominator_high,
    cast(status_symbol as varchar)                                      as status_symbol,
    synthetic,
    coalesce(split_flag, false)                                         as split_flag,
    cast(structure_method as varchar)                                   as structure_method,
    cast(missing_reason as varchar)                                     as missing_reason
from unioned
