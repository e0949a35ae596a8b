-- The size class of each programme municipality in each report year, on the code as it reported that
-- year: its population at the end of that year as reported (int_measures_as_reported); when SSB has no
-- population for the code that year (SSB publishes history on newer codes), the nearest year that has one.
with reporters as (
    select distinct report_year, municipality_code
    from {{ ref('stg_programme__report_answers') }}
),

population as (
    select year, municipality_code, value as population
    from {{ ref('int_measures_as_reported') }}
    where measure = 'population_end_of_year' and value > 0
),

nearest as (
    select distinct on (r.report_year, r.municipality_code)
        r.report_year, r.municipality_code, p.population, p.year as population_year
    from reporters r
    inner join population p on p.municipality_code = r.municipality_code
    order by r.report_year, r.municipality_code, abs(p.year - r.report_year), p.year
),

size_classes as (
    select * from {{ ref('size_classes') }}
)

select
    cast(r.report_year as integer)                     as report_year,
    cast(r.municipality_code as varchar)               as municipality_code,
    cast(n.population as double precision)             as population,
    cast(n.population_year as integer)                 as population_year,
    cast(coalesce(s.size_class, 'unknown') as varchar) as size_class
from reporters r
left join nearest n using (report_year, municipality_code)
left join size_classes s
    on n.population >= s.min_population and (s.max_population is null or n.population <= s.max_population)
