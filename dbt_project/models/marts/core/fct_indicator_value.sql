{#- A partitioned run (its year window: macros/year_window_filter.sql) rebuilds only its years: the window is deleted, then
    re-inserted; a run without a window rebuilds everything. -#}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='append_new_columns',
    pre_hook="{% if is_incremental() %}delete from {{ this }} {{ year_window_filter('where') }}{% endif %}"
) }}

-- Indicator × municipality × year, with the numerator and denominator every value is computed from:
-- value = numerator ÷ denominator × value_scale (or the count itself), and why an empty value is empty
-- (macros/indicator_values.sql, shared with the cohort structure). Driven by the catalogue: an indicator
-- whose measures are in int_indicator_inputs needs only a row in seeds/indicators.csv.
with computed as (
    {{ indicator_values(ref('dim_indicator'), ref('int_indicator_inputs'), ref('int_indicator_missing_reasons')) }}
)

select * from computed
{% if is_incremental() %}{{ year_window_filter('where') }}{% endif %}
