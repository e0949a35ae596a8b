-- Report figures 5.1 and 5.2: the programme municipalities' share of the country, per indicator and
-- year, beside their share of the population and of the inhabitants over 80. For counts the share is
-- of the count; for ratios it is the share of the numerator (e.g. of the wheelchair-accessible
-- dwellings). Programme = the cohort of var programme_cohort_year (the report's 70), computed on the
-- municipalities as they were in that year (int_cohort_indicator_value, int_cohort_municipality_year): a
-- municipality merged later counts by its programme parts' population share, not as a whole.
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

indicator_series as (
    select
        v.indicator_id                                                  as series_id,
        i.name_no                                                       as series_name_no,
        'indicator'                                                     as series_kind,
        v.year,
        sum(v.numerator) filter (where m.in_programme_cohort)           as programme_value,
        sum(v.numerator)                                                as national_value,
        count(*) filter (where m.in_programme_cohort and v.numerator is not null) as n_programme_municipalities,
        bool_or(v.synthetic or m.synthetic)                             as synthetic
    from values v
    inner join indicators i on i.indicator_id = v.indicator_id
    inner join municipalities m on m.municipality_code = v.municipality_code and m.year = v.year
    where v.numerator is not null
    group by all
),

population_series as (
    select 'population' as series_id, 'Befolkningen' as series_name_no, 'population' as series_kind, year,
           sum(population) filter (where in_programme_cohort) as programme_value, sum(population) as national_value,
           count(*) filter (where in_programme_cohort and population is not null) as n_programme_municipalities,
           bool_or(synthetic) as synthetic
    from municipalities
    where population is not null
    group by year
    union all
    select 'population_80_plus', 'Befolkningen 80 år og over', 'population', year,
           sum(population_80_plus) filter (where in_programme_cohort), sum(population_80_plus),
           count(*) filter (where in_programme_cohort and population_80_plus is not null),
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
    cast(coalesce(programme_value, 0) as double)                        as programme_value,
    cast(national_value as double)                                      as national_value,
    cast(case when national_value > 0
              then coalesce(programme_value, 0) / national_value * 100 end as double) as programme_share_pct,
    cast(n_programme_municipalities as integer)                         as n_programme_municipalities,
    coalesce(synthetic, false)                                          as synthetic
from unioned
