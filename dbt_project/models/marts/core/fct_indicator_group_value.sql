-- Indicator values for groups of municipalities per year: the country, size classes, programme
-- membership, their combination and KOSTRA groups. Always RATIOS OF SUMS: sum of the members'
-- numerators ÷ sum of their denominators × value_scale, over the members with a value (both parts
-- known) — never an average of municipal ratios. Yes/no indicators thus become the share of reporting
-- municipalities answering yes, scale indicators the mean score of those answering.
-- National, size class and KOSTRA group: the municipalities of the reference structure, with the size
-- class and KOSTRA group of the year. Programme and size_class_programme: the municipalities as they
-- were in the cohort year (int_cohort_indicator_value: codes of var programme_cohort_year, the report's
-- 70; a later merger counts in the programme by its programme parts' population share), size class of
-- the year's population on that structure, so a series follows the same municipalities every year.
-- Own-reported indicators cover only the municipalities in the programme that year.
-- National counts: SSB's national figure (EAK) when published — it includes the suppressed cells a sum
-- over municipalities leaves out (`numerator_source`); otherwise the sum, a lower bound when a member is
-- missing (`is_lower_bound`).
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

cohort_values as (
    select * from {{ ref('int_cohort_indicator_value') }}
),

cohort_municipalities as (
    select * from {{ ref('int_cohort_municipality_year') }}
),

national_published as (
    select measure, year, value, synthetic
    from {{ ref('int_national_values_latest_release') }}
    where measure_kind = 'count' and value is not null
),

indicator_years as (
    select distinct indicator_id, year from values
),

-- who should report: every municipality, or the programme municipalities of that year
expected as (
    select iy.indicator_id, iy.year, m.municipality_code, m.size_class, m.kostra_group_code,
           m.synthetic as municipality_synthetic
    from indicator_years iy
    inner join indicators i on i.indicator_id = iy.indicator_id
    inner join municipalities m
        on m.year = iy.year
       and (i.coverage = 'all' or m.in_programme)
),

members as (
    select e.* exclude (municipality_synthetic), v.value, v.numerator, v.denominator,
           coalesce(v.synthetic, false) or coalesce(e.municipality_synthetic, false) as synthetic
    from expected e
    left join values v
        on v.indicator_id = e.indicator_id and v.municipality_code = e.municipality_code and v.year = e.year
),

cohort_expected as (
    select iy.indicator_id, iy.year, m.municipality_code, m.size_class, m.in_programme_cohort,
           m.synthetic as municipality_synthetic
    from indicator_years iy
    inner join indicators i on i.indicator_id = iy.indicator_id
    inner join cohort_municipalities m
        on m.year = iy.year
       and (i.coverage = 'all' or m.in_programme)
),

cohort_members as (
    select e.* exclude (municipality_synthetic), v.value, v.numerator, v.denominator,
           coalesce(v.synthetic, false) or coalesce(e.municipality_synthetic, false) as synthetic
    from cohort_expected e
    left join cohort_values v
        on v.indicator_id = e.indicator_id and v.municipality_code = e.municipality_code and v.year = e.year
),

grouped as (
    select indicator_id, year, 'national' as group_type, 'all' as group_code, value, numerator, denominator, synthetic
    from members
    union all
    select indicator_id, year, 'size_class', size_class, value, numerator, denominator, synthetic
    from members where size_class is not null
    union all
    select indicator_id, year, 'programme', case when in_programme_cohort then 'in' else 'out' end,
           value, numerator, denominator, synthetic
    from cohort_members
    union all
    select indicator_id, year, 'size_class_programme',
           size_class || '_' || case when in_programme_cohort then 'in' else 'out' end,
           value, numerator, denominator, synthetic
    from cohort_members where size_class is not null
    union all
    select indicator_id, year, 'kostra_group', kostra_group_code, value, numerator, denominator, synthetic
    from members where kostra_group_code is not null
),

summed as (
    select
        indicator_id, year, group_type, group_code,
        sum(numerator) filter (where value is not null)                  as numerator,
        sum(denominator) filter (where value is not null)                as denominator,
        count(*) filter (where value is not null)                        as n_municipalities,
        count(*) filter (where value is null)                            as n_missing,
        coalesce(bool_or(synthetic), false)                              as synthetic
    from grouped
    group by indicator_id, year, group_type, group_code
),

sourced as (
    select
        s.*,
        i.denominator_measure,
        i.value_scale,
        case when s.group_type = 'national' and i.denominator_measure is null and i.coverage = 'all'
             then p.value end                                            as national_numerator,
        coalesce(p.synthetic, false)                                     as national_synthetic
    from summed s
    inner join indicators i on i.indicator_id = s.indicator_id
    left join national_published p
        on p.measure = i.numerator_measure and p.year = s.year
       and s.group_type = 'national' and i.denominator_measure is null and i.coverage = 'all'
)

select
    cast(indicator_id as varchar)                                       as indicator_id,
    cast(year as integer)                                               as year,
    cast(group_type as varchar)                                         as group_type,
    cast(group_code as varchar)                                         as group_code,
    cast(case
        when national_numerator is not null then national_numerator
        when n_municipalities = 0 then null
        when denominator_measure is null then numerator
        when denominator > 0 then numerator / denominator * value_scale
    end as double)                                                      as value,
    cast(coalesce(national_numerator, numerator) as double)             as numerator,
    cast(case when denominator_measure is not null then denominator end as double) as denominator,
    cast(n_municipalities as integer)                                   as n_municipalities,
    cast(n_missing as integer)                                          as n_missing,
    cast(case when national_numerator is not null then 'ssb_national' else 'sum_of_municipalities' end
         as varchar)                                                    as numerator_source,
    -- a count summed over municipalities while some expected member has no value is too low
    (national_numerator is null and denominator_measure is null and n_missing > 0
     and n_municipalities > 0)                                          as is_lower_bound,
    synthetic or national_synthetic                                     as synthetic
from sourced
