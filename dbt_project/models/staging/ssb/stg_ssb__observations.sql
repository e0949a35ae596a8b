-- One row per SSB cell as received, with the canonical measure name and the release it came from.
with source as (
    select * from {{ source('raw', 'ssb_observations') }}
),

contents_map as (
    select * from {{ source('raw', 'ssb_contents_map') }}
),

renamed as (
    select
        source.table_id,
        cast(source.region_code as varchar)               as region_code,
        cast(source.period as integer)                    as year,
        source.contents_code,
        contents_map.measure,
        contents_map.kind                                 as measure_kind,
        contents_map.kostra                               as is_kostra,
        source.dimensions,
        cast(source.value as double precision)            as value,
        source.status_symbol,
        source.unit,
        source.table_updated,
        source.synthetic,
        source.checksum
    from source
    -- a measure's series comes from the table generation the catalogue names for each year
    -- (06493 until 2014, 12008 from 2015, …): a year outside the span is not this code's
    inner join contents_map
        on source.table_id = contents_map.table_id
       and source.contents_code = contents_map.contents_code
       and {{ try_cast_integer('left(source.period, 4)') }}
           between coalesce(contents_map.first_year, 0) and coalesce(contents_map.last_year, 9999)
)

select * from renamed
