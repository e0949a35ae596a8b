-- Every (instrument, measure) Husbanken delivered has its row in seeds/husbanken_measures.csv: its name in the
-- vocabulary and how its months make a year. int_husbanken_instruments_by_year and int_husbanken_measures_named
-- join on the pair and would otherwise drop the figures.
select distinct h.instrument, h.measure
from {{ ref('stg_husbanken__instruments') }} h
where not exists (
    select 1 from {{ ref('husbanken_measures') }} n
    where n.instrument = h.instrument and n.measure = h.measure)
