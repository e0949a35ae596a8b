-- Per goal, year and theme, how many of the municipalities that answered the goal's open questions
-- describe the theme, in the report's words («Om lag halvparten av kommunene (34 av 70) beskriver …»):
-- for all programme municipalities (size_class 'all') and per size class. Both question kinds of a goal
-- (activities and assessment) are read together, as the report did (2.3).
with answers as (
    select a.*, coalesce(s.size_class, 'unknown') as size_class
    from {{ ref('int_answer_classified') }} a
    left join {{ ref('int_programme_report_municipality_size') }} s using (report_year, municipality_code)
    where not a.is_empty
),

answered as (  -- denominators: municipalities with at least one non-empty open answer to the goal
    select report_year, goal_id, size_class, count(distinct municipality_code) as n_answered,
           bool_or(synthetic) as synthetic
    from answers group by report_year, goal_id, size_class
    union all
    select report_year, goal_id, 'all', count(distinct municipality_code), bool_or(synthetic)
    from answers group by report_year, goal_id
),

tagged as (
    select t.report_year, t.goal_id, t.theme_id, a.size_class, t.municipality_code
    from {{ ref('int_answer_theme_tagged') }} t
    inner join answers a using (report_year, municipality_code, question_id)
    where t.is_match
),

counts as (
    select report_year, goal_id, theme_id, size_class, count(distinct municipality_code) as n_municipalities
    from tagged group by report_year, goal_id, theme_id, size_class
    union all
    select report_year, goal_id, theme_id, 'all', count(distinct municipality_code)
    from tagged group by report_year, goal_id, theme_id
),

taxonomy as (
    select * from {{ ref('int_qualitative_themes') }}
),

words as (
    select * from {{ ref('frequency_words') }}
),

shares as (
    -- a double numerator: PostgreSQL divides integers as integers
    select c.*, d.n_answered, d.synthetic, cast(c.n_municipalities as double precision) / d.n_answered as share
    from counts c
    inner join answered d using (report_year, goal_id, size_class)
),

worded as (
    select s.*, w.frequency_word, w.subject
    from shares s
    inner join words w
        on (w.n_exact is null and s.n_municipalities > 1 and s.share >= w.min_share and s.share < w.max_share)
        or w.n_exact = s.n_municipalities
)

select
    cast(w.goal_id as integer)                    as goal_id,
    cast(w.report_year as integer)                as year,
    cast(w.theme_id as varchar)                   as theme,
    cast(x.theme_name as varchar)                 as theme_name,
    cast(w.size_class as varchar)                 as size_class,
    cast(w.n_municipalities as integer)           as n_municipalities,
    cast(w.n_answered as integer)                 as n_answered,
    cast(w.share as double precision)             as share,
    cast(w.frequency_word as varchar)             as frequency_word,
    cast(replace(w.subject, '{kommunene}', case w.size_class
            when 'all' then 'kommunene'
            when 'large' then 'de store kommunene'
            when 'medium' then 'de mellomstore kommunene'
            when 'small' then 'de små kommunene'
            else 'kommunene med ukjent størrelse' end)
        || ' (' || w.n_municipalities || ' av ' || w.n_answered || ') ' || x.predicate || '.' as varchar)
                                                  as sentence,
    cast(w.synthetic as boolean)                  as synthetic
from worded w
inner join taxonomy x on x.theme_id = w.theme_id and x.goal_id = w.goal_id
