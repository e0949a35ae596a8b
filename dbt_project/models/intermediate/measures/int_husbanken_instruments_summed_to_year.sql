-- Husbanken's instruments per municipality, year, instrument and measure (as received): the yearly
-- figure where Husbanken sent one, otherwise the sum of the year's months. A sum over months is unknown
-- when a month is, except for Husbanken's small-count suppression '<4' (1–3 households): then the known
-- months are added and the sum keeps '<4', a lower bound (macro sum_of_parts). value_low / value_high
-- carry the interval of seeds/suppression_intervals.csv ([1, 3] per '<4' cell) through the sum.
with husbanken as (
    select h.*,
           coalesce(h.value, case when h.status_symbol = s.status_symbol then s.lower_bound end) as value_low,
           coalesce(h.value, case when h.status_symbol = s.status_symbol then s.upper_bound end) as value_high
    from {{ ref('int_husbanken_oslo_districts_folded') }} h
    left join {{ ref('suppression_intervals') }} s
        on s.source = 'Husbanken' and s.measure = '*' and s.status_symbol = h.status_symbol
),

yearly as (
    select municipality_code, year, instrument, measure, value, status_symbol, received_at, synthetic,
           value_low, value_high
    from husbanken
    where grain = 'year'
),

from_months as (
    select
        municipality_code, year, instrument, measure,
        {{ sum_of_parts('value', 'status_symbol') }}                    as value,
        case when count(value) < count(*) then min(status_symbol) end   as status_symbol,
        max(received_at)                                                as received_at,
        bool_or(synthetic)                                              as synthetic,
        case when count(value_low) = count(*) then {{ exact_sum('value_low') }} end   as value_low,
        case when count(value_high) = count(*) then {{ exact_sum('value_high') }} end as value_high
    from husbanken
    where grain = 'month'
      and not exists (
          select 1 from yearly y
          where y.municipality_code = husbanken.municipality_code and y.year = husbanken.year
            and y.instrument = husbanken.instrument and y.measure = husbanken.measure)
    group by municipality_code, year, instrument, measure
)

select * from yearly
union all
select * from from_months
