-- One row per delivering municipality, reference year and dwelling: the dwelling's attributes and, for an
-- occupied dwelling, the household of the tenancy running on the reference date (the importer allows one).
-- A vacant dwelling keeps the group it is meant for, when the register gives one. One pass over the rows
-- (no self-join): at 10 million rows this is the heaviest model.
with tenancies as (
    select
        *,
        tenancy_start is not null and tenancy_start <= reference_date
            and (tenancy_end is null or tenancy_end > reference_date)              as is_running
    from {{ ref('stg_dwelling_register__tenancies') }}
)

select
    municipality_code,
    year,
    dwelling_id,
    {{ dbt.any_value('dwelling_type') }}                                            as dwelling_type,
    {{ dbt.any_value('ownership') }}                                                as ownership,
    bool_or(is_wheelchair_accessible)                                               as is_wheelchair_accessible,
    {{ dbt.any_value('status') }}                                                   as status,
    {{ dbt.any_value('status') }} = 'bebodd'                                        as is_occupied,
    coalesce({{ arg_max('target_group', 'tenancy_start', 'is_running') }},
             max(target_group) filter (where tenancy_start is null), 'ikke_oppgitt') as target_group,
    coalesce({{ arg_max('age_band', 'tenancy_start', 'is_running') }}, 'ingen_beboer') as age_band,
    case when bool_or(is_running)
         then coalesce({{ arg_max('allocating_unit', 'tenancy_start', 'is_running') }}, 'ikke_oppgitt')
         else 'ingen_beboer' end                                                    as allocating_unit,
    max(tenancy_start) filter (where is_running)                                    as running_tenancy_start,
    bool_or(synthetic)                                                              as synthetic
from tenancies
group by municipality_code, year, dwelling_id
