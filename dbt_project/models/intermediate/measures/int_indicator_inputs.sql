-- The pool every indicator is computed from: the harmonised measures plus the derived ones
-- (int_derived_measures), one row per measure, reference municipality and year. An indicator in
-- seeds/indicators.csv names its numerator_measure and denominator_measure from this pool.
with harmonised as (
    select source, measure, municipality_code, year, value, status_symbol, vintage, synthetic,
           is_harmonised, split_flag, value_low, value_high
    from {{ ref('int_measures_harmonised') }}
),

derived as (
    select * from {{ ref('int_derived_measures') }}
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
