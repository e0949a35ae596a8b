-- Report figures 5.1 and 5.2: the programme municipalities' share of the country, per indicator and
-- year, beside their share of the population and of the inhabitants over 80. For counts the share is
-- of the count; for ratios it is the share of the numerator (e.g. of the wheelchair-accessible
-- dwellings). Programme = the cohort of var programme_cohort_year (the report's 70), computed on the
-- municipalities as they were in that year (int_cohort_indicator_value, int_cohort_municipality_year): a
-- municipality merged later counts by its programme parts' population share, not as a whole.
-- The country is SSB's national figure (EAK) where published (statistics.md), else the sum over every
-- municipality; suppressed programme members add their interval ([*_low, *_high]), so a group whose
-- members are all suppressed has an interval, never 0.
with indicators as (
    select * from {{ ref('dim_indicator') }}
    where kind in ('quantitative', 'extra', 'derived') and numerator_measure is not null and coverage = 'all'
),

values as (
    select * from {{ ref('int_cohort_indicator_value') }}
),

municipalities as (
    select * from {{ ref('int_cohort_municipality_year') }}
),

-- programme sums with bounds: a suppressed member adds its interval, so an all-suppressed group is
-- an interval, never 0; a member without value or interval is absent (bounds unknown)
programme_sums as (
    select
        v.indicator_id, v.year,
        {{ exact_sum('v.numerator', 'm.in_programme_cohort') }}           as programme_known,
        {{ exact_sum('v.numerator_low', 'm.in_programme_cohort') }}       as programme_low,
        {{ exact_sum('v.numerator_high', 'm.in_programme_cohort') }}      as programme_high,
        {{ exact_sum('v.numerator_low') }}                                            as municipal_low,
        {{ exact_sum('v.numerator_high') }}                                           as municipal_high,
        count(*) filter (where m.in_programme_cohort and v.numerator is not null) as n_programme_municipalities,
        count(*) filter (where m.in_programme_cohort and v.numerator is null and v.numerator_low is not null) as n_suppressed,
        count(*) filter (where m.in_programme_cohort and v.numerator_low is null) as n_absent,
        count(*) filter (where m.in_programme_cohort and v.numerator = 0) as n_zero,
        count(*) filter (where v.numerator_low is null)                 as n_absent_national,
        bool_or(v.synthetic or m.synthetic)                             as synthetic
    from values v
    inner join municipalities m on m.municipality_code = v.municipality_code and m.year = v.year
    group by v.indicator_id, v.year
    having count(v.numerator_low) > 0
),

-- the country: SSB's national figure (EAK) where published, else the sum over municipalities' bounds
indicator_series as (
    select
        p.indicator_id                                                  as series_id,
        i.name_no                                                       as series_name_no,
        'indicator'                                                     as series_kind,
        p.year,
        case when p.n_absent > 0 then p.programme_known
             else (p.programme_low + p.programme_high) / 2 end          as programme_value,
        case when p.n_absent = 0 then p.programme_low end               as programme_value_low,
        case when p.n_absent = 0 then p.programme_high end              as programme_value_high,
        coalesce(n.value, case when p.n_absent_national = 0 then (p.municipal_low + p.municipal_high) / 2 end,
                 p.municipal_low)                                       as national_value,
        coalesce(n.value, case when p.n_absent_national = 0 then p.municipal_low end) as national_value_low,
        coalesce(n.value, case when p.n_absent_national = 0 then p.municipal_high end) as national_value_high,
        case when n.value is not null then 'ssb_national'
             when p.n_absent_national = 0 then 'sum_of_municipalities'
             else 'sum_of_reporting_municipalities' end                 as national_source,
        p.n_programme_municipalities, p.n_suppressed, p.n_absent, p.n_zero,
        p.synthetic or coalesce(n.synthetic, false)                     as synthetic
    from programme_sums p
    inner join indicators i on i.indicator_id = p.indicator_id
    left join {{ ref('int_national_values_latest_release') }} n
        on n.measure = i.numerator_measure and n.year = p.year and n.measure_kind = 'count'
       and n.value is not null
),

population_series as (
    select 'population' as series_id, 'Befolkningen' as series_name_no, 'population' as series_kind, year,
           {{ exact_sum('population', 'in_programme_cohort') }} as programme_value,
           {{ exact_sum('population', 'in_programme_cohort') }} as programme_value_low,
           {{ exact_sum('population', 'in_programme_cohort') }} as programme_value_high,
           {{ exact_sum('population') }} as national_value, {{ exact_sum('population') }} as national_value_low,
           {{ exact_sum('population') }} as national_value_high, 'sum_of_municipalities' as national_source,
           count(*) filter (where in_programme_cohort and population is not null) as n_programme_municipalities,
           0 as n_suppressed, 0 as n_absent, 0 as n_zero,
           bool_or(synthetic) as synthetic
    from municipalities
    where population is not null
    group by year
    union all
    select 'population_80_plus', 'Befolkningen 80 år og over', 'population', year,
           {{ exact_sum('population_80_plus', 'in_programme_cohort') }},
           {{ exact_sum('population_80_plus', 'in_programme_cohort') }},
           {{ exact_sum('population_80_plus', 'in_programme_cohort') }},
           {{ exact_sum('population_80_plus') }}, {{ exact_sum('population_80_plus') }}, {{ exact_sum('population_80_plus') }}, 'sum_of_municipalities',
           count(*) filter (where in_programme_cohort and population_80_plus is not null),
           0, 0, 0,
           bool_or(synthetic)
    from municipalities
    where population_80_plus is not null
    group by year
),

unioned as (
    select * from indicator_series
    union all
    select * from population_series
)

select
    cast(series_id as varchar)                                          as series_id,
    cast(series_name_no as varchar)                                     as series_name_no,
    cast(series_kind as varchar)                                        as series_kind,
    cast(year as integer)                                               as year,
    cast(coalesce(programme_value, 0) as double precision)              as programme_value,
    cast(national_value as double precision)                            as national_value,
    cast(case when national_value > 0
              then coalesce(programme_value, 0) / national_value * 100 end as double precision) as programme_share_pct,
    cast(n_programme_municipalities as integer)                         as n_programme_municipalities,
    coalesce(synthetic, false)                                          as synthetic,
    -- bounds (docs/statistical_method.md): the share's low end is programme_low ÷ national_high
    cast(programme_value_low as double precision)                       as programme_value_low,
    cast(programme_value_high as double precision)                      as programme_value_high,
    cast(national_value_low as double precision)                        as national_value_low,
    cast(national_value_high as double precision)                       as national_value_high,
    cast(case when national_value_high > 0
              then programme_value_low / national_value_high * 100 end as double precision) as programme_share_pct_low,
    cast(case when national_value_low > 0
              then least(programme_value_high / national_value_low * 100, 100) end as double precision) as programme_share_pct_high,
    cast(national_source as varchar)                                    as national_source,
    cast(case when n_absent > 0 then 'sum_of_reporting_members'
              when n_suppressed > 0 then 'midpoint_of_bounds'
              else 'sum_of_municipalities' end as varchar)              as programme_method,
    cast(n_suppressed as integer)                                       as n_programme_suppressed,
    cast(n_absent as integer)                                           as n_programme_absent,
    cast(n_zero as integer)                                             as n_programme_zero
from unioned
