{#
  The arithmetic of every group value (fct_indicator_group_value, rpt_goal_attainment,
  rpt_programme_comparison), in one place so the three cannot drift apart.

  member_sums(): the sums over a group's members WITH a value (both parts known) and the count of
  members without one. A missing member is left out, never counted as 0.
  ratio_of_sums(): Σ numerator ÷ Σ denominator × value_scale — never an average of municipal ratios;
  counts (no denominator measure) are the sum. Null when no member has a value (the sums are null).
  pct_change(): the change in percent from one value to another; null from 0 or null.
#}

{% macro member_sums() -%}
sum(numerator) filter (where value is not null)                  as numerator,
        sum(denominator) filter (where value is not null)                as denominator,
        count(*) filter (where value is not null)                        as n_municipalities,
        count(*) filter (where value is null)                            as n_missing,
        coalesce(bool_or(synthetic), false)                              as synthetic
{%- endmacro %}

{% macro ratio_of_sums(numerator, denominator, denominator_measure, value_scale) -%}
    case when {{ denominator_measure }} is null then {{ numerator }}
         when {{ denominator }} > 0 then {{ numerator }} / {{ denominator }} * {{ value_scale }} end
{%- endmacro %}

{% macro pct_change(from_value, to_value) -%}
    case when {{ from_value }} <> 0 then ({{ to_value }} - {{ from_value }}) / abs({{ from_value }}) * 100 end
{%- endmacro %}
