-- The suppressed municipal cells summed per level: each municipality, each size class and all delivering
-- municipalities (the last two only where at least var register_min_deliverers delivered). A sum with
-- suppressed members has no value, only bounds [known + n·1, known + n·(min_cell − 1)].
-- A municipality's own level is its cells as they are.
{% set min_deliverers = var('register_min_deliverers') %}
with cells as (
    select c.*, d.size_class, d.municipality_name
    from {{ ref('int_register_cells_suppressed') }} c
    join {{ ref('int_register_deliveries_listed') }} d using (municipality_code, year)
),

municipal as (
    select
        'municipality'                                                      as level,
        municipality_code                                                   as unit_code,
        year, measure, breakdown, target_group, category,
        municipality_name                                                   as unit_name,
        1                                                                   as n_municipalities_delivered,
        case when is_suppressed then 1 else 0 end                           as n_suppressed_cells,
        value_low,
        value_high,
        synthetic
    from cells
),

-- each delivering municipality has exactly one cell per key, so count(*) counts municipalities; all delivering
-- municipalities are the sum of the size classes (a few rows per key), not a second pass over every cell
by_size_class as (
    select
        size_class, year, measure, breakdown, target_group, category,
        count(*)                                                            as n_municipalities_delivered,
        count(*) filter (where is_suppressed)                               as n_suppressed_cells,
        sum(value_low)                                                      as value_low,
        sum(value_high)                                                     as value_high,
        bool_or(synthetic)                                                  as synthetic
    from cells
    group by size_class, year, measure, breakdown, target_group, category
),

summed as (
    select 'size_class' as level, size_class as unit_code, year, measure, breakdown, target_group, category,
        size_class as unit_name, n_municipalities_delivered, n_suppressed_cells, value_low, value_high, synthetic
    from by_size_class
    where n_municipalities_delivered >= {{ min_deliverers }}
    union all
    select 'delivering_municipalities', 'all', year, measure, breakdown, target_group, category,
        'Alle kommuner som leverte', sum(n_municipalities_delivered), sum(n_suppressed_cells), sum(value_low),
        sum(value_high), bool_or(synthetic)
    from by_size_class
    group by year, measure, breakdown, target_group, category
    having sum(n_municipalities_delivered) >= {{ min_deliverers }}
)

select *, case when n_suppressed_cells = 0 then value_low end as value from municipal
union all
select *, case when n_suppressed_cells = 0 then value_low end as value from summed
