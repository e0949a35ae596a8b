-- Goal attainment per indicator and period (report tables 5.1–5.5): the national value at the start
-- and end of the period, the change, the ambition, and the status colour by the documented rule
-- (macros/colour_rule.sql, seeds/colour_rules.csv) with its reason in words.
-- Periods are parameters: 'report' (vars report_period_start → report_period_end, 2015→2019),
-- 'strategy' (strategy_period_start → strategy_period_end, 2014→2020) and 'latest'
-- (latest_period_start → the latest year with data). Within a period the first and last years with
-- a value are used (own reporting exists for 2016–2018 only; the report, too, judged it on 2018).
-- Ambitions measured from a baseline year (change from 2014, more than / the level of 2017) are judged
-- on the change from that year; level ambitions on the end value.
-- Own-reported indicators cover the programme municipalities only, and say so in `coverage`.
with indicators as (
    select * from {{ ref('dim_indicator') }}
    where kind in ('quantitative', 'extra', 'derived') and numerator_measure is not null
),

national as (
    select indicator_id, year, value, n_municipalities
    from {{ ref('fct_indicator_group_value') }}
    where group_type = 'national' and value is not null
),

periods as (
    select 'report' as period, {{ var('report_period_start') }} as period_start, {{ var('report_period_end') }} as period_end
    union all
    select 'strategy', {{ var('strategy_period_start') }}, {{ var('strategy_period_end') }}
    union all
    select 'latest', {{ var('latest_period_start') }}, 9999
),

bounds as (
    select
        i.indicator_id, p.period, p.period_start,
        case when p.period = 'latest' then max(n.year) else p.period_end end   as period_end,
        min(n.year)                                                             as start_year_used,
        max(n.year)                                                             as end_year_used
    from indicators i
    cross join periods p
    left join national n
        on n.indicator_id = i.indicator_id
       and n.year between p.period_start and p.period_end
    group by i.indicator_id, p.period, p.period_start, p.period_end
),

measured as (
    select
        b.*,
        i.ambition_type, i.ambition_value, i.ambition_text, i.baseline_year, i.desired_direction,
        i.coverage, i.reliable_from_year, i.series_break_years,
        s.value                                                                 as start_value,
        e.value                                                                 as end_value,
        e.n_municipalities                                                      as n_municipalities_end,
        bl.value                                                                as baseline_value,
        (select sum(c.value) from national c
          where c.indicator_id = b.indicator_id
            and c.year between i.baseline_year and b.end_year_used)             as cumulative_value
    from bounds b
    inner join indicators i on i.indicator_id = b.indicator_id
    left join national s on s.indicator_id = b.indicator_id and s.year = b.start_year_used
    left join national e on e.indicator_id = b.indicator_id and e.year = b.end_year_used
    left join national bl on bl.indicator_id = b.indicator_id and bl.year = i.baseline_year
),

assessed as (
    select
        *,
        end_value - start_value                                                 as change_abs,
        case when start_value <> 0 then (end_value - start_value) / abs(start_value) * 100 end as change_pct,
        case when baseline_value <> 0 then (end_value - baseline_value) / abs(baseline_value) * 100 end
                                                                                as change_from_baseline_pct,
        -- reliability: the period must not start before the series is reliable, nor span a break
        case
            when reliable_from_year is not null and period_start < reliable_from_year
                then 'serien er ikke pålitelig før ' || reliable_from_year || ', og perioden starter i ' || period_start
            when exists (
                select 1 from unnest(string_split(coalesce(series_break_years, ''), ',')) as t(break_year)
                where try_cast(trim(break_year) as integer) > start_year_used
                  and try_cast(trim(break_year) as integer) <= end_year_used)
                then 'brudd i serien (' || series_break_years || ') innenfor perioden'
        end                                                                     as reliability_note
    from measured
),

judged as (
    select
        *,
        case when ambition_type in ('change_pct_from_baseline', 'more_than_year', 'keep_level_of_year')
             then change_from_baseline_pct else change_pct end                  as assessed_change_pct
    from assessed
),

ruled as (
    select
        *,
        {{ colour_rule('ambition_type', 'ambition_value', 'desired_direction', 'assessed_change_pct',
                       'end_value', 'cumulative_value', 'reliability_note is null') }} as colour_rule
    from judged
)

select
    cast(indicator_id as varchar)                                               as indicator_id,
    cast(period as varchar)                                                     as period,
    cast(period_start as integer)                                               as period_start_year,
    cast(period_end as integer)                                                 as period_end_year,
    cast(start_year_used as integer)                                            as start_year,
    cast(end_year_used as integer)                                              as end_year,
    cast(start_value as double)                                                 as start_value,
    cast(end_value as double)                                                   as latest_value,
    cast(change_abs as double)                                                  as change_abs,
    cast(change_pct as double)                                                  as change_pct,
    cast(baseline_year as integer)                                              as baseline_year,
    cast(baseline_value as double)                                              as baseline_value,
    cast(change_from_baseline_pct as double)                                    as change_from_baseline_pct,
    cast(case when ambition_type = 'cumulative_min' then cumulative_value end as double) as cumulative_value,
    cast(ambition_type as varchar)                                              as ambition_type,
    cast(ambition_value as double)                                              as ambition_value,
    cast(ambition_text as varchar)                                              as ambition_text,
    cast(desired_direction as varchar)                                          as desired_direction,
    cast(case when coverage = 'programme'
              then 'Bare programkommunene (kommunenes egenrapportering)'
              else 'Alle kommuner' end as varchar)                              as coverage,
    cast(n_municipalities_end as integer)                                       as n_municipalities,
    cast({{ colour_from_rule('colour_rule') }} as varchar)                      as status_colour,
    cast(colour_rule as varchar)                                                as colour_rule,
    cast({{ colour_reason('colour_rule', 'ambition_type', 'ambition_value', 'assessed_change_pct', 'end_value',
                          'cumulative_value', 'baseline_year', 'reliability_note', 'ambition_text') }} as varchar)
                                                                                as colour_reason
from ruled
