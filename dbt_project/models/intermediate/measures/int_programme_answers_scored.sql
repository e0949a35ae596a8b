-- Own reporting as measures: a yes/no answer is yes = 1/0 over answered = 1, a scale answer its score
-- over answered, a number itself; every question also gets `answered` (1/0, free text included). Group
-- values are then ratios of sums (shares of reporting municipalities, mean scores). The measure name
-- comes from seeds/programme_measures.csv (question id, part → measure id).
with answers as (
    select * from {{ ref('stg_programme__report_answers') }}
),

names as (
    select * from {{ ref('programme_measures') }}
),

scored as (
    select
        report_year as year, municipality_code, question_id, synthetic,
        'received ' || {{ date_text('received_at') }} as vintage,
        case answer_kind when 'yes_no' then 'yes' when 'scale_1_5' then 'score' when 'number' then 'number' end as part,
        case answer_kind
            when 'yes_no' then cast(answer_bool as integer)
            when 'scale_1_5' then answer_scale
            when 'number' then answer_number
        end                                                             as answer_value,
        case answer_kind
            when 'yes_no' then answer_bool is not null
            when 'scale_1_5' then answer_scale is not null
            when 'number' then answer_number is not null
            else nullif(trim(coalesce(answer_text, '')), '') is not null
        end                                                             as is_answered
    from answers
),

parts as (
    select question_id, part, municipality_code, year,
           cast(answer_value as double precision) as value,
           case when answer_value is null then '..' end as status_symbol, vintage, synthetic
    from scored
    where part is not null
    union all
    select question_id, 'answered', municipality_code, year,
           case when is_answered then 1.0 else 0.0 end, null, vintage, synthetic
    from scored
)

select
    'own reporting'                                                     as source,
    n.measure_id                                                        as measure,
    p.municipality_code, p.year, p.value, p.status_symbol, p.vintage, p.synthetic
from parts p
inner join names n on n.question_id = p.question_id and n.part = p.part
