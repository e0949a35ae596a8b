-- Every measure of every source in one long shape, on the municipality codes as reported that year:
-- the union of the per-source models (KOSTRA/IPLOS, population, Husbanken, own reporting, KMD). This is
-- where "as reported" stays available; int_measures_harmonised maps it onto the reference structure.
-- `codes_year` is the year whose codes a figure is published on (its own year, but for population).
-- `is_additive` (seeds/measures.csv's `additive`, the one place it is said) is whether a value may be
-- summed over municipalities, merged codes and purposes. A missing value keeps its
-- status symbol. Every measure name is tested against seeds/measures.csv.
{%- set per_source = [
    'int_kostra_values_latest_release',
    'int_population_measures_at_year_end',
    'int_husbanken_measures_named',
    'int_programme_answers_scored',
    'int_kmd_survey_measures_named',
] %}

with intervals as (
    select * from {{ ref('suppression_intervals') }}
),

unioned as (
    {%- for model in per_source %}
    select source, measure, municipality_code, year,
           {% if model == 'int_population_measures_at_year_end' %}codes_year{% else %}year as codes_year{% endif %},
           value, status_symbol, vintage, synthetic,
           {% if model == 'int_husbanken_measures_named' %}value_low, value_high{% else %}cast(null as double precision) as value_low, cast(null as double precision) as value_high{% endif %}
    from {{ ref(model) }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
)

select
    cast(u.source as varchar)                 as source,
    cast(u.measure as varchar)                as measure,
    cast(u.municipality_code as varchar)      as municipality_code,
    cast(u.year as integer)                   as year,
    cast(u.codes_year as integer)             as codes_year,
    cast(u.value as double precision)         as value,
    cast(u.status_symbol as varchar)          as status_symbol,
    cast(u.vintage as varchar)                as vintage,
    coalesce(u.synthetic, false)              as synthetic,
    v.additive                                as is_additive,
    -- the interval the value lies in: the value itself when known; a suppressed cell's interval from
    -- seeds/suppression_intervals.csv (a measure's own row wins over its source's '*'); null when absent.
    -- Husbanken brings its own (sums over districts, months and purposes with '<4' cells).
    cast(coalesce(u.value_low, u.value, m.lower_bound, d.lower_bound) as double precision)  as value_low,
    cast(coalesce(u.value_high, u.value, m.upper_bound, d.upper_bound) as double precision) as value_high
from unioned u
left join {{ ref('measures') }} v
    on v.measure_id = u.measure
left join intervals m
    on m.source = u.source and m.status_symbol = u.status_symbol and m.measure = u.measure
left join intervals d
    on d.source = u.source and d.status_symbol = u.status_symbol and d.measure = '*'
where u.year >= {{ var('first_year') }}
