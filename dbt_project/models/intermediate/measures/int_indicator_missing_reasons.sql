-- Why an indicator is empty for some years when SSB lacks what the catalogue configures (a table that
-- answered 404 or a ContentsCode its metadata lacks; quality finding ssb_catalogue_gap): one row per
-- indicator and gap, with the years the gap covers. The one home of `missing_reason`: fct_indicator_value
-- joins it per year, rpt_goal_attainment per period.
with gaps as (
    select * from {{ ref('stg_ssb__catalogue') }}
    where catalogue_status in ('code_missing', 'table_missing') and indicators is not null
),

by_indicator as (
    select *, {{ split_to_rows('indicators', ',') }} as indicator_id
    from gaps
)

select
    cast(trim(indicator_id) as varchar)     as indicator_id,
    cast(measure as varchar)                as measure,
    cast(table_id as varchar)               as table_id,
    cast(contents_code as varchar)          as contents_code,
    cast(catalogue_status as varchar)       as catalogue_status,
    cast(first_year as integer)             as first_year,
    cast(last_year as integer)              as last_year,
    cast(missing_reason as varchar)         as missing_reason
from by_indicator
where trim(indicator_id) <> ''
