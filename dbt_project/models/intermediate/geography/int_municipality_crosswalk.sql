-- The allocation of every (year, municipality code as reported) found in the data onto the reference
-- structure (var reference_date), with the weight each value is multiplied by:
--   * identity / merge: weight 1 (a merged municipality's parts simply add up);
--   * split: the reference codes' shares of their population in the first year all of them report
--     population ('population_share'); when no such year exists, equal shares ('equal', flagged);
--     a weight supplied by the KLASS loader wins ('klass').
-- A code reported in a year the crosswalk does not list it for (SSB publishes some history on newer
-- codes) is mapped as in the nearest year the crosswalk does list it ('nearest_year'); a code the
-- crosswalk does not know at all is kept as it is ('unmapped').
with observed as (
    select distinct year, municipality_code as reported_code
    from {{ ref('int_measures_as_reported') }}
),

crosswalk as (
    select * from {{ ref('stg_reference__municipality_crosswalk') }}
),

population as (
    select year, municipality_code, value as population
    from {{ ref('int_measures_as_reported') }}
    where measure = 'population_end_of_year' and value > 0
),

exact as (
    select o.year, o.reported_code, c.reference_code, c.weight_kind, c.split_flag, c.weight,
           'exact' as mapping_quality
    from observed o
    inner join crosswalk c on c.year = o.year and c.reported_code = o.reported_code
),

-- the nearest listed year of the code (ties: the later year)
nearest as (
    select year, reported_code, reference_code, weight_kind, split_flag, weight, 'nearest_year' as mapping_quality
    from (
        select o.year, o.reported_code, c.reference_code, c.weight_kind, c.split_flag, c.weight,
               dense_rank() over (
                   partition by o.year, o.reported_code order by abs(c.year - o.year), c.year desc) as nearness
        from observed o
        inner join crosswalk c on c.reported_code = o.reported_code
        where not exists (select 1 from crosswalk x where x.year = o.year and x.reported_code = o.reported_code)
    ) ranked
    where nearness = 1
),

unmapped as (
    select o.year, o.reported_code, o.reported_code as reference_code, 'unmapped' as weight_kind,
           false as split_flag, cast(null as double precision) as weight, 'unmapped' as mapping_quality
    from observed o
    where not exists (select 1 from crosswalk x where x.reported_code = o.reported_code)
),

mapped as (
    select * from exact
    union all
    select * from nearest
    union all
    select * from unmapped
),

splits as (
    select *, count(*) over (partition by year, reported_code) as n_targets
    from mapped
    where split_flag
),

-- the first year in which every reference code of a split reports population
coverage as (
    select s.year, s.reported_code, p.year as population_year,
           count(*) as n_with_population, {{ dbt.any_value('s.n_targets') }} as n_targets
    from splits s
    inner join population p on p.municipality_code = s.reference_code
    group by s.year, s.reported_code, p.year
),

first_full_year as (
    select year, reported_code, min(population_year) as weight_year
    from coverage
    where n_with_population = n_targets
    group by year, reported_code
),

split_weights as (
    select
        s.year, s.reported_code, s.reference_code, f.weight_year,
        p.population / sum(p.population) over (partition by s.year, s.reported_code) as population_share,
        1.0 / s.n_targets                                                           as equal_share
    from splits s
    left join first_full_year f on f.year = s.year and f.reported_code = s.reported_code
    left join population p on p.municipality_code = s.reference_code and p.year = f.weight_year
)

select
    cast(m.year as integer)                                 as year,
    cast(m.reported_code as varchar)                        as reported_code,
    cast(m.reference_code as varchar)                       as reference_code,
    cast(m.weight_kind as varchar)                          as weight_kind,
    m.split_flag,
    cast(m.mapping_quality as varchar)                      as mapping_quality,
    cast(case
        when not m.split_flag then 1.0
        when m.weight is not null then m.weight
        when w.population_share is not null then w.population_share
        else w.equal_share
    end as double precision)                                as weight,
    cast(case
        when not m.split_flag then 'whole'
        when m.weight is not null then 'klass'
        when w.population_share is not null then 'population_share'
        else 'equal'
    end as varchar)                                         as weight_basis,
    cast(case when m.split_flag and m.weight is null then w.weight_year end as integer) as weight_year
from mapped m
left join split_weights w
    on w.year = m.year and w.reported_code = m.reported_code and w.reference_code = m.reference_code
