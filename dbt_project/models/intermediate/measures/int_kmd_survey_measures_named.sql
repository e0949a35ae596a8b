-- The KMD survey as measures: each measure as sent, named in the vocabulary (seeds/measures.csv), plus
-- whether the municipality answered (kmd.answered, for the response rate).
with kmd as (
    select * from {{ ref('stg_kmd__survey') }}
),

named as (
    select
        case measure
            when 'care_dwellings' then 'kmd.care_dwellings'
            when 'disadvantaged_dwellings' then 'kmd.disadvantaged_dwellings'
            when 'non_means_tested_dwellings' then 'kmd.non_means_tested_dwellings'
            when 'investment_grant_dwellings' then 'kmd.investment_grant_dwellings'
        end                                                             as measure,
        municipality_code, year, value,
        coalesce(status_symbol, case when value is null then '..' end) as status_symbol, synthetic
    from kmd
    union all
    select distinct 'kmd.answered', municipality_code, year, case when answered then 1.0 else 0.0 end,
           null, synthetic
    from kmd
)

select 'KMD' as source, measure, municipality_code, year, value, status_symbol,
       'survey ' || year as vintage, synthetic
from named
