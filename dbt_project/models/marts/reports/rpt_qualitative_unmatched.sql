-- The open answers with content that match no theme, so the taxonomy can grow: read them, add terms or
-- a theme to orchestration/config/qualitative_themes.yaml. negated_themes lists themes mentioned only
-- under a negation («vi har ikke FACT-team»).
with answers as (
    select * from {{ ref('int_answer_classified') }}
    where not is_empty and n_themes = 0
),

negated as (
    select report_year, municipality_code, question_id,
           string_agg(theme_id, ' | ' order by theme_id) as negated_themes
    from {{ ref('int_answer_theme_tagged') }}
    where not is_match
    group by report_year, municipality_code, question_id
)

select
    cast(a.report_year as integer)        as year,
    cast(a.goal_id as integer)            as goal_id,
    cast(a.question_id as varchar)        as question_id,
    cast(a.municipality_code as varchar)  as municipality_code,
    cast(a.municipality_name as varchar)  as municipality_name,
    cast(a.answer_type as varchar)        as answer_type,
    cast(a.n_chars as integer)            as n_chars,
    cast(a.answer_text as varchar)        as answer_text,
    cast(n.negated_themes as varchar)     as negated_themes,
    cast(a.synthetic as boolean)          as synthetic
from answers a
left join negated n using (report_year, municipality_code, question_id)
