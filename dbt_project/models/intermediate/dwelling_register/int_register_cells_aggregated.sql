-- The suppressed municipal cells summed per level: each municipality, each size class and all delivering
-- municipalities (the last two only where at least var register_min_deliverers delivered). A sum with
-- suppressed members has no value, only bounds [known + n·1, known + n·(min_cell − 1)].
{% set min_deliverers = var('register_min_deliverers', 2) %}
with cells as (
    select c.*, d.size_class, d.municipality_name
    from {{ ref('int_register_cells_suppressed') }} c
    join {{ ref('int_register_deliveries_listed') }} d using (municipality_code, year)
),

levelled as (
    {{ register_levels('cells') }}
),

summed as (
    select
        level, unit_code, year, measure, breakdown, target_group, category,
        case level when 'municipality' then {{ dbt.any_value('municipality_name') }} when 'size_class' then unit_code
                   else 'Alle kommuner som leverte' end                     as unit_name,
        count(distinct municipality_code)                                   as n_municipalities_delivered,
        count(*) filter (where is_suppressed)                               as n_suppressed_cells,
        sum(value_low)                                                      as value_low,
        sum(value_high)                                                     as value_high,
        bool_or(synthetic)                                                  as synthetic
    from levelled
    group by level, unit_code, year, measure, breakdown, target_group, category
)

select
    *,
    case when n_suppressed_cells = 0 then value_low end                     as value
from summed
where level = 'municipality' or n_municipalities_delivered >= {{ min_deliverers }}
