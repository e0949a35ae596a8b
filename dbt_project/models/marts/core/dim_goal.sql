-- The fifteen goals with their main goal and how many indicators of each kind report on them.
with goals as (
    select * from {{ ref('goals') }}
),

main_goals as (
    select * from {{ ref('main_goals') }}
),

indicator_counts as (
    select
        goal_id,
        count(*) filter (where kind = 'quantitative')   as n_quantitative,
        count(*) filter (where kind = 'qualitative')    as n_qualitative,
        count(*) filter (where kind in ('extra', 'derived')) as n_extra
    from {{ ref('indicators') }}
    group by goal_id
)

select
    g.goal_id,
    g.name_no,
    g.main_goal_id,
    mg.name_no                                          as main_goal_name_no,
    g.report_section,
    g.note,
    cast(coalesce(c.n_quantitative, 0) as integer)      as n_quantitative,
    cast(coalesce(c.n_qualitative, 0) as integer)       as n_qualitative,
    cast(coalesce(c.n_extra, 0) as integer)             as n_extra
from goals g
left join main_goals mg on mg.main_goal_id = g.main_goal_id
left join indicator_counts c on c.goal_id = g.goal_id
