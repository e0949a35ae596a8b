{#- The SQL DuckDB and PostgreSQL spell differently, one macro per function, dispatched per adapter:
    dbt-duckdb builds the warehouse, dbt-postgres builds the same models in a PostgreSQL server (profiles.yml
    target `postgres`, orchestration/serve/dbt_postgres.py). The duckdb__ side is what the models wrote before,
    so the DuckDB marts do not change. any_value is dbt's own cross-database macro (dbt.any_value). -#}

{# True when `expr` matches the POSIX pattern (an unanchored search in both: anchor it in the pattern). #}
{% macro regex_matches(expr, pattern) -%}
    {{ return(adapter.dispatch('regex_matches', 'boligsosial')(expr, pattern)) }}
{%- endmacro %}
{% macro duckdb__regex_matches(expr, pattern) -%} regexp_matches({{ expr }}, '{{ pattern }}') {%- endmacro %}
{% macro postgres__regex_matches(expr, pattern) -%} ({{ expr }} ~ '{{ pattern }}') {%- endmacro %}

{# A date or timestamp as YYYY-MM-DD text. #}
{% macro date_text(expr) -%}
    {{ return(adapter.dispatch('date_text', 'boligsosial')(expr)) }}
{%- endmacro %}
{% macro duckdb__date_text(expr) -%} strftime({{ expr }}, '%Y-%m-%d') {%- endmacro %}
{% macro postgres__date_text(expr) -%} to_char({{ expr }}, 'YYYY-MM-DD') {%- endmacro %}

{# Whole days from date `start` to date `end`. #}
{% macro days_between(start, end) -%}
    {{ return(adapter.dispatch('days_between', 'boligsosial')(start, end)) }}
{%- endmacro %}
{% macro duckdb__days_between(start, end) -%} date_diff('day', {{ start }}, {{ end }}) {%- endmacro %}
{% macro postgres__days_between(start, end) -%} ({{ end }} - {{ start }}) {%- endmacro %}

{# A double rounded to `digits` decimals, as a double (PostgreSQL rounds numerics only). #}
{% macro round_double(expr, digits) -%}
    {{ return(adapter.dispatch('round_double', 'boligsosial')(expr, digits)) }}
{%- endmacro %}
{% macro duckdb__round_double(expr, digits) -%} round({{ expr }}, {{ digits }}) {%- endmacro %}
{% macro postgres__round_double(expr, digits) -%}
    cast(round(cast({{ expr }} as numeric), {{ digits }}) as double precision)
{%- endmacro %}

{# `value` on the row with the largest `ordering` among the rows where `where` holds (rows with a null
   ordering ignored, as DuckDB's arg_max does); `where` replaces a FILTER clause, which PostgreSQL cannot
   put after the subscript its version needs. #}
{% macro arg_max(value, ordering, where='true') -%}
    {{ return(adapter.dispatch('arg_max', 'boligsosial')(value, ordering, where)) }}
{%- endmacro %}
{% macro duckdb__arg_max(value, ordering, where) -%}
    arg_max({{ value }}, {{ ordering }}){% if where != 'true' %} filter (where {{ where }}){% endif %}
{%- endmacro %}
{% macro postgres__arg_max(value, ordering, where) -%}
    (array_agg({{ value }} order by {{ ordering }} desc) filter (where {{ ordering }} is not null and ({{ where }})))[1]
{%- endmacro %}

{# The interpolated median of `expr` over the rows where `where` holds. #}
{% macro median_of(expr, where='true') -%}
    {{ return(adapter.dispatch('median_of', 'boligsosial')(expr, where)) }}
{%- endmacro %}
{% macro duckdb__median_of(expr, where) -%}
    median({{ expr }}){% if where != 'true' %} filter (where {{ where }}){% endif %}
{%- endmacro %}
{% macro postgres__median_of(expr, where) -%}
    percentile_cont(0.5) within group (order by {{ expr }}){% if where != 'true' %} filter (where {{ where }}){% endif %}
{%- endmacro %}

{# One row per `sep`-separated part of a text: `from {{ split_to_rows(...) }} as t(part)`, or in a select list. #}
{% macro split_to_rows(expr, sep) -%}
    {{ return(adapter.dispatch('split_to_rows', 'boligsosial')(expr, sep)) }}
{%- endmacro %}
{% macro duckdb__split_to_rows(expr, sep) -%} unnest(string_split({{ expr }}, '{{ sep }}')) {%- endmacro %}
{% macro postgres__split_to_rows(expr, sep) -%} unnest(string_to_array({{ expr }}, '{{ sep }}')) {%- endmacro %}

{# A text as integer, null when it is not one (no error). #}
{% macro try_cast_integer(expr) -%}
    {{ return(adapter.dispatch('try_cast_integer', 'boligsosial')(expr)) }}
{%- endmacro %}
{% macro duckdb__try_cast_integer(expr) -%} try_cast({{ expr }} as integer) {%- endmacro %}
{% macro postgres__try_cast_integer(expr) -%}
    (case when {{ expr }} ~ '^\s*[+-]?[0-9]{1,9}\s*$' then cast({{ expr }} as integer) end)
{%- endmacro %}

{# printf: `template` with its %-specs filled from `args` (SQL expressions, in order); null when any is null.
   Specs: d, .0f, .1f, +.0f, +.1f, g and %% (colour_rule's and rpt_trend_break's reasons). #}
{% macro format_text(template, args) -%}
    {{ return(adapter.dispatch('format_text', 'boligsosial')(template, args)) }}
{%- endmacro %}
{% macro duckdb__format_text(template, args) -%}
    printf('{{ template }}'{% for arg in args %}, {{ arg }}{% endfor %})
{%- endmacro %}
{% macro postgres__format_text(template, args) -%}
    {%- set pieces = modules.re.split('(%%|%[+]?(?:[.][0-9])?[dfg])', template) -%}
    {%- set sql = [] -%}
    {%- set n = namespace(arg=0) -%}
    {%- for piece in pieces if piece != '' -%}
        {%- if piece == '%%' -%} {%- do sql.append("'%'") -%}
        {%- elif piece.startswith('%') -%}
            {%- do sql.append(_postgres_number_text(piece[1:], args[n.arg])) -%}
            {%- set n.arg = n.arg + 1 -%}
        {%- else -%} {%- do sql.append("'" ~ piece ~ "'") -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if n.arg != args | length -%}
        {{ exceptions.raise_compiler_error("format_text: " ~ n.arg ~ " specs in '" ~ template ~ "' for " ~ (args | length) ~ " values") }}
    {%- endif -%}
    ({{ sql | join(' || ') }})
{%- endmacro %}
{% macro _postgres_number_text(spec, expr) -%}
    {%- if spec == 'd' -%} cast({{ expr }} as integer)::text
    {%- elif spec == 'g' -%} trim_scale(cast({{ expr }} as numeric))::text  {#- the ambitions have few digits -#}
    {%- else -%}
        {#- the sign from the value itself, so -0.04 is '-0.0' as printf writes it -#}
        (case when {{ expr }} < 0 then '-' else '{{ "+" if spec.startswith("+") else "" }}' end
         || round(cast(abs({{ expr }}) as numeric), {{ spec[-2] }})::text)
    {%- endif -%}
{%- endmacro %}

{# A top-level key of a JSON text, as text. #}
{% macro json_text(expr, key) -%}
    {{ return(adapter.dispatch('json_text', 'boligsosial')(expr, key)) }}
{%- endmacro %}
{% macro duckdb__json_text(expr, key) -%} json_extract_string({{ expr }}, '$.{{ key }}') {%- endmacro %}
{% macro postgres__json_text(expr, key) -%} (cast({{ expr }} as json) ->> '{{ key }}') {%- endmacro %}

{# After a model is built (the models' post-hook): PostgreSQL gathers the new table's statistics now rather
   than when autovacuum gets to it, so the models reading it are planned on its real size; DuckDB needs none. #}
{% macro analyze_relation() -%}
    {{ return(adapter.dispatch('analyze_relation', 'boligsosial')()) }}
{%- endmacro %}
{% macro duckdb__analyze_relation() -%} {%- endmacro %}
{% macro postgres__analyze_relation() -%}
    {%- if config.get('materialized') in ('table', 'incremental') %}analyze {{ this }}{% endif -%}
{%- endmacro %}

{# The distinct values of `expr` over a group, sorted, as a list: one aggregate where a count and a joined
   text of them are both wanted. DuckDB's count(distinct) and string_agg(distinct … order by) beside each
   other cost twice the time and +30–90 MiB on the harmonisation's 335 000 rows (issue 19). #}
{% macro sorted_distinct_list(expr) -%}
    {{ return(adapter.dispatch('sorted_distinct_list', 'boligsosial')(expr)) }}
{%- endmacro %}
{% macro duckdb__sorted_distinct_list(expr) -%} list_sort(list_distinct(list({{ expr }}))) {%- endmacro %}
{% macro postgres__sorted_distinct_list(expr) -%} array_agg(distinct {{ expr }} order by {{ expr }}) {%- endmacro %}

{# The number of elements of a list. #}
{% macro list_length(expr) -%}
    {{ return(adapter.dispatch('list_length', 'boligsosial')(expr)) }}
{%- endmacro %}
{% macro duckdb__list_length(expr) -%} len({{ expr }}) {%- endmacro %}
{% macro postgres__list_length(expr) -%} cardinality({{ expr }}) {%- endmacro %}
