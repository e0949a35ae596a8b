-- Husbanken's instruments, one row per municipality, period, instrument and measure, as received
-- (suppressed cells keep their symbol, e.g. '<4', with a null value).
with source as (
    select * from {{ optional_source('raw', 'husbanken_instruments', {
        'municipality_code': 'varchar', 'municipality_name': 'varchar', 'period': 'varchar', 'grain': 'varchar',
        'year': 'integer', 'month': 'integer', 'instrument': 'varchar', 'measure': 'varchar', 'value': 'double precision',
        'status_symbol': 'varchar', 'source_file': 'varchar', 'received_at': 'timestamp', 'checksum': 'varchar',
        'sheet': 'varchar', 'row_number': 'integer', 'synthetic': 'boolean'}, prefer_current=true) }}
),

renamed as (
    select
        cast(municipality_code as varchar)          as municipality_code,
        cast(municipality_name as varchar)          as municipality_name,
        cast(period as varchar)                     as period,
        cast(grain as varchar)                      as grain,
        cast(year as integer)                       as year,
        cast(month as integer)                      as month,
        cast(instrument as varchar)                 as instrument,
        cast(measure as varchar)                    as measure,
        cast(value as double precision)             as value,
        cast(status_symbol as varchar)              as status_symbol,
        cast(source_file as varchar)                as source_file,
        cast(received_at as timestamp)              as received_at,
        cast(checksum as varchar)                   as checksum,
        cast(sheet as varchar)                      as sheet,
        cast(row_number as integer)                 as source_row_number,
        coalesce(cast(synthetic as boolean), false) as synthetic
    from source
)

select * from renamed
