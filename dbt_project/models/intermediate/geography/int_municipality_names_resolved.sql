-- One name per municipality code: KLASS's name valid at var reference_date, else (KLASS not loaded, or a
-- code KLASS does not list then) the latest spelling in Husbanken's files or the programme reports.
with klass_codes as (
    select * from {{ ref('stg_klass__municipality_codes') }}
),

reference_names as (
    select distinct on (municipality_code) municipality_code, municipality_name
    from klass_codes
    where valid_from <= cast('{{ var("reference_date") }}' as date)
      and (valid_to is null or valid_to > cast('{{ var("reference_date") }}' as date))
    order by municipality_code, valid_from desc
),

-- names as Husbanken and the programme reports spelt them
reported_names as (
    select municipality_code, municipality_name, year from {{ ref('stg_husbanken__instruments') }}
    where municipality_name is not null
    union all
    select municipality_code, municipality_name, report_year from {{ ref('stg_programme__report_answers') }}
    where municipality_name is not null
),

fallback_names as (
    select municipality_code, {{ arg_max('municipality_name', 'year') }} as municipality_name
    from reported_names
    group by municipality_code
)

select
    cast(municipality_code as varchar)                                          as municipality_code,
    cast(coalesce(n.municipality_name, f.municipality_name) as varchar)         as municipality_name
from reference_names n
full outer join fallback_names f using (municipality_code)
