-- int_register_dwellings_classified relies on what the dwelling-register importer checks per file: a
-- «bebodd» dwelling has exactly one tenancy running on the reference date, any other dwelling none, and all
-- rows of a dwelling give the same type, ownership, accessibility and status. A row here breaks that.
select municipality_code, year, dwelling_id
from {{ ref('stg_dwelling_register__tenancies') }}
group by municipality_code, year, dwelling_id
having count(*) filter (where tenancy_start is not null and tenancy_start <= reference_date
                           and (tenancy_end is null or tenancy_end > reference_date))
       <> case when {{ dbt.any_value('status') }} = 'bebodd' then 1 else 0 end
    or count(distinct (dwelling_type, ownership, is_wheelchair_accessible, status)) > 1
