-- The dwellings of the registers counted once per municipality, year and class (a few hundred rows per
-- municipality and year instead of one per dwelling); the cells, the deliveries and the KOSTRA comparison
-- are sums over it. Wheelchair access is a count in the class, not a key of it: only the KOSTRA comparison
-- reads it, and as a key it doubled the classes (2.6 million at 10 million rows), which made this
-- aggregation most of the register build.
select
    municipality_code, year, target_group, age_band, allocating_unit, status, dwelling_type, is_occupied,
    count(*)                                                                    as n_dwellings,
    count(*) filter (where is_wheelchair_accessible)                            as n_wheelchair_accessible,
    bool_or(synthetic)                                                          as synthetic
from {{ ref('int_register_dwellings_classified') }}
group by municipality_code, year, target_group, age_band, allocating_unit, status, dwelling_type, is_occupied
