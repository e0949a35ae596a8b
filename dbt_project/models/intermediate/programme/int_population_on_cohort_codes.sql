-- Each code's latest population at 31.12 published on codes up to the cohort year's (codes_year): the
-- weights that spread a reference or merged code over the cohort codes. The cohort year's own 31.12 figure
-- is dated 1 January of the next year and may already be on the next year's codes (1103 on 1.1.2020
-- includes Finnøy), so it is not one of them.
select distinct on (municipality_code)
    cast(municipality_code as varchar)  as municipality_code,
    cast(value as double precision)     as population,
    cast(year as integer)               as population_year
from {{ ref('int_measures_as_reported') }}
where measure = 'population_end_of_year' and codes_year <= {{ var('programme_cohort_year') }} and value > 0
order by municipality_code, year desc
