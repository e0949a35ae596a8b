{#
  The sum of parts (months, purposes, merged municipalities) as an aggregate expression.
  A part without a value makes the sum unknown — a part is not the whole, and a suppressed KOSTRA cell
  (':') must never turn into a number — except Husbanken's small-count suppression '<4' (1–3
  households): those parts are left out and the sum, which keeps the '<4' symbol, is a lower bound.
  Null when no part has a value.
#}
{% macro sum_of_parts(value, status_symbol) -%}
    case when bool_and({{ value }} is not null or {{ status_symbol }} = '<4') then {{ exact_sum(value) }} end
{%- endmacro %}
