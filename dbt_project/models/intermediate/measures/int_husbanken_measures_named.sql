-- Husbanken's yearly instruments as measures of the vocabulary (seeds/measures.csv), with the total over
-- purposes of a measure split by purpose (households_purchase, households_refinancing, … → households)
-- unless the export carried the total itself or the measure is not additive (an average). A total over
-- purposes follows sum_of_parts.
-- The measure name comes from seeds/husbanken_measures.csv (instrument, measure as received → measure
-- id), an inner join: a received measure without a row there is caught by the test on this model.
-- Where the export's absence means none (int_husbanken_absent_as_zero), the zeros join the received rows.
with by_year as (
    select * from {{ ref('int_husbanken_instruments_by_year') }}
    union all
    select * from {{ ref('int_husbanken_absent_as_zero') }}
),

names as (
    select * from {{ ref('husbanken_measures') }}
),

purpose_totals as (
    select
        municipality_code, year, instrument,
        regexp_replace(measure, '_(purchase|refinancing|improvement|construction)$', '') as measure,
        {{ sum_of_parts('value') }}                                     as value,
        {{ status_of_parts() }}                                         as status_symbol,
        max(received_at)                                                as received_at,
        bool_or(synthetic)                                              as synthetic,
        {{ bounds_of_parts() }}
    from by_year
    where {{ regex_matches('measure', '_(purchase|refinancing|improvement|construction)$') }}
      -- an average per household has no total over purposes (seeds/measures.csv: not additive)
      and exists (
          select 1 from names n inner join {{ ref('measures') }} v on v.measure_id = n.measure_id
          where n.instrument = by_year.instrument and v.additive
            and n.measure = regexp_replace(by_year.measure, '_(purchase|refinancing|improvement|construction)$', ''))
    group by municipality_code, year, instrument,
             regexp_replace(measure, '_(purchase|refinancing|improvement|construction)$', '')
),

with_totals as (
    select * from by_year
    union all
    select * from purpose_totals t
    where not exists (
        select 1 from by_year b
        where b.municipality_code = t.municipality_code and b.year = t.year
          and b.instrument = t.instrument and b.measure = t.measure)
)

select
    'Husbanken'                                                         as source,
    n.measure_id                                                        as measure,
    w.municipality_code, w.year, w.value, w.status_symbol,
    'received ' || {{ date_text('w.received_at') }}                  as vintage,
    w.synthetic,
    w.value_low,
    w.value_high
from with_totals w
inner join names n on n.instrument = w.instrument and n.measure = w.measure
