-- Every measure of every source in one long shape, on the municipality codes as reported that year:
-- the union of the per-source models (KOSTRA/IPLOS, population, Husbanken, own reporting, KMD). This is
-- where "as reported" stays available; int_measures_harmonised maps it onto the reference structure.
-- `is_additive` says whether a value may be summed over municipalities. A missing value keeps its
-- status symbol. Every measure name is tested against seeds/measures.csv.
{%- set per_source = [
    'int_kostra_values_latest_release',
    'int_population_measures_at_year_end',
    'int_husbanken_measures_named',
    'int_programme_answers_scored',
    'int_kmd_survey_measures_named',
] %}

with unioned as (
    {%- for model in per_source %}
    select source, measure, municipality_code, year, value, status_symbol, vintage, synthetic, is_additive
    from {{ ref(model) }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
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
