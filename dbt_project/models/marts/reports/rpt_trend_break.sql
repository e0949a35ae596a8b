-- «Trendbrudd» (report 2.2, 3.3.1, 3.8.1): for every KOSTRA/IPLOS series, nationally and by size class,
-- the average annual change before the strategy (var trend_pre_start_year → trend_break_year,
-- 2008→2014) against the development after (trend_break_year → trend_post_end_year, 2014→2019).
-- Average annual change = compound rate between the two end points of the group value (ratio of sums).
-- A trend break is a reversal (up before, down after or the reverse) or a change of at least
-- var trend_break_min_difference_pct percentage points per year; |rate| < var trend_flat_pct is flat.
with indicators as (
    select * from {{ ref('dim_indicator') }}
    where kind in ('quantitative', 'extra', 'derived') and source in ('KOSTRA', 'IPLOS')
      and numerator_measure is not null
),

groups as (
    select * from {{ ref('fct_indicator_group_value') }}
    where group_type in ('national', 'size_class')
),

points as (
    select
        g.indicator_id, g.group_type, g.group_code,
        max(g.value) filter (where g.year = {{ var('trend_pre_start_year') }})  as value_pre_start,
        max(g.value) filter (where g.year = {{ var('trend_break_year') }})      as value_break,
        max(g.value) filter (where g.year = {{ var('trend_post_end_year') }})   as value_post_end,
        coalesce(bool_or(g.synthetic) filter (where g.year in ({{ var('trend_pre_start_year') }},
            {{ var('trend_break_year') }}, {{ var('trend_post_end_year') }})), false) as synthetic
    from groups g
    inner join indicators i on i.indicator_id = g.indicator_id
    group by g.indicator_id, g.group_type, g.group_code
),

rates as (
    select
        *,
        case when value_pre_start > 0 and value_break > 0
             then (power(value_break / value_pre_start,
                         1.0 / ({{ var('trend_break_year') }} - {{ var('trend_pre_start_year') }})) - 1) * 100
        end                                                             as avg_annual_change_pre_pct,
        case when value_break > 0 and value_post_end > 0
             then (power(value_post_end / value_break,
                         1.0 / ({{ var('trend_post_end_year') }} - {{ var('trend_break_year') }})) - 1) * 100
        end                                                             as avg_annual_change_post_pct
    from points
),

directions as (
    select
        *,
        case when avg_annual_change_pre_pct is null then null
             when abs(avg_annual_change_pre_pct) < {{ var('trend_flat_pct') }} then 'flat'
             when avg_annual_change_pre_pct > 0 then 'up' else 'down' end    as direction_pre,
        case when avg_annual_change_post_pct is null then null
             when abs(avg_annual_change_post_pct) < {{ var('trend_flat_pct') }} then 'flat'
             when avg_annual_change_post_pct > 0 then 'up' else 'down' end   as direction_post,
        avg_annual_change_post_pct - avg_annual_change_pre_pct               as difference_pct_points
    from rates
)

select
    cast(d.indicator_id as varchar)                                     as indicator_id,
    cast(d.group_type as varchar)                                       as group_type,
    cast(d.group_code as varchar)                                       as group_code,
    cast({{ var('trend_pre_start_year') }} as integer)                  as pre_start_year,
    cast({{ var('trend_break_year') }} as integer)                      as break_year,
    cast({{ var('trend_post_end_year') }} as integer)                   as post_end_year,
    cast(d.value_pre_start as double precision)                         as value_pre_start,
    cast(d.value_break as double precision)                             as value_break,
    cast(d.value_post_end as double precision)                          as value_post_end,
    cast(d.avg_annual_change_pre_pct as double precision)               as avg_annual_change_pre_pct,
    cast(d.avg_annual_change_post_pct as double precision)              as avg_annual_change_post_pct,
    cast(d.difference_pct_points as double precision)                   as difference_pct_points,
    cast(d.direction_pre as varchar)                                    as direction_pre,
    cast(d.direction_post as varchar)                                   as direction_post,
    cast(case
        when d.difference_pct_points is null then null
        when d.direction_pre in ('up', 'down') and d.direction_post in ('up', 'down')
             and d.direction_pre <> d.direction_post then 'reversal'
        when abs(d.difference_pct_points) >= {{ var('trend_break_min_difference_pct') }}
             then case when sign(d.difference_pct_points) = sign(d.avg_annual_change_pre_pct)
                            or d.direction_pre = 'flat' then 'acceleration' else 'slowdown' end
        else 'none'
    end as varchar)                                                     as trend_break_kind,
    cast(case
        when d.difference_pct_points is null then null
        else (d.direction_pre in ('up', 'down') and d.direction_post in ('up', 'down')
              and d.direction_pre <> d.direction_post)
             or abs(d.difference_pct_points) >= {{ var('trend_break_min_difference_pct') }}
    end as boolean)                                                     as is_trend_break,
    cast(i.desired_direction as varchar)                                as desired_direction,
    -- did the development after the break move the way the strategy wants, compared with before?
    cast(case
        when d.difference_pct_points is null or i.desired_direction = 'none' then null
        when i.desired_direction = 'up' then d.difference_pct_points > 0
        else d.difference_pct_points < 0
    end as boolean)                                                     as break_in_desired_direction,
    d.synthetic                                                         as synthetic
from directions d
inner join indicators i on i.indicator_id = d.indicator_id
