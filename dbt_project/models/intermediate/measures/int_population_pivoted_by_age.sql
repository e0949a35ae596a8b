-- Population per municipality on 1 January (table 07459), newest release, pivoted to the total and
-- those 80 years and over.
-- Only the newest release of each cell counts (a re-published table must not be added twice).
with observations as (
    select * from {{ ref('stg_ssb__observations') }}
    where table_id = '07459'
      and {{ regex_matches('region_code', '^[0-9]{4}$') }}
      and value is not null
),

latest as (
    select o.*
    from observations o
    inner join (select region_code, year, max(table_updated) as table_updated
                from observations group by region_code, year) newest
        on newest.region_code = o.region_code and newest.year = o.year and newest.table_updated = o.table_updated
),

ages as (
    select
        region_code                                                 as municipality_code,
        year,
        {{ json_text('dimensions', 'Alder') }}                  as age_code,
        value,
        synthetic
    from latest
)

select
    municipality_code,
    year                                                            as population_date_year,
    sum(case when age_code is null then value end)                  as population,
    sum(case when age_code is not null then value end)              as population_80_plus,
    bool_or(synthetic)                                              as synthetic
from ages
group by municipality_code, year
