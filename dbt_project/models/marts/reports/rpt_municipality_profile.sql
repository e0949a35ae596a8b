-- For the yearly dialogue with each municipality (recommendation 1): every indicator value of the
-- municipality beside its size class, its KOSTRA group and the country (group values are ratios of
-- sums, as in fct_indicator_group_value), with the difference from the country read against the
-- desired direction.
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
)

select
    cast(v.municipality_code as varchar)                                as municipality_code,
    cast(m.municipality_name as varchar)                                as municipality_name,
    cast(v.year as integer)                                             as year,
    cast(v.indicator_id as varchar)                                     as indicator_id,
    cast(i.name_no as varchar)                                          as indicator_name_no,
    cast(i.unit as varchar)                                             as unit,
    cast(v.value as double)                                             as value,
    cast(v.numerator as double)                                         as numerator,
    cast(v.denominator as double)                                       as denominator,
    cast(v.status_symbol as varchar)                                    as status_symbol,
    cast(m.size_class as varchar)                                       as size_class,
    cast(sc.value as double)                                            as size_class_value,
    cast(m.kostra_group_code as varchar)                                as kostra_group_code,
    cast(kg.value as double)                                            as kostra_group_value,
    m.in_programme,
    cast(na.value as double)                                            as national_value,
    cast(v.value - na.value as double)                                  as difference_from_national,
    cast(i.desired_direction as varchar)                                as desired_direction,
    cast(case
        when v.value is null or na.value is null or i.desired_direction = 'none' then null
        when v.value = na.value then 'same'
        when (v.value > na.value) = (i.desired_direction = 'up') then 'better'
        else 'worse'
    end as varchar)                                                     as compared_with_national,
    v.synthetic,
    cast(v.missing_reason as varchar)                                   as missing_reason
from values v
inner join indicators i on i.indicator_id = v.indicator_id
left join municipalities m on m.municipality_code = v.municipality_code and m.year = v.year
left join groups na
    on na.indicator_id = v.indicator_id and na.year = v.year and na.group_type = 'national'
left join groups sc
    on sc.indicator_id = v.indicator_id and sc.year = v.year and sc.group_type = 'size_class'
   and sc.group_code = m.size_class
left join groups kg
    on kg.indicator_id = v.indicator_id and kg.year = v.year and kg.group_type = 'kostra_group'
   and kg.group_code = m.kostra_group_code
