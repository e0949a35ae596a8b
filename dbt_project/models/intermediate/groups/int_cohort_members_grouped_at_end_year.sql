-- The members of report table 5.7's groups (rpt_programme_comparison): each municipality of the cohort
-- structure (var programme_cohort_year, the report's 2019 codes: int_cohort_indicator_value) with its
-- values in the start and end years of the report period, placed in the total, its size class, its
-- programme group and their combination by its groups in the END year (size class from that year's
-- population, the programme cohort) — fixed groups, so a change compares the same municipalities.
-- is_known: numerator and denominator known (a zero denominator is known: the member adds 0 to both
-- sums and counts as zero, it is not dropped). is_matched: known in both years, the matched set a change
-- falls back to only when a member is absent (statistics.md); the bounds carry suppressed members.
with values as (
    select * from {{ ref('int_cohort_indicator_value') }}
    where year in ({{ var('report_period_start') }}, {{ var('report_period_end') }})
),

end_year_groups as (
    select municipality_code, size_class, in_programme_cohort
    from {{ ref('int_cohort_municipality_year') }}
    where year = {{ var('report_period_end') }}
),

ratio_indicators as (
    select indicator_id from {{ ref('dim_indicator') }} where denominator_measure is not null
),

-- fixed membership: every member of the end year's groups in both years, a member without a row absent
spine as (
    select i.indicator_id, y.year, g.municipality_code
    from (select distinct indicator_id from values) i
    cross join end_year_groups g
    cross join (select {{ var('report_period_start') }} as year union all select {{ var('report_period_end') }}) y
),

known as (
    select
        s.indicator_id, s.year, s.municipality_code, v.value, v.numerator, v.denominator,
        coalesce(v.synthetic, false) as synthetic,
        v.numerator_low, v.numerator_high, v.denominator_low, v.denominator_high,
        v.numerator is not null
        and (v.denominator is not null or s.indicator_id not in (select indicator_id from ratio_indicators)) as is_known
    from spine s
    left join values v
        on v.indicator_id = s.indicator_id and v.year = s.year and v.municipality_code = s.municipality_code
),

members as (
    select
        v.indicator_id, v.year, v.municipality_code, v.value, v.numerator, v.denominator, v.synthetic,
        v.numerator_low, v.numerator_high, v.denominator_low, v.denominator_high, v.is_known,
        count(*) filter (where v.is_known) over (partition by v.indicator_id, v.municipality_code) = 2 as is_matched,
        g.size_class, case when g.in_programme_cohort then 'in' else 'out' end as programme
    from known v
    inner join end_year_groups g on g.municipality_code = v.municipality_code
),

grouped as (
    select indicator_id, year, 'total' as group_type, 'all' as size_class, 'all' as programme,
           municipality_code, value, numerator, denominator, synthetic, is_matched, numerator_low, numerator_high, denominator_low, denominator_high, is_known
    from members
    union all
    select indicator_id, year, 'size_class', size_class, 'all', municipality_code, value, numerator, denominator,
           synthetic, is_matched, numerator_low, numerator_high, denominator_low, denominator_high, is_known
    from members where size_class is not null
    union all
    select indicator_id, year, 'programme', 'all', programme, municipality_code, value, numerator, denominator,
           synthetic, is_matched, numerator_low, numerator_high, denominator_low, denominator_high, is_known
    from members
    union all
    select indicator_id, year, 'size_class_programme', size_class, programme, municipality_code, value, numerator,
           denominator, synthetic, is_matched, numerator_low, numerator_high, denominator_low, denominator_high, is_known
    from members where size_class is not null
)

select
    cast(indicator_id as varchar)                                       as indicator_id,
    cast(year as integer)                                               as year,
    cast(group_type as varchar)                                         as group_type,
    cast(size_class as varchar)                                         as size_class,
    cast(programme as varchar)                                          as programme,
    cast(municipality_code as varchar)                                  as municipality_code,
    cast(value as double precision)                                     as value,
    cast(numerator as double precision)                                 as numerator,
    cast(denominator as double precision)                               as denominator,
    synthetic,
    is_matched,
    cast(numerator_low as double precision)                             as numerator_low,
    cast(numerator_high as double precision)                            as numerator_high,
    cast(denominator_low as double precision)                           as denominator_low,
    cast(denominator_high as double precision)                          as denominator_high,
    is_known
from grouped
