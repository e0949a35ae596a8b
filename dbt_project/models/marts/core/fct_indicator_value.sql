{#- A partitioned run (vars min_year/max_year) rebuilds only its years: the window is deleted, then
    re-inserted; a run without a window rebuilds everything. -#}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='append_new_columns',
    pre_hook="{% if is_incremental() %}delete from {{ this }} {{ year_window_filter('where') }}{% endif %}"
) }}

-- Indicator × municipality × year, with the numerator and denominator every value is computed from:
-- value = numerator ÷ denominator × value_scale (or the count itself). Driven by the catalogue: an
-- indicator whose measures are in int_indicator_inputs needs only a row in seeds/indicators.csv.
with indicators as (
    select * from {{ ref('dim_indicator') }}
    where kind in ('quantitative', 'extra', 'derived')
      and numerator_measure is not null
),

inputs as (
    select * from {{ ref('int_indicator_inputs') }}
),

computed as (
    {{ indicator_values(ref('dim_indicator'), ref('int_indicator_inputs')) }}
),

-- catalogue gaps (SSB lacks a configured table or code): why an indicator is empty in those years
gaps as (
    select * from {{ ref('int_indicator_missing_reasons') }}
),

-- the municipality × year rows of this build (the reference structure's, as the inputs have them)
grid as (
    select municipality_code, year, bool_or(synthetic) as synthetic
    from inputs
    group by municipality_code, year
),

-- the years this build has figures for; population alone (loaded a year ahead as 31 December's
-- denominator) does not make a year
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

-- an indicator whose numerator a gap left without any row in a year gets its rows anyway, empty and
-- with the reason, so a reader of the fact sees why
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
),

explained as (
    select
        c.*,
        -- why an empty value is empty when SSB lacks what the catalogue configures
        cast(case when c.value is null then r.missing_reason end as varchar) as missing_reason
    from computed c
    left join gap_reasons r on r.indicator_id = c.indicator_id and r.year = c.year
    union all
    select * from empty_by_gap
)

select * from explained
{% if is_incremental() %}{{ year_window_filter('where') }}{% endif %}
