-- KLASS 131 municipality codes with their validity.
with source as (
    select * from {{ optional_source('raw', 'klass_municipality_codes', {
        'code': 'varchar', 'name': 'varchar', 'valid_from': 'date', 'valid_to': 'date'}) }}
),

renamed as (
    select
        cast(code as varchar)                       as municipality_code,
        cast(name as varchar)                       as municipality_name,
        cast(valid_from as date)                    as valid_from,
        cast(valid_to as date)                      as valid_to       -- exclusive; null = still valid
    from source
)

select * from renamed
