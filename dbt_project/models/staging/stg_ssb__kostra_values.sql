-- KOSTRA/IPLOS values per municipality (4-digit code), measure and year, from the newest release.
-- Both releases stay in raw; `vintage` says whether the figure is the unrevised (March) or revised one.
with observations as (
    select * from {{ ref('stg_ssb__observations') }}
    where is_kostra
      and regexp_matches(region_code, '^[0-9]{4}$')
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
    region_code                                         as municipality_code,
    year,
    measure,
    measure_kind,
    value,
    status_symbol,
    table_id,
    table_updated,
    case
        when month(cast(table_updated as timestamp)) between 6 and 12 then 'revised'
        else 'unrevised'
    end                                                 as vintage,
    synthetic
from ranked
where release_rank = 1
