-- The programme municipalities' yearly report answers, one row per municipality, year and question
-- (the question id is stable across years; question_text is that year's label, verbatim).
with source as (
    select * from {{ optional_source('raw', 'programme_report_answers', {
        'report_year': 'integer', 'municipality_code': 'varchar', 'municipality_name': 'varchar',
        'question_id': 'varchar', 'question_text': 'varchar', 'goal': 'integer', 'answer_kind': 'varchar',
        'answer_number': 'double precision', 'answer_bool': 'boolean', 'answer_scale': 'integer', 'answer_text': 'varchar',
        'source_file': 'varchar', 'received_at': 'timestamp', 'synthetic': 'boolean'}, prefer_current=true) }}
),

renamed as (
    select
        cast(report_year as integer)                as report_year,
        cast(municipality_code as varchar)          as municipality_code,
        cast(municipality_name as varchar)          as municipality_name,
        cast(question_id as varchar)                as question_id,
        cast(question_text as varchar)              as question_text,
        cast(goal as integer)                       as goal_id,
        cast(answer_kind as varchar)                as answer_kind,
        cast(answer_number as double precision)     as answer_number,
        cast(answer_bool as boolean)                as answer_bool,
        cast(answer_scale as integer)               as answer_scale,
        cast(answer_text as varchar)                as answer_text,
        cast(source_file as varchar)                as source_file,
        cast(received_at as timestamp)              as received_at,
        coalesce(cast(synthetic as boolean), false) as synthetic
    from source
)

select * from renamed
