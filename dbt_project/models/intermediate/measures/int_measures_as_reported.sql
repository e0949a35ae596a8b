-- Every measure of every source in one long shape, on the municipality codes as reported that year:
-- KOSTRA/IPLOS (SSB), population, Husbanken's instruments, the programme reports and the KMD survey.
-- This is where "as reported" stays available; int_measures_harmonised maps it onto the reference
-- structure. `is_additive` says whether a value may be summed over municipalities (counts: yes; SSB's
-- published ratios: no). A missing value keeps its status symbol.
with kostra as (
    select * from {{ ref('stg_ssb__kostra_values') }}
),

population as (
    select * from {{ ref('stg_ssb__population') }}
),

husbanken as (
    select * from {{ ref('stg_husbanken__instruments') }}
),

answers as (
    select * from {{ ref('stg_programme__report_answers') }}
),

kmd as (
    select * from {{ ref('stg_kmd__survey') }}
),

kostra_measures as (
    select
        case when table_id = '12003' then 'IPLOS' else 'KOSTRA' end    as source,
        measure,
        municipality_code,
        year,
        value,
        status_symbol,
        vintage,
        synthetic,
        measure_kind = 'count'                                          as is_additive
    from kostra
),

-- 07459 is dated 1 January; the statistics year's denominator is 31 December = 1 January next year.
population_measures as (
    select 'SSB' as source, 'population_end_of_year' as measure, municipality_code,
           population_date_year - 1 as year, population as value, synthetic
    from population
    union all
    select 'SSB', 'population_80_plus_end_of_year', municipality_code,
           population_date_year - 1, population_80_plus, synthetic
    from population
),

-- Yearly figures where Husbanken sent them; otherwise the sum of the year's months. A sum over parts
-- (months, purposes) is unknown when a part is, except for Husbanken's small-count suppression '<4'
-- (1–3 households): then the known parts are added, the sum keeps '<4' and is a lower bound that is
-- at most 3 per part too low (dropping the municipality would bias group values far more).
husbanken_yearly as (
    select municipality_code, year, instrument, measure, value, status_symbol, received_at, synthetic
    from husbanken
    where grain = 'year'
),

husbanken_from_months as (
    select
        municipality_code, year, instrument, measure,
        {{ sum_of_parts('value', 'status_symbol') }}                    as value,
        case when count(value) < count(*) then min(status_symbol) end   as status_symbol,
        max(received_at)                                                as received_at,
        bool_or(synthetic)                                              as synthetic
    from husbanken
    where grain = 'month'
      and not exists (
          select 1 from husbanken_yearly y
          where y.municipality_code = husbanken.municipality_code and y.year = husbanken.year
            and y.instrument = husbanken.instrument and y.measure = husbanken.measure)
    group by municipality_code, year, instrument, measure
),

husbanken_by_year as (
    select * from husbanken_yearly
    union all
    select * from husbanken_from_months
),

-- A measure split by purpose (households_purchase, households_refinancing, …) also gets its total
-- over purposes, unless the export carried the total itself.
husbanken_purpose_totals as (
    select
        municipality_code, year, instrument,
        regexp_replace(measure, '_(purchase|refinancing|improvement|construction)$', '') as measure,
        {{ sum_of_parts('value', 'status_symbol') }}                    as value,
        case when count(value) < count(*) then min(status_symbol) end   as status_symbol,
        max(received_at)                                                as received_at,
        bool_or(synthetic)                                              as synthetic
    from husbanken_by_year
    where regexp_matches(measure, '_(purchase|refinancing|improvement|construction)$')
    group by all
),

husbanken_measures as (
    select
        'Husbanken'                                                     as source,
        'husbanken.' || instrument || '.' || measure                    as measure,
        municipality_code, year, value, status_symbol,
        'received ' || strftime(received_at, '%Y-%m-%d')                as vintage,
        synthetic
    from (
        select * from husbanken_by_year
        union all
        select * from husbanken_purpose_totals t
        where not exists (
            select 1 from husbanken_by_year b
            where b.municipality_code = t.municipality_code and b.year = t.year
              and b.instrument = t.instrument and b.measure = t.measure)
    )
),

-- Own reporting: a yes/no answer is 1/0 over "answered" (1), a scale answer is its score over
-- "answered", so group values are ratios of sums (shares of reporting municipalities, mean scores).
answer_measures as (
    select
        report_year as year, municipality_code, question_id, answer_kind, synthetic,
        'received ' || strftime(received_at, '%Y-%m-%d') as vintage,
        case answer_kind
            when 'yes_no' then cast(answer_bool as integer)
            when 'scale_1_5' then answer_scale
            when 'number' then answer_number
        end                                                             as answer_value,
        case answer_kind
            when 'yes_no' then answer_bool is not null
            when 'scale_1_5' then answer_scale is not null
            when 'number' then answer_number is not null
            else nullif(trim(coalesce(answer_text, '')), '') is not null
        end                                                             as is_answered
    from answers
),

programme_measures as (
    select
        'own reporting'                                                 as source,
        'programme.' || question_id || '.' || case answer_kind
            when 'yes_no' then 'yes' when 'scale_1_5' then 'score' else 'number' end as measure,
        municipality_code, year,
        cast(answer_value as double)                                    as value,
        case when answer_value is null then '..' end                    as status_symbol,
        vintage, synthetic
    from answer_measures
    where answer_kind in ('yes_no', 'scale_1_5', 'number')
    union all
    select
        'own reporting', 'programme.' || question_id || '.answered',
        municipality_code, year,
        case when is_answered then 1.0 else 0.0 end, null, vintage, synthetic
    from answer_measures
),

-- KMD: each measure as sent, plus whether the municipality answered (for the response rate)
kmd_measures as (
    select 'kmd.' || measure as measure, municipality_code, year, value,
           coalesce(status_symbol, case when value is null then '..' end) as status_symbol, synthetic
    from kmd
    union all
    select distinct 'kmd.answered', municipality_code, year, case when answered then 1.0 else 0.0 end,
           null, synthetic
    from kmd
),

unioned as (
    select source, measure, municipality_code, year, value, status_symbol, vintage, synthetic, is_additive
    from kostra_measures
    union all
    select source, measure, municipality_code, year, value, null, 'published', synthetic, true
    from population_measures
    union all
    select source, measure, municipality_code, year, value, status_symbol, vintage, synthetic, true
    from husbanken_measures
    union all
    select source, measure, municipality_code, year, value, status_symbol, vintage, synthetic, true
    from programme_measures
    union all
    select 'KMD', measure, municipality_code, year, value, status_symbol, 'survey ' || year, synthetic, true
    from kmd_measures
)

select
    cast(source as varchar)                 as source,
    cast(measure as varchar)                as measure,
    cast(municipality_code as varchar)      as municipality_code,
    cast(year as integer)                   as year,
    cast(value as double)                   as value,
    cast(status_symbol as varchar)          as status_symbol,
    cast(vintage as varchar)                as vintage,
    coalesce(synthetic, false)              as synthetic,
    is_additive
from unioned
where year >= {{ var('first_year') }}
