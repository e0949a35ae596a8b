-- Population as two measures of the statistics year: 07459 is dated 1 January, and the statistics
-- year's denominator («per 1000 inhabitants») is 31 December = 1 January of the next year. That figure is
-- published on the codes valid on its own date, the next year's (1.1.2020: 1103 Stavanger already with
-- Finnøy and Rennesøy): `codes_year` says so, and is the one place the cohort models learn it from.
with population as (
    select * from {{ ref('int_population_pivoted_by_age') }}
)

select 'SSB' as source, 'population_end_of_year' as measure, municipality_code,
       population_date_year - 1 as year, population_date_year as codes_year, population as value,
       cast(null as varchar) as status_symbol, 'published' as vintage, synthetic
from population
union all
select 'SSB', 'population_80_plus_end_of_year', municipality_code,
       population_date_year - 1, population_date_year, population_80_plus, null, 'published', synthetic
from population
