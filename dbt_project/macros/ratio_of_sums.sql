{#
  The arithmetic of every group value (fct_indicator_group_value, rpt_goal_attainment,
  rpt_programme_comparison), in one place so the three cannot drift apart.

  member_sums(): the sums over a group's known members (both parts known) and the count of members
  without them. A missing member is left out, never counted as 0. A member whose denominator is 0 has
  no ratio of its own but is known: it adds its numerator and 0 to the sums (statistics.md: zero is not
  absent) and is counted in n_zero (member_bounds).
  ratio_of_sums(): Σ numerator ÷ Σ denominator × value_scale — never an average of municipal ratios;
  counts (no denominator measure) are the sum. Null when no member has a value (the sums are null).
  pct_change(): the change in percent from one value to another; null from 0 or null.
#}

{% macro known_member() -%}
(value is not null or (numerator is not null and denominator = 0))
{%- endmacro %}

{% macro member_sums() -%}
{{ exact_sum('numerator', known_member()) }} as numerator,
        {{ exact_sum('denominator', known_member()) }} as denominator,
        count(*) filter (where {{ known_member() }})                    as n_municipalities,
        count(*) filter (where not {{ known_member() }})                as n_missing,
        coalesce(bool_or(synthetic), false)                              as synthetic
{%- endmacro %}

{% macro ratio_of_sums(numerator, denominator, denominator_measure, value_scale) -%}
    case when {{ denominator_measure }} is null then {{ numerator }}
         when {{ denominator }} > 0 then {{ numerator }} / {{ denominator }} * {{ value_scale }} end
{%- endmacro %}

{% macro pct_change(from_value, to_value) -%}
    case when {{ from_value }} <> 0 then ({{ to_value }} - {{ from_value }}) / abs({{ from_value }}) * 100 end
{%- endmacro %}

{#
  member_bounds(): the interval sums over ALL members (docs/statistical_method.md). A suppressed member
  adds its interval (numerator_low/high from seeds/suppression_intervals.csv), a known one its value on
  both sides. A member is `suppressed` when its value is null but its interval is known, `absent` when
  neither is (not available, did not answer): then the bounds are unknown (null) — absence is never
  imputed. `zero` counts known members whose numerator or denominator is 0 (Husbanken's zero-filled
  spine among them; a zero denominator stays in the sums, see member_sums).
#}
{% macro member_bounds(denominator_measure) -%}
count(*) filter (where not {{ known_member() }} and numerator_low is not null
                        and ({{ denominator_measure }} is null or denominator_low is not null)) as n_suppressed,
        count(*) filter (where not {{ known_member() }} and not (numerator_low is not null
                        and ({{ denominator_measure }} is null or denominator_low is not null))) as n_absent,
        count(*) filter (where {{ known_member() }} and (numerator = 0 or denominator = 0)) as n_zero,
        {{ exact_sum('numerator_low') }} as numerator_low,
        {{ exact_sum('numerator_high') }} as numerator_high,
        {{ exact_sum('denominator_low') }} as denominator_low,
        {{ exact_sum('denominator_high') }} as denominator_high
{%- endmacro %}

{# ratio_bounds(): the lowest and highest ratio two intervals allow (low ÷ high, high ÷ low). #}
{% macro ratio_low(numerator_low, denominator_high, denominator_measure, value_scale) -%}
    case when {{ denominator_measure }} is null then {{ numerator_low }}
         when {{ denominator_high }} > 0 then {{ numerator_low }} / {{ denominator_high }} * {{ value_scale }} end
{%- endmacro %}
{% macro ratio_high(numerator_high, denominator_low, denominator_measure, value_scale) -%}
    case when {{ denominator_measure }} is null then {{ numerator_high }}
         when {{ denominator_low }} > 0 then {{ numerator_high }} / {{ denominator_low }} * {{ value_scale }} end
{%- endmacro %}

{#
  pct_change_low/high(): the widest change two intervals allow: from the top of the first to the bottom
  of the second, and from the bottom of the first to the top of the second. Null from 0.
#}
{% macro pct_change_low(from_low, from_high, to_low) -%}
    case when {{ from_high }} > 0 then ({{ to_low }} - {{ from_high }}) / {{ from_high }} * 100 end
{%- endmacro %}
{% macro pct_change_high(from_low, to_high) -%}
    case when {{ from_low }} > 0 then ({{ to_high }} - {{ from_low }}) / {{ from_low }} * 100 end
{%- endmacro %}

{#
  bounded_point(): the published point estimate of an interval [low, high]: its midpoint, or null when
  the interval is wider than var bounds_max_relative_width of the midpoint (then only the bounds inform).
#}
{% macro bounded_point(low, high) -%}
    case when {{ low }} is not null and {{ high }} is not null
          and ({{ high }} - {{ low }}) <= {{ var('bounds_max_relative_width') }} * abs({{ low }} + {{ high }}) / 2
         then ({{ low }} + {{ high }}) / 2 end
{%- endmacro %}

{#
  bounded_ratio_point(): a group's point estimate when members are suppressed: for a count the midpoint
  of its bounds; for a ratio the ratio of the midpoints of numerator and denominator, null when either
  part's sum is too uncertain (the ratio's own interval ignores that both parts move together). Null
  when the bounds are wider than var bounds_max_relative_width.
#}
{% macro bounded_ratio_point(numerator_low, numerator_high, denominator_low, denominator_high, denominator_measure, value_scale) -%}
    case when {{ denominator_measure }} is null then {{ bounded_point(numerator_low, numerator_high) }}
         when {{ bounded_point(numerator_low, numerator_high) }} is not null
              and {{ bounded_point(denominator_low, denominator_high) }} is not null
              and {{ denominator_low }} + {{ denominator_high }} > 0
         then ({{ numerator_low }} + {{ numerator_high }}) / ({{ denominator_low }} + {{ denominator_high }}) * {{ value_scale }} end
{%- endmacro %}
