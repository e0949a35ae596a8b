-- KOSTRA group (KLASS 112) of each municipality.
with source as (
    select * from {{ optional_source('raw', 'klass_kostra_groups', {
        'municipality_code': 'varchar', 'kostra_group_code': 'varchar', 'kostra_group_name': 'varchar'}) }}
),

renamed as (
    select
        cast(municipality_code as varchar)          as municipality_code,
        cast(kostra_group_code as varchar)          as kostra_group_code,
        cast(kostra_group_name as varchar)          as kostra_group_name
    from source
)

select * from renamed
