-- The KMD survey «Bruk av kommunale boliger» (SSB Rapporter 2018/15, figures for 2017): one row per
-- municipality and measure (care_dwellings, disadvantaged_dwellings, non_means_tested_dwellings,
-- investment_grant_dwellings); municipalities that did not answer keep their rows with null values.
with source as (
    select * from {{ optional_source('raw', 'kmd_survey', {
        'survey_year': 'integer', 'municipality_code': 'varchar', 'municipality_name': 'varchar',
        'answered': 'boolean', 'measure': 'varchar', 'value': 'double precision', 'status_symbol': 'varchar',
        'source_file': 'varchar', 'received_at': 'timestamp', 'synthetic': 'boolean'}, prefer_current=true) }}
),

renamed as (
    select
        coalesce(cast(survey_year as integer), {{ var('kmd_survey_year') }}) as year,
        cast(municipality_code as varchar)                              as municipality_code,
        cast(municipality_name as varchar)                              as municipality_name,
        cast(answered as boolean)                                       as answered,
        cast(measure as varchar)                                        as measure,
        cast(value as double precision)                                 as value,
        cast(status_symbol as varchar)                                  as status_symbol,
        cast(source_file as varchar)                                    as source_file,
        cast(received_at as timestamp)                                  as received_at,
        coalesce(cast(synthetic as boolean), false)                     as synthetic
    from source
)

select * from renamed
