-- Municipalities of the reference structure, one row per municipality and statistics year
-- (population, size class and programme membership change from year to year).
select
    municipality_code,
    year,
    municipality_name,
    county_code,
    county_name,
    population,
    population_80_plus,
    size_class,
    kostra_group_code,
    kostra_group_name,
    in_programme,
    programmes,
    in_programme_cohort,
    synthetic
from {{ ref('int_municipality_year') }}
