-- Which municipalities delivered a register for which year, with the size class and population of that
-- year (int_municipality_year) and the KOSTRA dwellings the register should cover.
with delivered as (
    select municipality_code, year, cast(sum(n_dwellings) as bigint) as register_dwellings, bool_or(synthetic) as synthetic
    from {{ ref('int_register_dwelling_counts') }}
    group by municipality_code, year
),

municipalities as (
    select municipality_code, year, municipality_name, size_class, population, population_80_plus
    from {{ ref('int_municipality_year') }}
)

select
    d.municipality_code,
    d.year,
    coalesce(m.municipality_name, d.municipality_code)  as municipality_name,
    coalesce(m.size_class, 'unknown')                   as size_class,
    m.population,
    m.population_80_plus,
    d.register_dwellings,
    d.synthetic
from delivered d
left join municipalities m using (municipality_code, year)
