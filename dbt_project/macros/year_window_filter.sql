{#- The partition window Dagster passes as vars (min_year/max_year), as a SQL filter on `year`.
    Without a window it selects nothing less and nothing more: `where true`. -#}
{% macro year_window_filter(keyword='where') -%}
    {%- set lo = var('min_year', none) -%}
    {%- set hi = var('max_year', none) -%}
    {{ keyword }} {% if lo is not none %}year >= {{ lo }}{% else %}true{% endif %}
      and {% if hi is not none %}year <= {{ hi }}{% else %}true{% endif %}
{%- endmacro %}
