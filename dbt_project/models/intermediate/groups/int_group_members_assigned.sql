-- Who counts in which group of fct_indicator_group_value, per indicator and year: every municipality
-- expected to report (all of them, or the programme municipalities of the year for own-reported
-- indicators), with its value — null when suppressed, missing or not reported — once per group it is in.
-- National, size class and KOSTRA group: the municipalities of the reference structure, with the size
-- class and KOSTRA group of the year. Programme and size_class_programme: the municipalities as they
-- were in the cohort year (int_cohort_indicator_value: codes of var programme_cohort_year, the report's
-- 70; a later merger counts in the programme by its programme parts' population share), size class of
-- the cohort year's population on that structure (fixed, as the programme membership), so a series
-- follows the same municipalities every year. National, size_class and kostra_group are cross-sections of
-- each year (size class of the year): read levels off them, not changes (rpt_trend_break fixes its own).
with indicators as (
    select * from {{ ref('dim_indicator') }}
    where kind in ('quantitative', 'extra', 'derived') and numerator_measure is not null
),

-- the two structures side by side, each row tagged with the structure it is on
municipalities as (
    select 'reference' as structure, municipality_code, year, size_class, kostra_group_code, in_programme,
           cast(null as boolean) as in_programme_cohort, synthetic
    from {{ ref('dim_municipality') }}
    union all
    -- the cohort's size class is fixed at the cohort year, like its programme membership: the figure 3.x
    -- series (size class × programme) then follow the same municipalities every year
    select 'cohort', c.municipality_code, c.year, f.size_class, null, c.in_programme, c.in_programme_cohort, c.synthetic
    from {{ ref('int_cohort_municipality_year') }} c
    left join (select municipality_code, size_class from {{ ref('int_cohort_municipality_year') }}
               where year = {{ var('programme_cohort_year') }}) f
        on f.municipality_code = c.municipality_code
),

values as (
    select 'reference' as structure, indicator_id, municipality_code, year, value, numerator, denominator, synthetic, numerator_low, numerator_high, denominator_low, denominator_high
    from {{ ref('fct_indicator_value') }}
    union all
    select 'cohort', indicator_id, municipality_code, year, value, numerator, denominator, synthetic, numerator_low, numerator_high, denominator_low, denominator_high
    from {{ ref('int_cohort_indicator_value') }}
),

indicator_years as (
    select distinct indicator_id, year from values where structure = 'reference'
),

-- who should report: every municipality, or the programme municipalities of that year
members as (
    select iy.indicator_id, iy.year, m.structure, m.municipality_code, m.size_class, m.kostra_group_code,
           m.in_programme_cohort, v.value, v.numerator, v.denominator,
           v.numerator_low, v.numerator_high, v.denominator_low, v.denominator_high,
           coalesce(v.synthetic, false) or coalesce(m.synthetic, false) as synthetic
    from indicator_years iy
    inner join indicators i on i.indicator_id = iy.indicator_id
    inner join municipalities m
        on m.year = iy.year
       and (i.coverage = 'all' or m.in_programme)
    left join values v
        on v.structure = m.structure and v.indicator_id = iy.indicator_id
       and v.municipality_code = m.municipality_code and v.year = iy.year
),

grouped as (
    select indicator_id, year, 'national' as group_type, 'all' as group_code, municipality_code,
           value, numerator, denominator, synthetic, numerator_low, numerator_high, denominator_low, denominator_high
    from members where structure = 'reference'
    union all
    select indicator_id, year, 'size_class', size_class, municipality_code, value, numerator, denominator, synthetic, numerator_low, numerator_high, denominator_low, denominator_high
    from members where structure = 'reference' and size_class is not null
    union all
    select indicator_id, year, 'programme', case when in_programme_cohort then 'in' else 'out' end,
           municipality_code, value, numerator, denominator, synthetic, numerator_low, numerator_high, denominator_low, denominator_high
    from members where structure = 'cohort'
    union all
    select indicator_id, year, 'size_class_programme',
           size_class || '_' || case when in_programme_cohort then 'in' else 'out' end,
           municipality_code, value, numerator, denominator, synthetic, numerator_low, numerator_high, denominator_low, denominator_high
    from members where structure = 'cohort' and size_class is not null
    union all
    select indicator_id, year, 'kostra_group', kostra_group_code, municipality_code,
           value, numerator, denominator, synthetic, numerator_low, numerator_high, denominator_low, denominator_high
    from members where structure = 'reference' and kostra_group_code is not null
)

select
    cast(indicator_id as varchar)                                       as indicator_id,
    cast(year as integer)                                               as year,
    cast(group_type as varchar)                                         as group_type,
    cast(group_code as varchar)                                         as group_code,
    cast(municipality_code as varchar)                                  as municipality_code,
    cast(value as double precision)                                     as value,
    cast(numerator as double precision)                                 as numerator,
    cast(denominator as double precision)                               as denominator,
    synthetic,
    cast(numerator_low as double precision)                             as numerator_low,
    cast(numerator_high as double precision)                            as numerator_high,
    cast(denominator_low as double precision)                           as denominator_low,
    cast(denominator_high as double precision)                          as denominator_high
from grouped
