-- Husbanken's rows with Oslo's city districts folded into Oslo. Exports may split Oslo into districts
-- (Husbanken's 0311–0325, or KLASS 103's 6-digit 0301xx; the list is data/reference/klass/103_oslo_districts.csv).
-- Raw keeps them as received; here the districts of one period, instrument and measure are summed into
-- 0301, but only where Oslo's own row is missing, so Oslo is never counted twice. A sum with a
-- suppressed district has no value, keeps '<4' and its interval: the districts' bounds added (value_low,
-- value_high, given to every row here: seeds/suppression_intervals.csv).
{% set is_oslo_district %}
    ((length(municipality_code) = 4 and municipality_code between '0311' and '0325')
     or (length(municipality_code) = 6 and municipality_code like '0301%'))
{% endset %}
with husbanken as (
    -- a cell's interval: the value when known, else seeds/suppression_intervals.csv's ('<4': [1, 3])
    select h.*,
           coalesce(h.value, s.lower_bound)                             as value_low,
           coalesce(h.value, s.upper_bound)                             as value_high
    from {{ ref('stg_husbanken__instruments') }} h
    left join {{ ref('suppression_intervals') }} s
        on s.source = 'Husbanken' and s.measure = '*' and s.status_symbol = h.status_symbol
),

municipalities as (
    select * from husbanken where not {{ is_oslo_district }}
),

oslo_from_districts as (
    select
        '0301'                                                          as municipality_code,
        'Oslo'                                                          as municipality_name,
        period, grain, year, month, instrument, measure,
        {{ sum_of_parts('value') }}                                     as value,
        {{ status_of_parts() }}                                         as status_symbol,
        min(source_file)                                                as source_file,
        max(received_at)                                                as received_at,
        min(checksum)                                                   as checksum,
        min(sheet)                                                      as sheet,
        min(source_row_number)                                          as source_row_number,
        bool_or(synthetic)                                              as synthetic,
        {{ bounds_of_parts() }}
    from husbanken d
    where {{ is_oslo_district }}
      and not exists (
          select 1 from municipalities o
          where o.municipality_code = '0301' and o.period = d.period and o.grain = d.grain
            and o.instrument = d.instrument and o.measure = d.measure)
    group by period, grain, year, month, instrument, measure
)

select * from municipalities
union all
select * from oslo_from_districts
