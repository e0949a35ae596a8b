-- Programme municipalities with the years of their membership (codes as listed, i.e. as valid then).
with source as (
    select * from {{ optional_source('raw', 'programme_municipalities', {
        'municipality_code': 'varchar', 'municipality_name': 'varchar', 'programme': 'varchar',
        'valid_from_year': 'integer', 'valid_to_year': 'integer', 'synthetic': 'boolean'}, prefer_current=true) }}
),

renamed as (
    select
        cast(municipality_code as varchar)          as municipality_code,
        cast(municipality_name as varchar)          as municipality_name,
        cast(programme as varchar)                  as programme,
        cast(valid_from_year as integer)            as valid_from_year,
        cast(valid_to_year as integer)              as valid_to_year,
        coalesce(cast(synthetic as boolean), false) as synthetic
    from source
)

select * from renamed
