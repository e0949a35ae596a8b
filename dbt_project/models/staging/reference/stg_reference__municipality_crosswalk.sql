-- The municipality crosswalk (written by the Python harmonisation into schema `reference`): every
-- municipality code of every year → the reference structure (var reference_date).
with source as (
    select * from {{ optional_source('reference', 'municipality_crosswalk', {
        'year': 'integer', 'reported_code': 'varchar', 'reference_code': 'varchar',
        'weight_kind': 'varchar', 'split_flag': 'boolean', 'weight': 'double precision'}) }}
),

renamed as (
    select
        cast(year as integer)                       as year,
        cast(reported_code as varchar)              as reported_code,
        cast(reference_code as varchar)             as reference_code,
        cast(weight_kind as varchar)                as weight_kind,
        coalesce(cast(split_flag as boolean), false) as split_flag,
        cast(weight as double precision)            as weight       -- an allocation key when the writer supplies one
    from source
)

select * from renamed
