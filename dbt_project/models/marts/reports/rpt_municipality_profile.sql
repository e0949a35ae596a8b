-- For the yearly dialogue with each municipality (recommendation 1): every indicator value of the
-- municipality beside its size class, its KOSTRA group and the country (group values are ratios of
-- sums, as in fct_indicator_group_value). A municipality is compared with the country only on a RATE
-- (statistics.md): the indicator's own ratio, or for a count the count per 1000 inhabitants (the
-- municipality's population; a group's count ÷ its members' population). A count is never judged against
-- the nation's count. The comparison is read against the desired direction; when the municipality's
-- rate interval and the country's overlap without being equal, the verdict is 'uncertain'.
with values as (
    select * from {{ ref('fct_indicator_value') }}
),

municipalities as (
    select * from {{ ref('dim_municipality') }}
),

indicators as (
    select * from {{ ref('dim_indicator') }}
),

groups as (
    select * from {{ ref('fct_indicator_group_value') }}
),

-- the groups a municipality is compared with, per year: one row per municipality and group type
memberships as (
    select m.year, g.group_type, g.group_code, m.population
    from municipalities m
    cross join lateral (values ('national', 'all'), ('size_class', m.size_class),
                               ('kostra_group', m.kostra_group_code)) g(group_type, group_code)
    where g.group_code is not null
),

-- the population of every group of fct_indicator_group_value on the reference structure, per year
group_population as (
    select year, group_type, group_code, sum(population) as population
    from memberships
    group by year, group_type, group_code
),

-- the municipality and its groups in one shape, so a rate is worked out one way for all of them
compared as (
    select
        v.indicator_id, v.year, 'municipality' as group_type, v.municipality_code as group_code,
        v.value, v.value_low, v.value_high, m.population,
        cast(null as varchar) as method, null as n_suppressed, null as n_absent, null as n_zero
    from values v
    left join municipalities m on m.municipality_code = v.municipality_code and m.year = v.year
    union all
    select
        g.indicator_id, g.year, g.group_type, g.group_code, g.value, g.value_low, g.value_high, p.population,
        g.method, g.n_suppressed, g.n_absent, g.n_zero
    from groups g
    left join group_population p
        on p.year = g.year and p.group_type = g.group_type and p.group_code = g.group_code
    where g.group_type in ('national', 'size_class', 'kostra_group')
),

-- a rate: the indicator's value (a ratio) or the count per 1000 inhabitants, with bounds
rates as (
    select
        c.*,
        case when i.denominator_measure is not null then 'ratio' else 'per_1000_inhabitants' end as comparison_basis,
        case when i.denominator_measure is not null then c.value
             when c.population > 0 then c.value / c.population * 1000 end              as rate,
        case when i.denominator_measure is not null then c.value_low
             when c.population > 0 then c.value_low / c.population * 1000 end          as rate_low,
        case when i.denominator_measure is not null then c.value_high
             when c.population > 0 then c.value_high / c.population * 1000 end         as rate_high
    from compared c
    inner join indicators i on i.indicator_id = c.indicator_id
),

profile as (
    select
        v.*, m.municipality_name, m.size_class, m.kostra_group_code, m.in_programme, m.population,
        i.name_no, i.unit, i.desired_direction, r.comparison_basis, r.rate, r.rate_low, r.rate_high
    from values v
    inner join indicators i on i.indicator_id = v.indicator_id
    left join municipalities m on m.municipality_code = v.municipality_code and m.year = v.year
    inner join rates r
        on r.group_type = 'municipality' and r.group_code = v.municipality_code
       and r.indicator_id = v.indicator_id and r.year = v.year
)

select
    cast(p.municipality_code as varchar)                                as municipality_code,
    cast(p.municipality_name as varchar)                                as municipality_name,
    cast(p.year as integer)                                             as year,
    cast(p.indicator_id as varchar)                                     as indicator_id,
    cast(p.name_no as varchar)                                          as indicator_name_no,
    cast(p.unit as varchar)                                             as unit,
    cast(p.value as double precision)                                   as value,
    cast(p.numerator as double precision)                               as numerator,
    cast(p.denominator as double precision)                             as denominator,
    cast(p.status_symbol as varchar)                                    as status_symbol,
    cast(p.size_class as varchar)                                       as size_class,
    cast(sc.value as double precision)                                  as size_class_value,
    cast(p.kostra_group_code as varchar)                                as kostra_group_code,
    cast(kg.value as double precision)                                  as kostra_group_value,
    p.in_programme,
    cast(na.value as double precision)                                  as national_value,
    -- rates, not counts: the difference and the verdict are on comparison_basis
    cast(p.rate - na.rate as double precision)                          as difference_from_national,
    cast(p.desired_direction as varchar)                                as desired_direction,
    cast(case
        when p.rate is null or na.rate is null or p.desired_direction = 'none' then null
        when p.rate = na.rate then 'same'
        -- the intervals overlap: which side the municipality is on is not known
        when p.rate_low <= na.rate_high and na.rate_low <= p.rate_high
             and (p.rate_low < p.rate_high or na.rate_low < na.rate_high) then 'uncertain'
        when (p.rate > na.rate) = (p.desired_direction = 'up') then 'better'
        else 'worse'
    end as varchar)                                                     as compared_with_national,
    p.synthetic,
    cast(p.comparison_basis as varchar)                                 as comparison_basis,
    cast(p.population as double precision)                              as population,
    cast(p.value_low as double precision)                               as value_low,
    cast(p.value_high as double precision)                              as value_high,
    cast(p.rate as double precision)                                    as rate,
    cast(p.rate_low as double precision)                                as rate_low,
    cast(p.rate_high as double precision)                               as rate_high,
    cast(sc.rate as double precision)                                   as size_class_rate,
    cast(kg.rate as double precision)                                   as kostra_group_rate,
    cast(na.rate as double precision)                                   as national_rate,
    cast(na.rate_low as double precision)                               as national_rate_low,
    cast(na.rate_high as double precision)                              as national_rate_high,
    cast(na.method as varchar)                                          as national_method,
    cast(na.n_suppressed as integer)                                    as national_n_suppressed,
    cast(na.n_absent as integer)                                        as national_n_absent,
    cast(na.n_zero as integer)                                          as national_n_zero,
    cast(p.missing_reason as varchar)                                   as missing_reason
from profile p
left join rates na
    on na.indicator_id = p.indicator_id and na.year = p.year and na.group_type = 'national'
left join rates sc
    on sc.indicator_id = p.indicator_id and sc.year = p.year and sc.group_type = 'size_class'
   and sc.group_code = p.size_class
left join rates kg
    on kg.indicator_id = p.indicator_id and kg.year = p.year and kg.group_type = 'kostra_group'
   and kg.group_code = p.kostra_group_code
