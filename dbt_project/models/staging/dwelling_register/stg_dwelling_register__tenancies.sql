-- Municipal dwelling registers: one row per dwelling and tenancy (a dwelling without tenancy has one row
-- with empty dates), the latest file per municipality and reference year. Rename and cast only.
with source as (
    select * from {{ optional_source('raw', 'dwelling_register', {
        'municipality_code': 'varchar', 'reference_date': 'date', 'reference_year': 'integer',
        'dwelling_id': 'varchar', 'dwelling_type': 'varchar', 'ownership': 'varchar',
        'wheelchair_accessible': 'boolean', 'status': 'varchar', 'target_group': 'varchar',
        'age_band': 'varchar', 'allocating_unit': 'varchar', 'tenancy_start': 'date', 'tenancy_end': 'date',
        'source_file': 'varchar', 'row_number': 'integer', 'received_at': 'timestamp',
        'synthetic': 'boolean'}, prefer_current=true) }}
)

select
    cast(municipality_code as varchar)                  as municipality_code,
    cast(reference_year as integer)                     as year,
    cast(reference_date as date)                        as reference_date,
    cast(dwelling_id as varchar)                        as dwelling_id,
    cast(dwelling_type as varchar)                      as dwelling_type,
    cast(ownership as varchar)                          as ownership,
    cast(wheelchair_accessible as boolean)              as is_wheelchair_accessible,
    cast(status as varchar)                             as status,
    cast(target_group as varchar)                       as target_group,
    cast(age_band as varchar)                           as age_band,
    cast(allocating_unit as varchar)                    as allocating_unit,
    cast(tenancy_start as date)                         as tenancy_start,
    cast(tenancy_end as date)                           as tenancy_end,
    cast(source_file as varchar)                        as source_file,
    cast(row_number as integer)                         as source_row,
    cast(received_at as timestamp)                      as received_at,
    coalesce(cast(synthetic as boolean), false)         as synthetic
from source
