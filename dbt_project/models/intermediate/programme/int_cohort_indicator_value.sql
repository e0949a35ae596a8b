-- fct_indicator_value on the cohort structure (int_cohort_crosswalk): numerator and denominator of a
-- reference municipality spread over its cohort-year codes by population share, so ratios of sums over
-- cohort codes are unchanged for whole municipalities and a merged municipality counts in a programme
-- group by its programme parts' share only. A ratio keeps the reference municipality's value; a count is
-- its share of it. Used by the programme groups (fct_indicator_group_value, rpt_programme_share,
-- rpt_programme_comparison).
with indicators as (
    select * from {{ ref('dim_indicator') }}
),

values as (
    select * from {{ ref('fct_indicator_value') }}
),

crosswalk as (
    select * from {{ ref('int_cohort_crosswalk') }}
)

select
    cast(v.indicator_id as varchar)                                     as indicator_id,
    cast(c.cohort_code as varchar)                                      as municipality_code,
    cast(v.year as integer)                                             as year,
    cast(case when i.denominator_measure is null then v.value * c.weight else v.value end as double precision) as value,
    cast(v.numerator * c.weight as double precision)                    as numerator,
    cast(v.denominator * c.weight as double precision)                  as denominator,
    cast(c.weight as double precision)                                  as weight,
    cast(case when i.denominator_measure is null then v.value_low * c.weight else v.value_low end as double precision) as value_low,
    cast(case when i.denominator_measure is null then v.value_high * c.weight else v.value_high end as double precision) as value_high,
    cast(v.numerator_low * c.weight as double precision)                as numerator_low,
    cast(v.numerator_high * c.weight as double precision)               as numerator_high,
    cast(v.denominator_low * c.weight as double precision)              as denominator_low,
    cast(v.denominator_high * c.weight as double precision)             as denominator_high,
    v.synthetic
from values v
inner join indicators i on i.indicator_id = v.indicator_id
inner join crosswalk c on c.reference_code = v.municipality_code
