-- Husbanken's rows with Oslo's city districts folded into Oslo. Exports may split Oslo into districts
-- (Husbanken's 0311–0325, or KLASS 103's 6-digit 0301xx; the list is data/reference/klass/103_oslo_districts.csv).
-- Raw keeps them as received; here the districts of one period, instrument and measure are summed into
-- 0301, but only where Oslo's own row is missing, so Oslo is never counted twice. A sum with a
-- suppressed district keeps '<4' as a lower bound (macro sum_of_parts).
{% set is_oslo_district %}
    ((length(municipality_code) = 4 and municipality_code between '0311' and '0325')
     or (length(municipality_code) = 6 and municipality_code like '0301%'))
{% endset %}
with husbanken as (
    select * from {{ ref('stg_husbanken__instruments') }}
),

municipalities as (
    select * from husbanken where not {{ is_oslo_district }}
),

oslo_from_districts as (
    select
        '0301'                                                          as municipality_code,
        'Oslo'                                                          as municipality_name,
        period, grain, year, month, instrument, measure,
        {{ sum_of_parts('value', 'status_symbol') }}                    as value,
        case when count(value) < count(*) then min(status_symbol) end   as status_symbol,
        min(source_file)                                                as source_file,
        max(received_at)                                                as received_at,
        min(checksum)                                                   as checksum,
        min(sheet)                                                      as sheet,
        min(source_row_number)                                          as source_row_number,
        bool_or(synthetic)                                              as synthetic
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
