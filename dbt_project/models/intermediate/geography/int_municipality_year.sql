-- One row per municipality of the reference structure and statistics year: name
-- (int_municipality_names_resolved), county, population, size class, KOSTRA group of the year and programme
-- membership. The spine of dim_municipality and of every group value. Membership lists use the codes valid when they were written: they are mapped onto the
-- reference structure like the data (a reference municipality is a member when any part of it was).
with population as (
    select * from {{ ref('int_population_by_municipality_year') }}
),

inputs as (
    select distinct municipality_code, year from {{ ref('int_indicator_inputs') }}
),

names as (
    select * from {{ ref('int_municipality_names_resolved') }}
),

crosswalk as (
    select * from {{ ref('stg_reference__municipality_crosswalk') }}
),

programme_list as (
    select * from {{ ref('stg_programme__municipalities') }}
),

-- a listed code → its reference code(s), via the latest year the crosswalk lists the code for
programme_mapped as (
    select
        coalesce(c.reference_code, p.municipality_code) as municipality_code,
        p.programme, p.valid_from_year, p.valid_to_year, p.synthetic
    from programme_list p
    left join crosswalk c
        on c.reported_code = p.municipality_code
       and c.year = (select max(x.year) from crosswalk x where x.reported_code = p.municipality_code)
),

spine as (
    select municipality_code, year from population
    union
    select municipality_code, year from inputs
),

years as (
    select * from spine
    where year between {{ var('first_year') }} and (select max(year) from inputs)
      and {{ regex_matches('municipality_code', '^[0-9]{4}$') }}
),

membership as (
    select
        y.municipality_code, y.year,
        string_agg(distinct p.programme, ', ' order by p.programme)    as programmes,
        count(p.programme) > 0                                          as in_programme
    from years y
    left join programme_mapped p
        on p.municipality_code = y.municipality_code
       and y.year between coalesce(p.valid_from_year, 0) and coalesce(p.valid_to_year, 9999)
    group by y.municipality_code, y.year
),

cohort as (
    select distinct municipality_code
    from programme_mapped
    where {{ var('programme_cohort_year') }} between coalesce(valid_from_year, 0) and coalesce(valid_to_year, 9999)
),

-- the grouping in force that year, mapped onto the reference structure
kostra_groups as (
    select * from {{ ref('int_municipality_kostra_group') }}
),

size_classes as (
    select * from {{ ref('size_classes') }}
),

counties as (
    select * from {{ ref('counties') }}
)

select
    cast(y.municipality_code as varchar)                                        as municipality_code,
    cast(y.year as integer)                                                     as year,
    cast(coalesce(n.municipality_name, y.municipality_code) as varchar)        as municipality_name,
    cast(left(y.municipality_code, 2) as varchar)                               as county_code,
    cast(c.county_name as varchar)                                              as county_name,
    cast(p.population_end_of_year as bigint)                                    as population,
    cast(p.population_80_plus_end_of_year as bigint)                            as population_80_plus,
    cast(s.size_class as varchar)                                               as size_class,
    cast(k.kostra_group_code as varchar)                                        as kostra_group_code,
    cast(k.kostra_group_name as varchar)                                        as kostra_group_name,
    coalesce(m.in_programme, false)                                             as in_programme,
    cast(m.programmes as varchar)                                               as programmes,
    y.municipality_code in (select municipality_code from cohort)               as in_programme_cohort,
    coalesce(p.synthetic, false)                                                as synthetic
from years y
left join population p on p.municipality_code = y.municipality_code and p.year = y.year
left join names n on n.municipality_code = y.municipality_code
left join counties c on c.county_code = left(y.municipality_code, 2)
left join kostra_groups k on k.municipality_code = y.municipality_code and k.year = y.year
left join size_classes s
    on p.population_end_of_year >= s.min_population
   and (s.max_population is null or p.population_end_of_year < s.max_population + 1)   -- split shares may be fractional
left join membership m on m.municipality_code = y.municipality_code and m.year = y.year
