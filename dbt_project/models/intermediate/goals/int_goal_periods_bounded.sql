-- The years rpt_goal_attainment judges each indicator on, per period. Periods are parameters: 'report'
-- (vars report_period_start → report_period_end, 2015→2019), 'strategy' (strategy_period_start →
-- strategy_period_end, 2014→2020) and 'latest' (latest_period_start → the latest year with data).
-- Within a period the first and last years with a national value are used (own reporting exists for
-- 2016–2018 only; the report, too, judged it on 2018). reliability_note says why the span cannot be
-- judged: it starts before the series is reliable, or spans a series break. missing_reason says why
-- years of the period are empty when SSB lacks what the catalogue configures (int_indicator_missing_reasons).
-- assessed_year: the year the ambition is judged at — the last year used, or, when the ambition has a
-- target year (seeds/ambition_target_years.csv, «innen 2020») and the period runs past it, the last year
-- with a value up to the target year: a 2020 target is not judged on 2025 data.
with indicators as (
    select * from {{ ref('dim_indicator') }}
    where kind in ('quantitative', 'extra', 'derived') and numerator_measure is not null
),

targets as (
    select indicator_id, target_year from {{ ref('ambition_target_years') }}
),

national as (
    select indicator_id, year
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

gaps as (
    select * from {{ ref('int_indicator_missing_reasons') }}
),

bounds as (
    select
        i.indicator_id, p.period, p.period_start,
        case when p.period = 'latest' then max(n.year) else p.period_end end   as period_end,
        min(n.year)                                                             as start_year_used,
        max(n.year)                                                             as end_year_used,
        t.target_year,
        max(n.year) filter (where n.year <= t.target_year)                      as last_year_by_target
    from indicators i
    cross join periods p
    left join targets t on t.indicator_id = i.indicator_id
    left join national n
        on n.indicator_id = i.indicator_id
       and n.year between p.period_start and p.period_end
    group by i.indicator_id, p.period, p.period_start, p.period_end, t.target_year
)

select
    cast(b.indicator_id as varchar)                                             as indicator_id,
    cast(b.period as varchar)                                                   as period,
    cast(b.period_start as integer)                                             as period_start,
    cast(b.period_end as integer)                                               as period_end,
    cast(b.start_year_used as integer)                                          as start_year_used,
    cast(b.end_year_used as integer)                                            as end_year_used,
    cast(b.target_year as integer)                                              as target_year,
    cast(case when b.target_year is not null and b.end_year_used > b.target_year
              then b.last_year_by_target else b.end_year_used end as integer)   as assessed_year,
    cast(case
        when i.reliable_from_year is not null and b.period_start < i.reliable_from_year
            then 'serien er ikke pålitelig før ' || i.reliable_from_year || ', og perioden starter i ' || b.period_start
        when exists (
            select 1 from {{ split_to_rows("coalesce(i.series_break_years, '')", ',') }} as t(break_year)
            where {{ try_cast_integer('trim(break_year)') }} > b.start_year_used
              and {{ try_cast_integer('trim(break_year)') }} <= b.end_year_used)
            then 'brudd i serien (' || i.series_break_years || ') innenfor perioden'
    end as varchar)                                                             as reliability_note,
    cast((select string_agg(distinct g.missing_reason, '; ' order by g.missing_reason) from gaps g
          where g.indicator_id = b.indicator_id
            and g.first_year <= coalesce(b.period_end, 9999)
            and coalesce(g.last_year, 9999) >= b.period_start) as varchar)        as missing_reason
from bounds b
inner join indicators i on i.indicator_id = b.indicator_id
