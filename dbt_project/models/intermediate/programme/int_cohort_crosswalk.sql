-- The programme cohort's municipality structure: the codes as reported in var programme_cohort_year
-- (the report's 70 programme municipalities are 2019 codes). Each reference municipality is spread over
-- the cohort-year codes it consists of, by their share of its population in the cohort year (each
-- code's latest population up to then):
-- weight = population of the cohort code (× its crosswalk weight, for a code later split) ÷ the
-- reference municipality's population from all its cohort-year codes. A reference municipality's value
-- × weight, summed over the reference municipalities of a cohort code, puts any year's value on the
-- cohort structure; for the cohort year's population it gives back the population as reported (up to
-- the growth since the weight's year). Merged municipalities whose parts were not all in the programme are thus counted in the
-- programme by the programme parts' population share only.
with crosswalk as (
    select * from {{ ref('int_municipality_crosswalk') }}
    where year = {{ var('programme_cohort_year') }} and mapping_quality = 'exact'
      and {{ regex_matches('reported_code', '^[0-9]{4}$') }}
),

population as (
    select * from {{ ref('int_population_on_cohort_codes') }}
),

parts as (
    select c.reference_code, c.reported_code as cohort_code, c.weight * p.population as population_part, p.population_year,
           count(*) over (partition by c.reference_code) as n_parts
    from crosswalk c
    left join population p on p.municipality_code = c.reported_code
)

select
    cast(reference_code as varchar)                                         as reference_code,
    cast(cohort_code as varchar)                                            as cohort_code,
    cast(coalesce(
        population_part / nullif(sum(population_part) over (partition by reference_code), 0),
        1.0 / n_parts) as double precision)                                 as weight,
    cast(population_part as double precision)                               as cohort_year_population,
    cast(population_year as integer)                                        as population_year
from parts
