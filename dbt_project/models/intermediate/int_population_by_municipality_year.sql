-- Population per municipality and statistics year: the 31 December figure (= 1 January next year)
-- is the denominator SSB uses for «per 1000 inhabitants».
select
    municipality_code,
    population_date_year - 1                  as year,
    population                                as population_end_of_year,
    population_80_plus                        as population_80_plus_end_of_year,
    synthetic
from {{ ref('stg_ssb__population') }}
