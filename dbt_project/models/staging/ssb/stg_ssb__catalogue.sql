-- The configured SSB catalogue (orchestration/config/ssb_tables.yaml) as the latest SSB load left it:
-- one row per (table, ContentsCode), the years it serves its measure, and what the verification of
-- SSB's metadata said of it (a warehouse loaded before the status was written reads not_verified).
with source as (
    select * from {{ optional_source('raw', 'ssb_contents_map', {
        'table_id': 'varchar', 'contents_code': 'varchar', 'measure': 'varchar', 'confirmed': 'boolean',
        'first_year': 'integer', 'last_year': 'integer', 'catalogue_status': 'varchar',
        'missing_reason': 'varchar', 'indicators': 'varchar'}) }}
)

select
    cast(table_id as varchar)                                   as table_id,
    cast(contents_code as varchar)                              as contents_code,
    cast(measure as varchar)                                    as measure,
    cast(confirmed as boolean)                                  as confirmed,
    cast(first_year as integer)                                 as first_year,
    cast(last_year as integer)                                  as last_year,
    cast(coalesce(catalogue_status, 'not_verified') as varchar) as catalogue_status,
    cast(missing_reason as varchar)                             as missing_reason,
    cast(nullif(indicators, '') as varchar)                     as indicators
from source
