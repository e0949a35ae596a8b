{#
  t_quantile_975(df): the two-sided 95 % critical value of Student's t with df degrees of freedom
  (rpt_trend_break's noise margin). DuckDB has no t distribution; the table is the textbook one to three
  decimals, and beyond 30 degrees of freedom 1.96 (the normal), which is within 0.08 of the truth.
#}
{% macro t_quantile_975(df) -%}
    (case {{ df }}
        when 1 then 12.706 when 2 then 4.303 when 3 then 3.182 when 4 then 2.776 when 5 then 2.571
        when 6 then 2.447 when 7 then 2.365 when 8 then 2.306 when 9 then 2.262 when 10 then 2.228
        when 11 then 2.201 when 12 then 2.179 when 13 then 2.160 when 14 then 2.145 when 15 then 2.131
        when 16 then 2.120 when 17 then 2.110 when 18 then 2.101 when 19 then 2.093 when 20 then 2.086
        when 21 then 2.080 when 22 then 2.074 when 23 then 2.069 when 24 then 2.064 when 25 then 2.060
        when 26 then 2.056 when 27 then 2.052 when 28 then 2.048 when 29 then 2.045 when 30 then 2.042
        else case when {{ df }} > 30 then 1.96 end
    end)
{%- endmacro %}
