-- Indicator values for groups of municipalities per year: the country, size classes, programme
-- membership, their combination and KOSTRA groups. Always RATIOS OF SUMS (macros/ratio_of_sums.sql):
-- sum of the members' numerators ÷ sum of their denominators × value_scale, over the members with a
-- value (both parts known) — never an average of municipal ratios. Yes/no indicators thus become the
-- share of reporting municipalities answering yes, scale indicators the mean score of those answering.
-- Who is a member of which group, on which municipality structure: int_group_members_assigned.
-- National counts: SSB's national figure (EAK) when published — it includes the suppressed cells a sum
-- over municipalities leaves out (`numerator_source`); otherwise the sum, a lower bound when a member is
-- missing (`is_lower_bound`).
-- Bounds (docs/statistical_method.md): value_low / value_high carry suppressed members' intervals;
-- `method` says how the value was made: ssb_national | sum_of_municipalities (every member known) |
-- midpoint_of_bounds (some suppressed; null when the bounds are too wide) | reporting_members (some
-- absent: the ratio of sums over those with a value, bounds unknown).
with indicators as (
    select * from {{ ref('dim_indicator') }}
    where kind in ('quantitative', 'extra', 'derived') and numerator_measure is not null
),

members as (
    select * from {{ ref('int_group_members_assigned') }}
),

national_published as (
    select measure, year, value, synthetic
    from {{ ref('int_national_values_latest_release') }}
    where measure_kind = 'count' and value is not null
),

summed as (
    select
        m.indicator_id, m.year, m.group_type, m.group_code,
        {{ member_sums() }},
        {{ member_bounds('i.denominator_measure') }}
    from members m
    inner join indicators i on i.indicator_id = m.indicator_id
    group by m.indicator_id, m.year, m.group_type, m.group_code
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
),

-- the interval of the group value: SSB's figure is exact; else the members' bounds when none is absent
bounded as (
    select
        *,
        case when national_numerator is not null then national_numerator
             when n_absent = 0 then {{ ratio_low('numerator_low', 'denominator_high', 'denominator_measure', 'value_scale') }}
        end                                                              as value_low,
        case when national_numerator is not null then national_numerator
             when n_absent = 0 then {{ ratio_high('numerator_high', 'denominator_low', 'denominator_measure', 'value_scale') }}
        end                                                              as value_high,
        case when national_numerator is not null then 'ssb_national'
             when n_absent > 0 then 'reporting_members'
             when n_suppressed > 0 then 'midpoint_of_bounds'
             else 'sum_of_municipalities' end                            as method
    from sourced
)

select
    cast(indicator_id as varchar)                                       as indicator_id,
    cast(year as integer)                                               as year,
    cast(group_type as varchar)                                         as group_type,
    cast(group_code as varchar)                                         as group_code,
    cast(case
        when method = 'midpoint_of_bounds' then
            {{ bounded_ratio_point('numerator_low', 'numerator_high', 'denominator_low', 'denominator_high',
                                   'denominator_measure', 'value_scale') }}
        when national_numerator is not null then national_numerator
        else {{ ratio_of_sums('numerator', 'denominator', 'denominator_measure', 'value_scale') }}
    end as double precision)                                            as value,
    cast(coalesce(national_numerator, numerator) as double precision)   as numerator,
    cast(case when denominator_measure is not null then denominator end as double precision) as denominator,
    cast(n_municipalities as integer)                                   as n_municipalities,
    cast(n_missing as integer)                                          as n_missing,
    cast(case when national_numerator is not null then 'ssb_national' else 'sum_of_municipalities' end
         as varchar)                                                    as numerator_source,
    -- a count summed over the reporting municipalities while some expected member is absent is too low
    (method = 'reporting_members' and denominator_measure is null and n_municipalities > 0) as is_lower_bound,
    synthetic or national_synthetic                                     as synthetic,
    cast(value_low as double precision)                                 as value_low,
    cast(value_high as double precision)                                as value_high,
    cast(method as varchar)                                             as method,
    cast(n_suppressed as integer)                                       as n_suppressed,
    cast(n_absent as integer)                                           as n_absent,
    cast(n_zero as integer)                                             as n_zero,
    -- the sum over municipalities as a check beside SSB's figure (its bounds contain it when they agree)
    cast(case when n_absent = 0 then numerator_low end as double precision)       as municipal_sum_low,
    cast(case when n_absent = 0 then numerator_high end as double precision)      as municipal_sum_high
from bounded
