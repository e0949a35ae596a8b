-- The dwellings of the registers counted once per municipality, year and class (a few hundred rows per
-- municipality and year instead of one per dwelling); the cells, the deliveries and the KOSTRA comparison
-- are sums over it.
select
    municipality_code, year, target_group, age_band, allocating_unit, status, dwelling_type, is_occupied,
    is_wheelchair_accessible,
    count(*)                                                                    as n_dwellings,
    bool_or(synthetic)                                                          as synthetic
from {{ ref('int_register_dwellings_classified') }}
group by municipality_code, year, target_group, age_band, allocating_unit, status, dwelling_type, is_occupied,
    is_wheelchair_accessible
