-- KOSTRA group (KLASS 112) of each municipality, per statistics year: KLASS's `correspondsAt` answer on
-- 1 January of the year, on the municipality codes valid then (groupings are revised: 2016, 2020, 2024).
with source as (
    select * from {{ optional_source('raw', 'klass_kostra_groups', {
        'year': 'integer', 'municipality_code': 'varchar', 'kostra_group_code': 'varchar',
        'kostra_group_name': 'varchar'}) }}
),

renamed as (
    select
        cast(year as integer)                       as year,
        cast(municipality_code as varchar)          as municipality_code,
        cast(kostra_group_code as varchar)          as kostra_group_code,
        cast(kostra_group_name as varchar)          as kostra_group_name
    from source
)

select * from renamed
