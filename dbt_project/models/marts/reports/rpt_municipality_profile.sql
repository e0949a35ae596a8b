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

-- the population of every group of fct_indicator_group_value on the reference structure, per year
group_population as (
    select year, 'national' as group_type, 'all' as group_code, sum(population) as population
    from municipalities group by year
    union all
    select year, 'size_class', size_class, sum(population)
    from municipalities where size_class is not null group by year, size_class
    union all
    select year, 'kostra_group', kostra_group_code, sum(population)
    from municipalities where kostra_group_code is not null group by year, kostra_group_code
),

-- a group's rate: its value (a ratio) or its count per 1000 inhabitants, with bounds
group_rates as (
    select
        g.indicator_id, g.year, g.group_type, g.group_code, g.value, g.method,
        g.n_suppressed, g.n_absent, g.n_zero,
        case when i.denominator_measure is not null then g.value
             when p.population > 0 then g.value / p.population * 1000 end            as rate,
        case when i.denominator_measure is not null then g.value_low
             when p.population > 0 then g.value_low / p.population * 1000 end        as rate_low,
        case when i.denominator_measure is not null then g.value_high
             when p.population > 0 then g.value_high / p.population * 1000 end       as rate_high
    from groups g
    inner join indicators i on i.indicator_id = g.indicator_id
    left join group_population p
        on p.year = g.year and p.group_type = g.group_type and p.group_code = g.group_code
    where g.group_type in ('national', 'size_class', 'kostra_group')
),

profile as (
    select
        v.*, m.municipality_name, m.size_class, m.kostra_group_code, m.in_programme, m.population,
        i.name_no, i.unit, i.desired_direction,
        case when i.denominator_measure is not null then 'ratio' else 'per_1000_inhabitants' end as comparison_basis,
        case when i.denominator_measure is not null then v.value
             when m.population > 0 then v.value / m.population * 1000 end             as rate,
        case when i.denominator_measure is not null then v.value_low
             when m.population > 0 then v.value_low / m.population * 1000 end         as rate_low,
        case when i.denominator_measure is not null then v.value_high
             when m.population > 0 then v.value_high / m.population * 1000 end        as rate_high
    from values v
    inner join indicators i on i.indicator_id = v.indicator_id
    left join municipalities m on m.municipality_code = v.municipality_code and m.year = v.year
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
left join group_rates na
    on na.indicator_id = p.indicator_id and na.year = p.year and na.group_type = 'national'
left join group_rates sc
    on sc.indicator_id = p.indicator_id and sc.year = p.year and sc.group_type = 'size_class'
   and sc.group_code = p.size_class
left join group_rates kg
    on kg.indicator_id = p.indicator_id and kg.year = p.year and kg.group_type = 'kostra_group'
   and kg.group_code = p.kostra_group_code
