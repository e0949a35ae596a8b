-- Every (year, municipality code as reported) onto the cohort structure (the codes valid on 31 December
-- of var programme_cohort_year, the report's 2019 codes), for analyses of that year on its own structure
-- (statistics.md: no push-forward to today and split back):
--   * 'forward': a code valid in a year up to the cohort year follows KLASS's changes up to 31.12 of the
--     cohort year, so earlier years reach the cohort structure by merges (weight 1, sums exact) and the
--     cohort year itself maps one-to-one. A code that splits on the way is shared by the parts' cohort-year
--     population (flagged).
--   * 'via_reference': every later year, and codes published on a structure newer than their year (SSB's
--     history on new codes), are on a structure the cohort's codes were merged into: they go to the
--     reference structure (int_municipality_crosswalk) and are shared back over the cohort codes by
--     population (int_cohort_crosswalk) — a split, flagged when the code goes to more than one cohort code.
{%- set cohort_end = var('programme_cohort_year') ~ '-12-31' %}
with recursive

changes as (
    select old_code, new_code, change_date
    from {{ ref('stg_klass__changes') }}
    where old_code is not null and new_code is not null and old_code <> new_code
      and change_date <= date '{{ cohort_end }}'
),

cohort_codes as (
    select municipality_code as cohort_code
    from {{ ref('stg_klass__municipality_codes') }}
    where valid_from <= date '{{ cohort_end }}' and (valid_to is null or valid_to > date '{{ cohort_end }}')
),

reference_crosswalk as (
    select * from {{ ref('int_municipality_crosswalk') }}
),

observed as (
    select distinct year, reported_code
    from reference_crosswalk
    where year <= {{ var('programme_cohort_year') }} and mapping_quality = 'exact'
),

-- each code's path through the changes after 1 January of its year
walk(year, reported_code, code, at_date, depth) as (
    select year, reported_code, reported_code, make_date(year, 1, 1), 0 from observed
    union all
    select w.year, w.reported_code, c.new_code, c.change_date, w.depth + 1
    from walk w
    inner join changes c on c.old_code = w.code and c.change_date > w.at_date
    where w.depth < 20
),

ends as (
    select distinct w.year, w.reported_code, w.code as cohort_code
    from walk w
    where not exists (select 1 from changes c where c.old_code = w.code and c.change_date > w.at_date)
),

-- forward mapping only where every end is a cohort code (else the code is newer than its year)
forward_codes as (
    select e.year, e.reported_code
    from ends e
    left join cohort_codes k on k.cohort_code = e.cohort_code
    group by e.year, e.reported_code
    having bool_and(k.cohort_code is not null)
),

cohort_population as (
    select municipality_code, population from {{ ref('int_population_on_cohort_codes') }}
),

forward as (
    select
        e.year, e.reported_code, e.cohort_code,
        count(*) over (partition by e.year, e.reported_code) > 1            as split_flag,
        coalesce(p.population / nullif(sum(p.population) over (partition by e.year, e.reported_code), 0),
                 1.0 / count(*) over (partition by e.year, e.reported_code)) as weight,
        'exact'                                                              as mapping_quality,
        'forward'                                                            as mapping_method
    from ends e
    inner join forward_codes f on f.year = e.year and f.reported_code = e.reported_code
    left join cohort_population p on p.municipality_code = e.cohort_code
),

via_reference as (
    select
        x.year, x.reported_code, c.cohort_code,
        {{ exact_sum('x.weight * c.weight') }}                                          as weight,
        {{ dbt.any_value('x.mapping_quality') }}                           as mapping_quality
    from reference_crosswalk x
    inner join {{ ref('int_cohort_crosswalk') }} c on c.reference_code = x.reference_code
    where not exists (select 1 from forward_codes f where f.year = x.year and f.reported_code = x.reported_code)
      and x.weight is not null
    group by x.year, x.reported_code, c.cohort_code
),

unioned as (
    select year, reported_code, cohort_code, split_flag, weight, mapping_quality, mapping_method from forward
    union all
    select year, reported_code, cohort_code,
           count(*) over (partition by year, reported_code) > 1, weight, mapping_quality, 'via_reference'
    from via_reference
    where weight > 0
)

select
    cast(year as integer)                   as year,
    cast(reported_code as varchar)          as reported_code,
    -- named as in int_municipality_crosswalk, so the harmonisation macro reads either
    cast(cohort_code as varchar)            as reference_code,
    cast(case when split_flag then 'split' else 'whole' end as varchar) as weight_kind,
    split_flag,
    cast(mapping_quality as varchar)        as mapping_quality,
    cast(weight as double precision)        as weight,
    cast(mapping_method as varchar)         as mapping_method
from unioned
