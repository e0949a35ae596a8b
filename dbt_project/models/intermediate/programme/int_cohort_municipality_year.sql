-- The cohort structure (codes as reported in var programme_cohort_year) per statistics year: the
-- population on that structure (int_cohort_measures_harmonised: as reported in the cohort year, merged
-- forward before it, shared back by population after it),
-- the size class of that population, and programme membership straight from the list (its codes are
-- cohort-year codes, so a municipality merged later is never a member by way of a merged-in part).
with population as (
    select
        municipality_code, year,
        max(value) filter (where measure = 'population_end_of_year')          as population,
        max(value) filter (where measure = 'population_80_plus_end_of_year')  as population_80_plus,
        bool_or(synthetic)                                                    as synthetic
    from {{ ref('int_cohort_measures_harmonised') }}
    where measure in ('population_end_of_year', 'population_80_plus_end_of_year')
    group by municipality_code, year
),

spine as (
    select municipality_code, year from population
    union
    select distinct municipality_code, year from {{ ref('int_cohort_indicator_value') }}
),

programme_list as (
    select * from {{ ref('stg_programme__municipalities') }}
),

allocated as (
    select s.municipality_code, s.year, p.population, p.population_80_plus, coalesce(p.synthetic, false) as synthetic
    from spine s
    left join population p on p.municipality_code = s.municipality_code and p.year = s.year
    where {{ regex_matches('s.municipality_code', '^[0-9]{4}$') }}
      and s.year between {{ var('first_year') }} and (select max(year) from {{ ref('int_cohort_indicator_value') }})
),

membership as (
    select
        a.municipality_code, a.year,
        bool_or(a.year between coalesce(p.valid_from_year, 0) and coalesce(p.valid_to_year, 9999)) as in_programme,
        bool_or({{ var('programme_cohort_year') }} between coalesce(p.valid_from_year, 0)
                                                        and coalesce(p.valid_to_year, 9999))     as in_programme_cohort,
        bool_or(p.synthetic)                                            as synthetic
    from allocated a
    inner join programme_list p on p.municipality_code = a.municipality_code
    group by a.municipality_code, a.year
),

size_classes as (
    select * from {{ ref('size_classes') }}
)

select
    cast(a.municipality_code as varchar)                                as municipality_code,
    cast(a.year as integer)                                             as year,
    cast(a.population as double precision)                              as population,
    cast(a.population_80_plus as double precision)                      as population_80_plus,
    cast(s.size_class as varchar)                                       as size_class,
    coalesce(m.in_programme, false)                                     as in_programme,
    coalesce(m.in_programme_cohort, false)                              as in_programme_cohort,
    coalesce(a.synthetic, false) or coalesce(m.synthetic, false)        as synthetic
from allocated a
left join membership m on m.municipality_code = a.municipality_code and m.year = a.year
left join size_classes s
    on a.population >= s.min_population
   and (s.max_population is null or a.population < s.max_population + 1)   -- spread shares may be fractional
