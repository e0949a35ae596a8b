-- One row per delivering municipality, reference year and dwelling: the dwelling's attributes and, for an
-- occupied dwelling, the household of the tenancy running on the reference date. A vacant dwelling keeps
-- the group it is meant for, when the register gives one.
with tenancies as (
    select * from {{ ref('stg_dwelling_register__tenancies') }}
),

running as (
    select municipality_code, year, dwelling_id, target_group, age_band, allocating_unit, tenancy_start
    from tenancies
    where tenancy_start is not null
      and tenancy_start <= reference_date
      and (tenancy_end is null or tenancy_end > reference_date)
),

dwellings as (
    select
        municipality_code, year, dwelling_id,
        any_value(dwelling_type)                                as dwelling_type,
        any_value(ownership)                                    as ownership,
        bool_or(is_wheelchair_accessible)                       as is_wheelchair_accessible,
        any_value(status)                                       as status,
        max(case when tenancy_start is null then target_group end) as intended_group,
        bool_or(synthetic)                                      as synthetic
    from tenancies
    group by all
)

select
    d.municipality_code,
    d.year,
    d.dwelling_id,
    d.dwelling_type,
    d.ownership,
    d.is_wheelchair_accessible,
    d.status,
    d.status = 'bebodd'                                         as is_occupied,
    coalesce(r.target_group, d.intended_group, 'ikke_oppgitt')  as target_group,
    coalesce(r.age_band, 'ingen_beboer')                        as age_band,
    coalesce(r.allocating_unit, case when r.tenancy_start is not null then 'ikke_oppgitt' else 'ingen_beboer' end)
                                                                as allocating_unit,
    r.tenancy_start                                             as running_tenancy_start,
    d.synthetic
from dwellings d
left join running r using (municipality_code, year, dwelling_id)
