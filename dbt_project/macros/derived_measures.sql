{#
  derived_measures(measures): the derived series from a pool of harmonised measures, per municipality and
  year of that pool's structure (the reference structure: int_derived_measures; the cohort structure:
  int_cohort_derived_measures). What each series is: int_derived_measures.sql.
#}
{% macro derived_measures(measures) -%}
with measures as (
    select * from {{ measures }}
    where measure in (
        'dwellings_total', 'dwellings_private_disposal', 'dwellings_user_owned_disposal', 'care_dwellings',
        'kmd.answered', 'kmd.care_dwellings', 'kmd.non_means_tested_dwellings',
        'residents_80plus_municipal_dwellings', 'residents_80plus_nursing_homes')
),

inputs as (
    select
        municipality_code,
        year,
        max(value) filter (where measure = 'dwellings_total')                       as dwellings_total,
        max(value) filter (where measure = 'dwellings_private_disposal')            as dwellings_private_disposal,
        max(value) filter (where measure = 'dwellings_user_owned_disposal')         as dwellings_user_owned_disposal,
        max(value) filter (where measure = 'care_dwellings')                        as care_dwellings_iplos,
        max(value) filter (where measure = 'kmd.answered')                          as kmd_answered,
        max(value) filter (where measure = 'kmd.care_dwellings')                    as care_dwellings_kmd,
        max(value) filter (where measure = 'kmd.non_means_tested_dwellings')      as dwellings_without_means_test,
        max(value) filter (where measure = 'residents_80plus_municipal_dwellings')  as residents_80plus_municipal_dwellings,
        max(value) filter (where measure = 'residents_80plus_nursing_homes')        as residents_80plus_nursing_homes,
        max(vintage)                                                                as vintage,
        bool_or(synthetic)                                                          as synthetic,
        bool_or(is_harmonised)                                                      as is_harmonised,
        bool_or(split_flag)                                                         as split_flag
    from measures
    group by municipality_code, year
),

care_choice as (
    select
        *,
        case when kmd_answered > 0 and care_dwellings_kmd is not null then care_dwellings_kmd
             else care_dwellings_iplos end                                          as care_dwellings_used,
        case when kmd_answered > 0 and care_dwellings_kmd is not null then 'KMD'
             when care_dwellings_iplos is not null then 'IPLOS' end                 as care_dwellings_source
    from inputs
)

select
    cast(municipality_code as varchar)                                              as municipality_code,
    cast(year as integer)                                                           as year,
    dwellings_private_disposal,
    dwellings_user_owned_disposal,
    dwellings_private_disposal - dwellings_user_owned_disposal                      as referral_dwellings,
    dwellings_total,
    care_dwellings_iplos,
    care_dwellings_kmd,
    cast(care_dwellings_source as varchar)                                          as care_dwellings_source,
    care_dwellings_used,
    dwellings_without_means_test,
    case when dwellings_total - care_dwellings_used - dwellings_without_means_test >= 0
         then dwellings_total - care_dwellings_used - dwellings_without_means_test end as disadvantaged_dwellings,
    case when dwellings_without_means_test is not null
              and dwellings_total - care_dwellings_used - dwellings_without_means_test >= 0
         then dwellings_total - care_dwellings_used - dwellings_without_means_test
         when dwellings_without_means_test is null and dwellings_total - care_dwellings_iplos >= 0 then 0
    end                                                                             as disadvantaged_dwellings_low,
    case when dwellings_without_means_test is not null
              and dwellings_total - care_dwellings_used - dwellings_without_means_test >= 0
         then dwellings_total - care_dwellings_used - dwellings_without_means_test
         when dwellings_without_means_test is null and dwellings_total - care_dwellings_iplos >= 0
         then dwellings_total - care_dwellings_iplos
    end                                                                             as disadvantaged_dwellings_high,
    cast(case
        when dwellings_total is null then null
        when dwellings_without_means_test is not null
             and dwellings_total - care_dwellings_used - dwellings_without_means_test < 0
        then 'negative_residual_kmd_iplos_deviation'
        when dwellings_without_means_test is not null then 'kmd_' || lower(care_dwellings_source)
        when care_dwellings_iplos is not null then 'iplos_bounds_only'
    end as varchar)                                                                 as disadvantaged_dwellings_method,
    residents_80plus_municipal_dwellings,
    residents_80plus_nursing_homes,
    residents_80plus_municipal_dwellings + residents_80plus_nursing_homes          as residents_80plus_municipal_care,
    cast(vintage as varchar)                                                        as vintage,
    synthetic,
    is_harmonised,
    split_flag
from care_choice
{%- endmacro %}
