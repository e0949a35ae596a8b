-- Indicator × municipality × year, with the numerator and denominator every value is computed from.
with dwellings as (
    select * from {{ ref('stg_ssb__kostra_values') }}
    where measure = 'dwellings_total'
),

population as (
    select * from {{ ref('int_population_by_municipality_year') }}
)

select
    cast('dwellings_per_1000' as varchar)                           as indicator_id,
    dwellings.municipality_code,
    dwellings.year,
    case when population.population_end_of_year > 0
         then dwellings.value / population.population_end_of_year * 1000 end as value,
    dwellings.value                                                 as numerator,
    population.population_end_of_year                               as denominator,
    dwellings.status_symbol,
    dwellings.vintage,
    dwellings.synthetic or coalesce(population.synthetic, false)    as synthetic
from dwellings
left join population
    on dwellings.municipality_code = population.municipality_code
   and dwellings.year = population.year
