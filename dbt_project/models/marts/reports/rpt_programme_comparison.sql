-- Report table 5.7: each indicator for the report period by size class × programme membership, plus
-- the size classes, the membership groups and the total. Level ambitions are shown as the level at the
-- end of the period (e.g. the wheelchair share in 2019), every other indicator as the change in percent
-- from the start to the end of the period. The groups and their members (the cohort structure, fixed
-- at the end year): int_cohort_members_grouped_at_end_year. Levels are ratios of sums over the members
-- with a value that year (macros/ratio_of_sums.sql); the change is the ratio of sums over the members
-- with a value in BOTH years (the matched set), so a municipality reporting in one year only does not
-- move it.
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
        indicator_id, group_type, size_class, programme, year,
        {{ member_sums() }},
        {{ exact_sum('numerator', 'is_matched') }}                         as matched_numerator,
        {{ exact_sum('denominator', 'is_matched') }}                       as matched_denominator,
        count(*) filter (where is_matched)                               as n_matched
    from members
    group by all
),

valued as (
    select
        s.*,
        {{ ratio_of_sums('s.numerator', 's.denominator', 'i.denominator_measure', 'i.value_scale') }} as value,
        {{ ratio_of_sums('s.matched_numerator', 's.matched_denominator', 'i.denominator_measure', 'i.value_scale') }}
                                                                         as matched_value
    from summed s
    inner join indicators i on i.indicator_id = s.indicator_id
),

paired as (
    select
        i.indicator_id, i.name_no, i.report_label, i.unit, i.ambition_type, i.ambition_text,
        coalesce(s.group_type, e.group_type)                    as group_type,
        coalesce(s.size_class, e.size_class)                    as size_class,
        coalesce(s.programme, e.programme)                      as programme,
        s.value                                                 as start_value,
        e.value                                                 as end_value,
        e.n_municipalities                                      as n_municipalities,
        e.n_missing                                             as n_missing,
        e.n_matched                                             as n_municipalities_matched,
        {{ pct_change('s.matched_value', 'e.matched_value') }} as change_pct,
        coalesce(e.synthetic, false) or coalesce(s.synthetic, false) as synthetic,
        case when i.ambition_type in ('level_min', 'level_min_pct') then 'level' else 'change_pct' end as shown_as
    from indicators i
    inner join valued e on e.indicator_id = i.indicator_id and e.year = {{ var('report_period_end') }}
    left join valued s
        on s.indicator_id = e.indicator_id and s.year = {{ var('report_period_start') }}
       and s.group_type = e.group_type and s.size_class = e.size_class and s.programme = e.programme
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
    cast(p.start_value as double)                                               as start_value,
    cast(p.end_value as double)                                                 as end_value,
    cast(p.change_pct as double)                                                as change_pct,
    cast(case when p.shown_as = 'level' then p.end_value else p.change_pct end as double) as value_shown,
    cast(p.unit as varchar)                                                     as unit,
    cast(p.ambition_text as varchar)                                            as ambition_text,
    cast(p.n_municipalities as integer)                                         as n_municipalities,
    cast(p.n_missing as integer)                                                as n_missing,
    cast(p.n_municipalities_matched as integer)                                 as n_municipalities_matched,
    p.synthetic                                                                 as synthetic
from paired p
left join size_classes sc on sc.size_class = p.size_class
left join programme_groups pg on pg.programme = p.programme
