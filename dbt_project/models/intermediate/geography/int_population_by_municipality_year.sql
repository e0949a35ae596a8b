-- Population per reference municipality and statistics year: the 31 December figure (= 1 January next
-- year, table 07459) is the denominator SSB uses for «per 1000 inhabitants»; harmonised like every
-- other count (merges summed, splits allocated by population share).
with population as (
    select * from {{ ref('int_measures_harmonised') }}
    where measure in ('population_end_of_year', 'population_80_plus_end_of_year')
)

select
    municipality_code,
    year,
    max(case when measure = 'population_end_of_year' then value end)          as population_end_of_year,
    max(case when measure = 'population_80_plus_end_of_year' then value end)  as population_80_plus_end_of_year,
    bool_or(synthetic)                                                         as synthetic,
    bool_or(is_harmonised)                                                     as is_harmonised,
    bool_or(split_flag)                                                        as split_flag
from population
group by municipality_code, year
