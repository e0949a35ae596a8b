-- Husbanken's instruments per municipality, year, instrument and measure (as received): the yearly
-- figure where Husbanken sent one, otherwise one made from the year's months as the measure's
-- `months_to_year` (seeds/husbanken_measures.csv) says:
--   sum  — a flow (households granted a loan, kroner paid): the 12 months added;
--   mean — a monthly stock (households receiving bostøtte in the month): the mean of the 12 months;
--   none — an average per household: no yearly figure (the mean of monthly averages is not the year's).
-- A year with a month missing is not known ('..'): a part-year sum is not the year's, and a part-year mean
-- would need bounds for the missing months that the data do not give.
-- A month suppressed as '<4' (1–3 households) leaves the year without a value, with '<4' and its interval:
-- value_low / value_high add (or average) the months' bounds (macros sum_of_parts, bounds_of_parts).
with husbanken as (
    select * from {{ ref('int_husbanken_oslo_districts_folded') }}
),

yearly as (
    select municipality_code, year, instrument, measure, value, status_symbol, received_at, synthetic,
           value_low, value_high
    from husbanken
    where grain = 'year'
),

months_of_year as (
    select
        h.municipality_code, h.year, h.instrument, h.measure,
        r.months_to_year,
        count(distinct h.month)                                         as n_months,
        {{ sum_of_parts('h.value') }}                                   as value_sum,
        {{ status_of_parts('h.value', 'h.status_symbol') }}            as status_symbol,
        max(h.received_at)                                              as received_at,
        bool_or(h.synthetic)                                            as synthetic,
        {{ bounds_of_parts('h.value_low', 'h.value_high') }}
    from husbanken h
    left join {{ ref('husbanken_measures') }} r on r.instrument = h.instrument and r.measure = h.measure
    where h.grain = 'month'
      and not exists (
          select 1 from yearly y
          where y.municipality_code = h.municipality_code and y.year = h.year
            and y.instrument = h.instrument and y.measure = h.measure)
    group by h.municipality_code, h.year, h.instrument, h.measure, r.months_to_year
),

from_months as (
    select
        municipality_code, year, instrument, measure,
        case when complete then value_sum / divisor end                 as value,
        case when complete then status_symbol else '..' end             as status_symbol,
        received_at, synthetic,
        case when complete then value_low / divisor end                 as value_low,
        case when complete then value_high / divisor end                as value_high
    from (
        select *,
            n_months = 12                                               as complete,
            case months_to_year when 'sum' then 1 else n_months end    as divisor
        from months_of_year
        where months_to_year in ('sum', 'mean')   -- a pair without a rule: tests/assert_every_husbanken_measure_is_named
    ) m
)

select * from yearly
union all
select * from from_months
