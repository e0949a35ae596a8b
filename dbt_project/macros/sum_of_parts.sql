{#
  The sum of parts (months, purposes, merged municipalities) as an aggregate expression: known only when
  every part is. A part without a value makes the sum unknown — a part is not the whole: a suppressed
  KOSTRA cell (':') or Husbanken cell ('<4', 1–3 households) is an interval, carried by value_low /
  value_high (seeds/suppression_intervals.csv), and the known parts alone are never published as the sum
  (statistics.md). The callers keep the part's symbol beside the null.
#}
{% macro sum_of_parts(value) -%}
    case when count({{ value }}) = count(*) then {{ exact_sum(value) }} end
{%- endmacro %}

{#
  The interval of that sum: the parts' lower and upper bounds added (a known part is its own bound), as the
  two columns value_low, value_high; unknown when a part's bound is (an absent part, not merely suppressed).
#}
{% macro bounds_of_parts(low='value_low', high='value_high') -%}
    case when count({{ low }}) = count(*) then {{ exact_sum(low) }} end      as value_low,
        case when count({{ high }}) = count(*) then {{ exact_sum(high) }} end    as value_high
{%- endmacro %}

{#
  The symbol of that sum: null when every part has a value, else the symbol of a part without one ('..' when
  that part has none): an absent part ('..' sorts before ':' and '<4') outranks a suppressed one.
#}
{% macro status_of_parts(value='value', status_symbol='status_symbol') -%}
    case when count({{ value }}) < count(*) then coalesce(min({{ status_symbol }}) filter (where {{ value }} is null), '..') end
{%- endmacro %}
