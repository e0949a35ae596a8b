-- Each open answer of the programme reports with each theme it was tagged with and the words that
-- signalled it (evidence), so a person sees why. Answers with no theme: rpt_qualitative_unmatched.
with answers as (
    select * from {{ ref('int_answer_classified') }}
),

themes as (
    select * from {{ ref('int_answer_theme_tagged') }} where is_match
),

taxonomy as (
    select distinct theme_id, theme_name from {{ ref('int_qualitative_themes') }}
),

sizes as (
    select * from {{ ref('int_programme_report_municipality_size') }}
)

select
    cast(a.report_year as integer)               as year,
    cast(a.municipality_code as varchar)         as municipality_code,
    cast(a.municipality_name as varchar)         as municipality_name,
    cast(coalesce(s.size_class, 'unknown') as varchar) as size_class,
    cast(a.goal_id as integer)                   as goal_id,
    cast(a.question_id as varchar)               as question_id,
    cast(a.asked_as as varchar)                  as asked_as,
    cast(a.answer_type as varchar)               as answer_type,
    cast(t.theme_id as varchar)                  as theme_id,
    cast(x.theme_name as varchar)                as theme_name,
    cast(t.evidence as varchar)                  as evidence,
    cast(nullif(t.negated_evidence, '') as varchar) as negated_evidence,
    cast(t.n_evidence as integer)                as n_evidence,
    cast(t.quote_text as varchar)                as quote_text,
    cast(a.answer_text as varchar)               as answer_text,
    cast(a.synthetic as boolean)                 as synthetic
from themes t
inner join answers a using (report_year, municipality_code, question_id)
left join taxonomy x on x.theme_id = t.theme_id
left join sizes s on s.report_year = a.report_year and s.municipality_code = a.municipality_code
