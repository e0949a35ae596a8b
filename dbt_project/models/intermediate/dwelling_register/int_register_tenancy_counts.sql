-- The registers' tenancies counted once per level, year and target group — each delivering municipality,
-- its size class and all delivering municipalities: households moved in during the year, tenancies completed
-- in it and running on the reference date (a group with tenancies but none of these has zeros), and the
-- median length of the completed and of the running ones. One read of the register for the counts and the
-- medians of all three levels (the turnover mart used to read it again for its medians), an aggregation per
-- level over the same tenancies.
with tenancies as (
    select t.municipality_code, d.size_class, t.year, t.target_group, t.length_years,
        t.is_moved_in_this_year, t.is_completed_this_year, t.is_running, t.synthetic
    from {{ ref('int_register_tenancies_measured') }} t
    join {{ ref('int_register_deliveries_listed') }} d using (municipality_code, year)
)

{% for level, unit, keys in [('municipality', 'municipality_code', 'municipality_code, '),
                             ('size_class', 'size_class', 'size_class, '),
                             ('delivering_municipalities', "'all'", '')] -%}
select
    '{{ level }}' as level, {{ unit }} as unit_code, year, target_group,
    count(*) filter (where is_moved_in_this_year)                               as n_moved_in,
    count(*) filter (where is_completed_this_year)                              as n_completed,
    count(*) filter (where is_running)                                          as n_running,
    {{ median_of('length_years', 'is_completed_this_year') }}                   as median_completed_years,
    {{ median_of('length_years', 'is_running') }}                               as median_running_years,
    bool_or(synthetic)                                                          as synthetic
from tenancies
group by {{ keys }}year, target_group
{{ 'union all' if not loop.last }}
{% endfor %}
