-- The KOSTRA group of each reference municipality in each statistics year, under that year's grouping
-- (stg_klass__kostra_groups: the grouping on the codes valid on 1 January). A year's codes are mapped
-- onto the reference structure by the crosswalk. Where the parts of a reference municipality sat in
-- different groups that year (a later merger), it takes the group that held most of its inhabitants on
-- 1 January (int_population_pivoted_by_age, 07459's own date; split codes by their allocation weight),
-- ties broken by the lowest group code. `n_groups` > 1 marks such a choice.
with groups as (
    select * from {{ ref('stg_klass__kostra_groups') }}
),

crosswalk as (
    select * from {{ ref('stg_reference__municipality_crosswalk') }}
),

population as (
    select municipality_code, population_date_year as year, population
    from {{ ref('int_population_pivoted_by_age') }}
),

parts as (
    select
        c.reference_code                                                    as municipality_code,
        g.year, g.kostra_group_code, g.kostra_group_name,
        coalesce(p.population, 0) * coalesce(c.weight, 1)                   as population
    from groups g
    inner join crosswalk c on c.reported_code = g.municipality_code and c.year = g.year
    left join population p on p.municipality_code = g.municipality_code and p.year = g.year
),

per_group as (
    select municipality_code, year, kostra_group_code, {{ dbt.any_value('kostra_group_name') }} as kostra_group_name,
           sum(population) as population
    from parts
    group by municipality_code, year, kostra_group_code
),

ranked as (
    select *,
        count(*) over (partition by municipality_code, year)                as n_groups,
        row_number() over (partition by municipality_code, year
                           order by population desc, kostra_group_code)     as rank_in_year
    from per_group
)

select
    cast(municipality_code as varchar)      as municipality_code,
    cast(year as integer)                   as year,
    cast(kostra_group_code as varchar)      as kostra_group_code,
    cast(kostra_group_name as varchar)      as kostra_group_name,
    cast(n_groups as integer)               as n_groups
from ranked
where rank_in_year = 1
