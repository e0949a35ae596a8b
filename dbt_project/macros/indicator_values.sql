{#
  indicator_values(indicators, inputs, missing_reasons): indicator × municipality × year from a pool of
  measures (columns measure, municipality_code, year, value, status_symbol, vintage, synthetic,
  is_harmonised, split_flag, value_low, value_high): value = numerator ÷ denominator × value_scale (or the
  count), with bounds, and `missing_reason` from the catalogue gaps (int_indicator_missing_reasons). An
  indicator a gap left without any numerator row in a year gets its rows anyway, empty and with the reason.
  Used on the reference structure (fct_indicator_value) and the cohort structure (int_cohort_indicator_value).
#}
{% macro indicator_values(indicators, inputs, missing_reasons) -%}
with indicators as (
    select * from {{ indicators }}
    where kind in ('quantitative', 'extra', 'derived')
      and numerator_measure is not null
),

inputs as (
    select * from {{ inputs }}
),

joined as (
    select
        i.indicator_id,
        i.denominator_measure,
        i.value_scale,
        n.municipality_code,
        n.year,
        n.value                                                         as numerator,
        d.value                                                         as denominator,
        n.value_low                                                     as numerator_low,
        n.value_high                                                    as numerator_high,
        d.value_low                                                     as denominator_low,
        d.value_high                                                    as denominator_high,
        n.status_symbol                                                 as numerator_status,
        d.status_symbol                                                 as denominator_status,
        d.municipality_code is not null                                 as has_denominator_row,
        n.vintage                                                       as numerator_vintage,
        d.vintage                                                       as denominator_vintage,
        n.synthetic or coalesce(d.synthetic, false)                     as synthetic,
        n.is_harmonised or coalesce(d.is_harmonised, false)             as is_harmonised,
        n.split_flag or coalesce(d.split_flag, false)                   as split_flag
    from indicators i
    inner join inputs n
        on n.measure = i.numerator_measure
    left join inputs d
        on d.measure = i.denominator_measure
       and d.municipality_code = n.municipality_code
       and d.year = n.year
),

computed as (
    select
        *,
        case
            when denominator_measure is null then numerator
            when denominator > 0 then numerator / denominator * value_scale
        end                                                             as value,
        -- the interval of the value: a count's own; a ratio's from the ends of its parts' intervals
        case
            when denominator_measure is null then numerator_low
            when denominator_high > 0 then numerator_low / denominator_high * value_scale
        end                                                             as value_low,
        case
            when denominator_measure is null then numerator_high
            when denominator_low > 0 then numerator_high / denominator_low * value_scale
        end                                                             as value_high
    from joined
),

-- catalogue gaps (SSB lacks a configured table or code): why an indicator is empty in those years
gaps as (
    select * from {{ missing_reasons }}
),

-- the municipality × year rows of this structure, as the inputs have them
grid as (
    select municipality_code, year, bool_or(synthetic) as synthetic
    from inputs
    group by municipality_code, year
),

-- the years with figures; population alone (loaded a year ahead as 31 December's denominator) does not
-- make a year
figure_years as (
    select distinct year from inputs where measure not like 'population%'
),

gap_reasons as (
    select g.indicator_id, y.year,
           string_agg(distinct g.missing_reason, '; ' order by g.missing_reason) as missing_reason
    from gaps g
    inner join figure_years y
        on y.year between g.first_year and coalesce(g.last_year, 9999)
    group by g.indicator_id, y.year
),

valued as (
    select
    cast(indicator_id as varchar)                                       as indicator_id,
    cast(municipality_code as varchar)                                  as municipality_code,
    cast(year as integer)                                               as year,
    cast(value as double precision)                                     as value,
    cast(numerator as double precision)                                 as numerator,
    cast(denominator as double precision)                               as denominator,
    -- the inputs' status symbol: with a null value, why it is missing (the source's symbol — also when only
    -- a part of a sum was suppressed, e.g. '<4' for a Husbanken purpose or a merged part — '..' when an
    -- input is not there, '.' when the denominator is 0)
    cast(coalesce(
        numerator_status,
        denominator_status,
        case when value is null and denominator_measure is not null and not has_denominator_row then '..' end,
        case when value is null and denominator = 0 then '.' end,
        case when value is null then '..' end) as varchar)              as status_symbol,
    cast(case
        when numerator_vintage = 'unrevised' or denominator_vintage = 'unrevised' then 'unrevised'
        else numerator_vintage end as varchar)                          as vintage,
    synthetic,
    is_harmonised,
    split_flag,
    -- bounds (docs/statistical_method.md): equal to value when it is known; for a suppressed cell the
    -- publisher's interval (seeds/suppression_intervals.csv); null when the value is absent
    cast(value_low as double precision)                                 as value_low,
    cast(value_high as double precision)                                as value_high,
    cast(numerator_low as double precision)                             as numerator_low,
    cast(numerator_high as double precision)                            as numerator_high,
    cast(denominator_low as double precision)                           as denominator_low,
    cast(denominator_high as double precision)                          as denominator_high
from computed
),

-- an indicator whose numerator a gap left without any row in a year: empty rows, so a reader sees why
empty_by_gap as (
    select
        cast(i.indicator_id as varchar) as indicator_id, cast(g.municipality_code as varchar) as municipality_code,
        cast(g.year as integer) as year,
        cast(null as double precision) as value, cast(null as double precision) as numerator, cast(null as double precision) as denominator,
        cast('..' as varchar) as status_symbol, cast(null as varchar) as vintage, g.synthetic,
        false as is_harmonised, false as split_flag,
        cast(null as double precision) as value_low, cast(null as double precision) as value_high,
        cast(null as double precision) as numerator_low, cast(null as double precision) as numerator_high,
        cast(null as double precision) as denominator_low, cast(null as double precision) as denominator_high,
        cast(r.missing_reason as varchar) as missing_reason
    from indicators i
    inner join gap_reasons r on r.indicator_id = i.indicator_id
    inner join grid g on g.year = r.year
    where not exists (select 1 from inputs n where n.measure = i.numerator_measure and n.year = r.year)
)

select
    v.*,
    -- why an empty value is empty when SSB lacks what the catalogue configures
    cast(case when v.value is null then r.missing_reason end as varchar) as missing_reason
from valued v
left join gap_reasons r on r.indicator_id = v.indicator_id and r.year = v.year
union all
select * from empty_by_gap
{%- endmacro %}
