-- SSB's national figure (region EAK, «Landet») per KOSTRA/IPLOS measure and year, from the newest
-- release. It includes the municipalities whose cells SSB suppresses (':'), so for counts it is the
-- national total a sum over municipalities cannot give.
with observations as (
    select * from {{ ref('stg_ssb__observations') }}
    where is_kostra and region_code = 'EAK'
)

select distinct on (table_id, measure, year)
    measure,
    measure_kind,
    year,
    value,
    status_symbol,
    table_id,
    table_updated,
    synthetic
from observations
order by table_id, measure, year, table_updated desc
