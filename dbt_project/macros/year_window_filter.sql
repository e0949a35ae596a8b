{#- The partition window of a run, as a SQL filter on `year`. Dagster passes it in the environment
    (BOLIGSOSIAL_DBT_MIN_YEAR/MAX_YEAR): a var on the command line would make dbt parse the whole project
    again, an environment variable read at run time does not. By hand, `--vars '{min_year: …, max_year: …}'`
    does the same. Without a window it selects nothing less and nothing more: `where true`. -#}
{% macro year_window_filter(keyword='where') -%}
    {%- set lo = _window_year('min_year', 'BOLIGSOSIAL_DBT_MIN_YEAR') -%}
    {%- set hi = _window_year('max_year', 'BOLIGSOSIAL_DBT_MAX_YEAR') -%}
    {{ keyword }} {% if lo is not none %}year >= {{ lo }}{% else %}true{% endif %}
      and {% if hi is not none %}year <= {{ hi }}{% else %}true{% endif %}
{%- endmacro %}

{% macro _window_year(var_name, env_name) -%}
    {%- set value = var(var_name, none) -%}
    {%- if value is none -%}{%- set value = env_var(env_name, '') or none -%}{%- endif -%}
    {%- if value is not none and not (value | string).isdigit() -%}
        {{ exceptions.raise_compiler_error("year window: " ~ var_name ~ " / " ~ env_name ~ " must be a year, got '" ~ value ~ "'") }}
    {%- endif -%}
    {{ return(value | int if value is not none else none) }}
{%- endmacro %}
