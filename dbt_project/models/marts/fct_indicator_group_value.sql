-- Indicator values for groups of municipalities per year: the country, size classes, programme
-- membership, their combination and KOSTRA groups. Always RATIOS OF SUMS: sum of the members'
-- numerators ÷ sum of their denominators × value_scale, over the members with a value (both parts
-- known) — never an average of municipal ratios. Yes/no indicators thus become the share of reporting
-- municipalities answering yes, scale indicators the mean score of those answering.
-- Size class and KOSTRA group are those of the year; programme membership is the fixed cohort of var
-- programme_cohort_year (the report's 70), so a series follows the same municipalities every year.
-- Own-reported indicators cover only the municipalities in the programme that year.
with indicators as (
    select * from {{ ref('dim_indicator') }}
    where kind in ('quantitative', 'extra', 'derived') and numerator_measure is not null
),

values as (
    select * from {{ ref('fct_indicator_value') }}
),

municipalities as (
    select * from {{ ref('dim_municipality') }}
),

indicator_years as (
    select distinct indicator_id, year from values
),

-- who should report: every municipality, or the programme municipalities of that year
expected as (
    select iy.indicator_id, iy.year, m.municipality_code, m.size_class, m.kostra_group_code,
           m.in_programme_cohort
    from indicator_years iy
    inner join indicators i on i.indicator_id = iy.indicator_id
    inner join municipalities m
        on m.year = iy.year
       and (i.coverage = 'all' or m.in_programme)
),

members as (
    select e.*, v.value, v.numerator, v.denominator
    from expected e
    left join values v
        on v.indicator_id = e.indicator_id and v.municipality_code = e.municipality_code and v.year = e.year
),

grouped as (
    select indicator_id, year, 'national' as group_type, 'all' as group_code, * exclude (indicator_id, year)
    from members
    union all
    select indicator_id, year, 'size_class', size_class, * exclude (indicator_id, year)
    from members where size_class is not null
    union all
    select indicator_id, year, 'programme', case when in_programme_cohort then 'in' else 'out' end,
           * exclude (indicator_id, year)
    from members
    union all
    select indicator_id, year, 'size_class_programme',
           size_class || '_' || case when in_programme_cohort then 'in' else 'out' end,
           * exclude (indicator_id, year)
    from members where size_class is not null
    union all
    select indicator_id, year, 'kostra_group', kostra_group_code, * exclude (indicator_id, year)
    from members where kostra_group_code is not null
),

summed as (
    select
        indicator_id, year, group_type, group_code,
        sum(numerator) filter (where value is not null)                  as numerator,
        sum(denominator) filter (where value is not null)                as denominator,
        count(*) filter (where value is not null)                        as n_municipalities,
        count(*) filter (where value is null)                            as n_missing
    from grouped
    group by indicator_id, year, group_type, group_code
)

select
    cast(s.indicator_id as varchar)                                     as indicator_id,
    cast(s.year as integer)                                             as year,
    cast(s.group_type as varchar)                                       as group_type,
    cast(s.group_code as varchar)                                       as group_code,
    cast(case
        when s.n_municipalities = 0 then null
        when i.denominator_measure is null then s.numerator
        when s.denominator > 0 then s.numerator / s.denominator * i.value_scale
    end as double)                                                      as value,
    cast(s.numerator as double)                                         as numerator,
    cast(case when i.denominator_measure is not null then s.denominator end as double) as denominator,
    cast(s.n_municipalities as integer)                                 as n_municipalities,
    cast(s.n_missing as integer)                                        as n_missing
from summed s
inner join indicators i on i.indicator_id = s.indicator_id
