-- KOSTRA/IPLOS values per municipality (4-digit code), measure and year: the newest release of each
-- cell. Both releases stay in raw; `vintage` says whether the figure is the unrevised (March) or revised
-- one. `source` puts it in the shape of int_measures_as_reported.
with observations as (
    select * from {{ ref('stg_ssb__observations') }}
    where is_kostra
      and {{ regex_matches('region_code', '^[0-9]{4}$') }}
      and coalesce(status_symbol, '') <> '.'          -- '.' = the code did not exist that year
),

ranked as (
    select
        *,
        row_number() over (
            partition by table_id, region_code, measure, year order by table_updated desc
        ) as release_rank,
        count(*) over (partition by table_id, region_code, measure, year) as n_releases
    from observations
)

select
    case when table_id = '12003' then 'IPLOS' else 'KOSTRA' end as source,     -- 12003 is the IPLOS table
    region_code                                         as municipality_code,
    year,
    measure,
    measure_kind,
    value,
    status_symbol,
    table_id,
    table_updated,
    -- 'unrevised' only when the release came out before June of the year after the statistics year
    -- (SSB's 15 March publication of that year); a later release of the year — or any release of a
    -- later year, e.g. a March release re-serving 2008–2024 beside the new year — is the revised figure
    case
        when extract(year from cast(table_updated as timestamp)) = year + 1
         and extract(month from cast(table_updated as timestamp)) < 6 then 'unrevised'
        else 'revised'
    end                                                 as vintage,
    synthetic
from ranked
where release_rank = 1
