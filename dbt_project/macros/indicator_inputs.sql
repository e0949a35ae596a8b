{#
  indicator_inputs(harmonised, derived): the pool indicators are computed from, the harmonised measures
  plus the derived ones in long shape, on one structure (reference: int_indicator_inputs; cohort:
  int_cohort_indicator_inputs).
#}
{% macro indicator_inputs(harmonised, derived) -%}
with harmonised as (
    select source, measure, municipality_code, year, value, status_symbol, vintage, synthetic,
           is_harmonised, split_flag, value_low, value_high
    from {{ harmonised }}
),

derived as (
    select * from {{ derived }}
),

derived_long as (
    select 'KOSTRA' as source, 'derived.referral_dwellings' as measure, municipality_code, year,
           referral_dwellings as value, vintage, synthetic, is_harmonised, split_flag,
           referral_dwellings as value_low, referral_dwellings as value_high
    from derived
    where dwellings_private_disposal is not null or dwellings_user_owned_disposal is not null
    union all
    select 'KOSTRA/IPLOS/KMD', 'derived.disadvantaged_dwellings', municipality_code, year,
           disadvantaged_dwellings, vintage, synthetic, is_harmonised, split_flag,
           disadvantaged_dwellings_low, disadvantaged_dwellings_high
    from derived
    where disadvantaged_dwellings_method is not null    -- the KMD survey's answer, or IPLOS bounds
    union all
    select 'IPLOS', 'derived.residents_80plus_municipal_care', municipality_code, year,
           residents_80plus_municipal_care, vintage, synthetic, is_harmonised, split_flag,
           residents_80plus_municipal_care, residents_80plus_municipal_care
    from derived
    where residents_80plus_municipal_dwellings is not null or residents_80plus_nursing_homes is not null
)

select * from harmonised
union all
select source, measure, municipality_code, year, value,
       case when value is null then '..' end as status_symbol,
       vintage, synthetic, is_harmonised, split_flag,
       value_low, value_high     -- known, absent, or (dwellings for the disadvantaged) IPLOS bounds
from derived_long
{%- endmacro %}
