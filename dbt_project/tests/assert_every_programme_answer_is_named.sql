-- Every question the programme reports answered has its measures in seeds/programme_measures.csv
-- (int_programme_answers_scored joins on it and would otherwise drop the answers).
select distinct a.question_id
from {{ ref('stg_programme__report_answers') }} a
where not exists (select 1 from {{ ref('programme_measures') }} p where p.question_id = a.question_id)
