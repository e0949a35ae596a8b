{#
  The three levels of the dwelling-register marts over rows that carry municipality_code and size_class:
  each municipality, its size class, and all delivering municipalities (unit_code 'all').
#}
{% macro register_levels(relation) %}
    select 'municipality' as level, municipality_code as unit_code, * from {{ relation }}
    union all
    select 'size_class', size_class, * from {{ relation }}
    union all
    select 'delivering_municipalities', 'all', * from {{ relation }}
{% endmacro %}
