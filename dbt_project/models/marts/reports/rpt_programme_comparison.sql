-- Report table 5.7: each indicator for the report period by size class × programme membership, plus
-- the size classes, the membership groups and the total. Level ambitions are shown as the level at the
-- end of the period (e.g. the wheelchair share in 2019), every other indicator as the change in percent
-- from the start to the end of the period. The groups and their members (the 2019 structure, fixed at
-- the end year): int_cohort_members_grouped_at_end_year. Levels are ratios of sums over all members
-- (macros/ratio_of_sums.sql); suppressed members add their interval (value_low/high), so the level and
-- the change have bounds and the point is the midpoint (statistics.md: never match on suppressed values).
-- Only where a member is absent in either year does the change fall back to the members known in both
-- years (the matched set, n_municipalities_matched); `method` says which.
-- Own-reported indicators have no municipalities outside the programme and are left out, as in the report.
with indicators as (
    select * from {{ ref('dim_indicator') }}
    where kind in ('quantitative', 'extra', 'derived') and numerator_measure is not null and coverage = 'all'
),

members as (
    select * from {{ ref('int_cohort_members_grouped_at_end_year') }}
),

size_classes as (
    select * from {{ ref('size_classes') }}
),

programme_groups as (
    select * from {{ ref('programme_groups') }}
),

summed as (
    select
        m.indicator_id, m.group_type, m.size_class, m.programme, m.year,
        {{ member_sums() }},
        {{ member_bounds('i.denominator_measure') }},
        {{ exact_sum('m.numerator', 'm.is_matched') }}                   as matched_numerator,
        {{ exact_sum('m.denominator', 'm.is_matched') }}                 as matched_denominator,
        count(*) filter (where m.is_matched)                             as n_matched
    from members m
    inner join indicators i on i.indicator_id = m.indicator_id
    group by m.indicator_id, m.group_type, m.size_class, m.programme, m.year
),

valued as (
    select
        s.*,
        case when s.n_absent > 0 then 'reporting_members'
             when s.n_suppressed > 0 then 'midpoint_of_bounds'
             else 'sum_of_municipalities' end                            as method,
        case when s.n_absent > 0 or s.n_suppressed = 0
             then {{ ratio_of_sums('s.numerator', 's.denominator', 'i.denominator_measure', 'i.value_scale') }}
             else {{ bounded_ratio_point('s.numerator_low', 's.numerator_high', 's.denominator_low', 's.denominator_high',
                                         'i.denominator_measure', 'i.value_scale') }}
        end                                                              as value,
        case when s.n_absent = 0 then {{ ratio_low('s.numerator_low', 's.denominator_high', 'i.denominator_measure', 'i.value_scale') }} end as value_low,
        case when s.n_absent = 0 then {{ ratio_high('s.numerator_high', 's.denominator_low', 'i.denominator_measure', 'i.value_scale') }} end as value_high,
        {{ ratio_of_sums('s.matched_numerator', 's.matched_denominator', 'i.denominator_measure', 'i.value_scale') }}
                                                                         as matched_value
    from summed s
    inner join indicators i on i.indicator_id = s.indicator_id
),

-- the two ends of the period side by side: one pivot over `side` instead of a block per end
{%- set side_columns = ['value', 'value_low', 'value_high', 'matched_value', 'method', 'n_suppressed', 'n_absent',
                        'n_zero', 'n_municipalities', 'n_missing', 'n_matched', 'synthetic'] %}
sides as (
    select
        {% for column in side_columns -%}
        {{ arg_max(column, 'year', 'year = ' ~ var('report_period_start')) }} as start_{{ column }},
        {{ arg_max(column, 'year', 'year = ' ~ var('report_period_end')) }}   as end_{{ column }},
        {% endfor -%}
        indicator_id, group_type, size_class, programme
    from valued
    where year in ({{ var('report_period_start') }}, {{ var('report_period_end') }})
    group by indicator_id, group_type, size_class, programme
    having count(*) filter (where year = {{ var('report_period_end') }}) > 0
),

paired as (
    select
        i.indicator_id, i.name_no, i.report_label, i.unit, i.ambition_type, i.ambition_text,
        s.group_type, s.size_class, s.programme,
        s.start_value, s.end_value, s.start_value_low, s.start_value_high, s.end_value_low, s.end_value_high,
        s.end_n_municipalities                                  as n_municipalities,
        s.end_n_missing                                         as n_missing,
        s.end_n_matched                                         as n_municipalities_matched,
        s.end_n_suppressed as n_suppressed, s.end_n_absent as n_absent, s.end_n_zero as n_zero,
        s.start_n_suppressed as n_suppressed_start, s.start_n_absent as n_absent_start, s.start_n_zero as n_zero_start,
        s.end_method                                            as level_method,
        -- the change over fixed membership with bounds, unless a member is absent at either end
        case when s.start_method is null then null
             when s.start_n_absent > 0 or s.end_n_absent > 0 then 'matched_reporting_members'
             when s.start_n_suppressed > 0 or s.end_n_suppressed > 0 then 'midpoint_of_bounds'
             else 'sum_of_municipalities' end                   as change_method,
        case when s.start_n_absent > 0 or s.end_n_absent > 0
             then {{ pct_change('s.start_matched_value', 's.end_matched_value') }}
             else {{ pct_change('s.start_value', 's.end_value') }} end as change_pct,
        case when s.start_n_absent = 0 and s.end_n_absent = 0
             then {{ pct_change_low('s.start_value_low', 's.start_value_high', 's.end_value_low') }} end as change_pct_low,
        case when s.start_n_absent = 0 and s.end_n_absent = 0
             then {{ pct_change_high('s.start_value_low', 's.end_value_high') }} end               as change_pct_high,
        coalesce(s.end_synthetic, false) or coalesce(s.start_synthetic, false) as synthetic,
        case when i.ambition_type in ('level_min', 'level_min_pct') then 'level' else 'change_pct' end as shown_as
    from sides s
    inner join indicators i on i.indicator_id = s.indicator_id
)

select
    cast(p.indicator_id as varchar)                                             as indicator_id,
    cast(p.name_no as varchar)                                                  as indicator_name_no,
    cast(p.report_label as varchar)                                             as report_label,
    cast({{ var('report_period_start') }} as integer)                           as start_year,
    cast({{ var('report_period_end') }} as integer)                             as end_year,
    cast(p.group_type as varchar)                                               as group_type,
    cast(p.size_class as varchar)                                               as size_class,
    cast(p.programme as varchar)                                                as programme,
    cast(case p.group_type
        when 'total' then 'I alt'
        when 'size_class' then sc.name_no
        when 'programme' then pg.name_no
        else sc.short_name_no || ' ' || pg.size_class_suffix_no
    end as varchar)                                                             as group_label,
    cast(p.shown_as as varchar)                                                 as shown_as,
    cast(p.start_value as double precision)                                     as start_value,
    cast(p.end_value as double precision)                                       as end_value,
    cast(p.change_pct as double precision)                                      as change_pct,
    cast(case when p.shown_as = 'level' then p.end_value else p.change_pct end as double precision) as value_shown,
    cast(p.unit as varchar)                                                     as unit,
    cast(p.ambition_text as varchar)                                            as ambition_text,
    cast(p.n_municipalities as integer)                                         as n_municipalities,
    cast(p.n_missing as integer)                                                as n_missing,
    cast(p.n_municipalities_matched as integer)                                 as n_municipalities_matched,
    p.synthetic                                                                 as synthetic,
    {% for column in ['start_value_low', 'start_value_high', 'end_value_low', 'end_value_high'] -%}
    cast(p.{{ column }} as double precision)                                    as {{ column }},
    {% endfor -%}
    cast(p.change_pct_low as double precision)                                  as change_pct_low,
    cast(p.change_pct_high as double precision)                                           as change_pct_high,
    cast(case when p.shown_as = 'level' then p.end_value_low else p.change_pct_low end as double precision) as value_shown_low,
    cast(case when p.shown_as = 'level' then p.end_value_high else p.change_pct_high end as double precision) as value_shown_high,
    cast(p.level_method as varchar)                                             as level_method,
    cast(p.change_method as varchar)                                            as change_method,
    cast(case when p.shown_as = 'level' then p.level_method else p.change_method end as varchar) as method,
    cast(p.n_suppressed as integer)                                             as n_suppressed,
    cast(p.n_absent as integer)                                                 as n_absent,
    cast(p.n_zero as integer)                                                   as n_zero,
    cast(p.n_suppressed_start as integer)                                       as n_suppressed_start,
    cast(p.n_absent_start as integer)                                           as n_absent_start,
    cast(p.n_zero_start as integer)                                             as n_zero_start
from paired p
left join size_classes sc on sc.size_class = p.size_class
left join programme_groups pg on pg.programme = p.programme
