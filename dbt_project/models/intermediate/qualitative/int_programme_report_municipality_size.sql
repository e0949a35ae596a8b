-- The size class of each programme municipality in each report year, on the code as it reported that
-- year: its latest population at 31.12 published on the report year's codes or earlier (codes_year, as in
-- int_population_on_cohort_codes): the report year's own 31.12 figure is on the next year's codes (1103 on
-- 1.1.2020 includes Finnøy), so it is not the reporting municipality's. When SSB has no such figure for the
-- code (it publishes history on newer codes), the figure on the nearest later codes.
with reporters as (
    select distinct report_year, municipality_code
    from {{ ref('stg_programme__report_answers') }}
),

population as (
    select year, codes_year, municipality_code, value as population
    from {{ ref('int_measures_as_reported') }}
    where measure = 'population_end_of_year' and value > 0
),

nearest as (
    select distinct on (r.report_year, r.municipality_code)
        r.report_year, r.municipality_code, p.population, p.year as population_year
    from reporters r
    inner join population p on p.municipality_code = r.municipality_code
    order by r.report_year, r.municipality_code, p.codes_year > r.report_year, abs(p.codes_year - r.report_year),
             p.year desc
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
