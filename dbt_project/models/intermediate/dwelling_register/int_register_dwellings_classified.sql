-- One row per delivering municipality, reference year and dwelling: the dwelling's attributes and, for an
-- occupied dwelling, the household of the tenancy running on the reference date. The importer accepts a
-- register only when a «bebodd» dwelling has exactly one tenancy running on the reference date, any other
-- dwelling none, and all rows of a dwelling describe it alike (the test register_one_running_tenancy holds
-- it here too). So the running row describes an occupied dwelling by itself, and only the rows of the other
-- dwellings (vacant, under renovation) are grouped: at 10 million rows a group-by over every dwelling was
-- most of the build. A vacant dwelling keeps the group it is meant for, when the register gives one.
-- A view: the models read its counts once (int_register_dwelling_counts), and writing 9 million dwellings
-- to a table cost more than that reading.
{{ config(materialized='view') }}
with tenancies as (
    select
        *,
        tenancy_start is not null and tenancy_start <= reference_date
            and (tenancy_end is null or tenancy_end > reference_date)              as is_running
    from {{ ref('stg_dwelling_register__tenancies') }}
),

occupied as (
    select
        municipality_code, year, dwelling_id, dwelling_type, ownership, is_wheelchair_accessible, status,
        true                                                                        as is_occupied,
        coalesce(target_group, 'ikke_oppgitt')                                      as target_group,
        coalesce(age_band, 'ingen_beboer')                                          as age_band,
        coalesce(allocating_unit, 'ikke_oppgitt')                                   as allocating_unit,
        tenancy_start                                                               as running_tenancy_start,
        synthetic
    from tenancies
    where status = 'bebodd' and is_running
),

not_occupied as (
    select
        municipality_code, year, dwelling_id,
        {{ dbt.any_value('dwelling_type') }}                                        as dwelling_type,
        {{ dbt.any_value('ownership') }}                                            as ownership,
        bool_or(is_wheelchair_accessible)                                           as is_wheelchair_accessible,
        {{ dbt.any_value('status') }}                                               as status,
        false                                                                       as is_occupied,
        coalesce(max(target_group) filter (where tenancy_start is null), 'ikke_oppgitt') as target_group,
        'ingen_beboer'                                                              as age_band,
        'ingen_beboer'                                                              as allocating_unit,
        cast(null as date)                                                          as running_tenancy_start,
        bool_or(synthetic)                                                          as synthetic
    from tenancies
    where status <> 'bebodd'
    group by municipality_code, year, dwelling_id
)

select * from occupied
union all
select * from not_occupied
