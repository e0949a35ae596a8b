-- Indicator values for groups of municipalities per year: the country, size classes, programme
-- membership, their combination and KOSTRA groups. Always RATIOS OF SUMS (macros/ratio_of_sums.sql):
-- sum of the members' numerators ÷ sum of their denominators × value_scale, over the members with a
-- value (both parts known) — never an average of municipal ratios. Yes/no indicators thus become the
-- share of reporting municipalities answering yes, scale indicators the mean score of those answering.
-- Who is a member of which group, on which municipality structure: int_group_members_assigned.
-- National counts: SSB's national figure (EAK) when published — it includes the suppressed cells a sum
-- over municipalities leaves out (`numerator_source`); otherwise the sum, a lower bound when a member is
-- missing (`is_lower_bound`).
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
        indicator_id, year, group_type, group_code,
        {{ member_sums() }}
    from members
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
        else {{ ratio_of_sums('numerator', 'denominator', 'denominator_measure', 'value_scale') }}
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
