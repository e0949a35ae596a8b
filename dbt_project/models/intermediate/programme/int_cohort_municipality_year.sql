-- The cohort structure (codes as reported in var programme_cohort_year) per statistics year: the
-- population spread from the reference structure by int_cohort_crosswalk (exact in the cohort year),
-- the size class of that population, and programme membership straight from the list (its codes are
-- cohort-year codes, so a municipality merged later is never a member by way of a merged-in part).
with crosswalk as (
    select * from {{ ref('int_cohort_crosswalk') }}
),

municipality_years as (
    select * from {{ ref('int_municipality_year') }}
),

programme_list as (
    select * from {{ ref('stg_programme__municipalities') }}
),

allocated as (
    select
        c.cohort_code                                                   as municipality_code,
        m.year,
        {{ exact_sum('m.population * c.weight') }}                                    as population,
        {{ exact_sum('m.population_80_plus * c.weight') }}                            as population_80_plus,
        bool_or(m.synthetic)                                            as synthetic
    from municipality_years m
    inner join crosswalk c on c.reference_code = m.municipality_code
    group by c.cohort_code, m.year
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
    cast(a.population as double)                                        as population,
    cast(a.population_80_plus as double)                                as population_80_plus,
    cast(s.size_class as varchar)                                       as size_class,
    coalesce(m.in_programme, false)                                     as in_programme,
    coalesce(m.in_programme_cohort, false)                              as in_programme_cohort,
    coalesce(a.synthetic, false) or coalesce(m.synthetic, false)        as synthetic
from allocated a
left join membership m on m.municipality_code = a.municipality_code and m.year = a.year
left join size_classes s
    on a.population >= s.min_population
   and (s.max_population is null or a.population < s.max_population + 1)   -- spread shares may be fractional
