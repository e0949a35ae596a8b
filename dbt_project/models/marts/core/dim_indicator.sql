-- The indicator catalogue for BI: seeds/indicators.csv with its goal and main goal, and the ambition
-- actually applied (the wheelchair level comes from var wheelchair_ambition_pct, see dbt_project.yml).
with indicators as (
    select * from {{ ref('indicators') }}
),

goals as (
    select * from {{ ref('goals') }}
),

main_goals as (
    select * from {{ ref('main_goals') }}
)

select
    i.indicator_id,
    i.name_no,
    i.kind,
    i.goal_id,
    g.name_no                                                           as goal_name_no,
    g.main_goal_id,
    mg.name_no                                                          as main_goal_name_no,
    i.source,
    i.unit,
    i.numerator_definition,
    i.denominator_definition,
    i.numerator_measure,
    i.denominator_measure,
    cast(coalesce(i.value_scale, 1) as double precision)                as value_scale,
    i.coverage,
    i.desired_direction,
    i.baseline_year,
    i.ambition_type,
    cast(case when i.indicator_id = 'wheelchair_share' then {{ var('wheelchair_ambition_pct') }}
              else i.ambition_value end as double precision)            as ambition_value,
    i.ambition_value                                                    as ambition_value_catalogue,
    i.ambition_text,
    i.ambition_type not in ('none', 'realise_allocation_letter')        as has_ambition,
    i.reliable_from_year,
    i.series_break_years,
    i.question_id,
    i.question_type,
    i.report_label,
    i.report_section,
    i.quality_note
from indicators i
left join goals g on g.goal_id = i.goal_id
left join main_goals mg on mg.main_goal_id = g.main_goal_id
