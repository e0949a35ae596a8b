-- Up to three representative quotes per year, goal and theme, by a stated rule (docs/qualitative.md):
-- one per municipality; first the answers with the most distinct evidence words for the theme, then
-- quotes of at least 40 characters, then the quote length nearest 150 characters, then municipality
-- code and question id (so the choice is reproducible). The quote is the sentence that carries the
-- theme's first evidence, cleaned, personal data masked, cut at 300 characters, never a formula;
-- quote_html is the same, HTML-escaped.
with tagged as (
    select t.*, a.municipality_name
    from {{ ref('int_answer_theme_tagged') }} t
    inner join {{ ref('int_answer_classified') }} a using (report_year, municipality_code, question_id)
    where t.is_match and t.quote_text is not null
),

best_per_municipality as (
    select distinct on (report_year, goal_id, theme_id, municipality_code) *,
        (length(quote_text) >= 40) as long_enough
    from tagged
    order by report_year, goal_id, theme_id, municipality_code,
        n_evidence desc, (length(quote_text) >= 40) desc, abs(length(quote_text) - 150), question_id
),

ranked as (
    select *,
        row_number() over (
            partition by report_year, goal_id, theme_id
            order by n_evidence desc, long_enough desc, abs(length(quote_text) - 150), municipality_code, question_id
        ) as quote_rank
    from best_per_municipality
)

select
    cast(r.report_year as integer)       as year,
    cast(r.goal_id as integer)           as goal_id,
    cast(r.theme_id as varchar)          as theme,
    cast(x.theme_name as varchar)        as theme_name,
    cast(r.quote_rank as integer)        as quote_rank,
    cast(r.municipality_code as varchar) as municipality_code,
    cast(r.municipality_name as varchar) as municipality_name,
    cast(r.question_id as varchar)       as question_id,
    cast(r.quote_text as varchar)        as quote_text,
    cast(r.quote_html as varchar)        as quote_html,
    cast(coalesce(r.municipality_name || ' kommune', 'Kommune ' || r.municipality_code) || ', rapportering '
         || r.report_year as varchar)    as attribution,
    cast(r.evidence as varchar)          as evidence,
    cast(r.synthetic as boolean)         as synthetic
from ranked r
inner join {{ ref('int_qualitative_themes') }} x on x.theme_id = r.theme_id and x.goal_id = r.goal_id
where r.quote_rank <= 3
