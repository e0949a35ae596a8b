{#
  exact_sum(): the sum of a double column that does not depend on the order its rows are read in.
  A float sum rounds after every addition, so the same rows summed in another order differ in the last
  bits; a partitioned rebuild (fct_indicator_value's window deleted and appended) or DuckDB's threads
  reorder the rows, and a backfill that changed nothing then changed the group values (issue 14). Each
  term is rounded once to 12 decimals and added exactly (decimal, 26 integer digits), then returned as
  double. `filter`: the aggregate's filter condition; `over`: a window specification.
#}
{% macro exact_sum(expr, filter=none, over=none) -%}
    cast(sum(cast({{ expr }} as decimal(38, 12))){% if filter %} filter (where {{ filter }}){% endif %}{% if over %} over ({{ over }}){% endif %} as double precision)
{%- endmacro %}
