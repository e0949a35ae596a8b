-- The registers' tenancies counted once per municipality, year and target group: households moved in
-- during the year and tenancies completed in it (a group with tenancies but none of either has zeros).
select
    municipality_code, year, target_group,
    count(*) filter (where is_moved_in_this_year)                               as n_moved_in,
    count(*) filter (where is_completed_this_year)                              as n_completed,
    bool_or(synthetic)                                                          as synthetic
from {{ ref('int_register_tenancies_measured') }}
group by municipality_code, year, target_group
