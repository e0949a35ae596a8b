-- KLASS 131 code changes: old code → new code and the date the change took effect.
with source as (
    select * from {{ optional_source('raw', 'klass_changes', {
        'old_code': 'varchar', 'old_name': 'varchar', 'new_code': 'varchar', 'new_name': 'varchar',
        'change_occurred': 'varchar'}) }}
),

renamed as (
    select
        cast(old_code as varchar)                   as old_code,
        cast(old_name as varchar)                   as old_name,
        cast(new_code as varchar)                   as new_code,
        cast(new_name as varchar)                   as new_name,
        cast(change_occurred as date)               as change_date
    from source
)

select * from renamed
