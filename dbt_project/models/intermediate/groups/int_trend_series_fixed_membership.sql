-- The yearly group series rpt_trend_break fits, from var trend_pre_start_year to trend_post_end_year,
-- for every KOSTRA/IPLOS indicator, on FIXED membership (statistics.md: a trend compares the same
-- population every year; membership decided once, not on the outcome):
--   national   = every municipality of the reference structure, every year: the value and bounds of
--                fct_indicator_group_value (SSB's national figure, EAK, where published);
--   size_class = the municipality's size class in trend_post_end_year (dim_municipality: its population
--                that year), the same members in every year — not the size class of each year, which
--                moves municipalities between groups as they grow.
-- A suppressed member enters with its interval (value_low/value_high); a member absent in a year
-- (no value, no interval) leaves that year's bounds unknown: the year is kept here with null bounds
-- and rpt_trend_break leaves it out of the fit, counting it — it is never filled in.
-- fit_value is the point the fit uses: the exact value where every member is known (or SSB's figure),
-- else the midpoint of the bounds (for a ratio: midpoint numerator ÷ midpoint denominator), also when
-- the bounds are too wide for fct_indicator_group_value to publish a value — the fit carries the bounds.
with indicators as (
    select * from {{ ref('dim_indicator') }}
    where kind in ('quantitative', 'extra', 'derived') and source in ('KOSTRA', 'IPLOS')
      and numerator_measure is not null
),

fixed_class as (
    select municipality_code, size_class
    from {{ ref('dim_municipality') }}
    where year = {{ var('trend_post_end_year') }} and size_class is not null
),

municipality_years as (
    select municipality_code, year, synthetic
    from {{ ref('dim_municipality') }}
    where year between {{ var('trend_pre_start_year') }} and {{ var('trend_post_end_year') }}
),

-- only the years the indicator exists at all (temp_young: from 2016)
indicator_years as (
    select distinct indicator_id, year from {{ ref('fct_indicator_value') }}
),

-- every member every year: the spine, so a member without a row is absent, not left out
members as (
    select
        i.indicator_id, m.year, f.size_class, v.value, v.numerator, v.denominator,
        v.numerator_low, v.numerator_high, v.denominator_low, v.denominator_high,
        coalesce(v.synthetic, false) or coalesce(m.synthetic, false)   as synthetic
    from indicators i
    inner join indicator_years iy on iy.indicator_id = i.indicator_id
    inner join municipality_years m on m.year = iy.year
    inner join fixed_class f on f.municipality_code = m.municipality_code
    left join {{ ref('fct_indicator_value') }} v
        on v.indicator_id = i.indicator_id and v.municipality_code = m.municipality_code and v.year = m.year
),

size_class_sums as (
    select
        m.indicator_id, m.year, m.size_class as group_code,
        {{ member_sums() }},
        {{ member_bounds('i.denominator_measure') }}
    from members m
    inner join indicators i on i.indicator_id = m.indicator_id
    group by m.indicator_id, m.year, m.size_class
),

size_classes as (
    select
        s.indicator_id, s.year, 'size_class' as group_type, s.group_code,
        case when s.n_absent > 0 then null
             when s.n_suppressed = 0 then {{ ratio_of_sums('s.numerator', 's.denominator', 'i.denominator_measure', 'i.value_scale') }}
             when i.denominator_measure is null then (s.numerator_low + s.numerator_high) / 2
             when s.denominator_low + s.denominator_high > 0
             then (s.numerator_low + s.numerator_high) / (s.denominator_low + s.denominator_high) * i.value_scale
        end                                                              as fit_value,
        case when s.n_absent = 0 then {{ ratio_low('s.numerator_low', 's.denominator_high', 'i.denominator_measure', 'i.value_scale') }} end as value_low,
        case when s.n_absent = 0 then {{ ratio_high('s.numerator_high', 's.denominator_low', 'i.denominator_measure', 'i.value_scale') }} end as value_high,
        case when s.n_absent > 0 then 'reporting_members'
             when s.n_suppressed > 0 then 'midpoint_of_bounds'
             else 'sum_of_municipalities' end                            as method,
        s.n_suppressed, s.n_absent, s.n_zero, s.synthetic
    from size_class_sums s
    inner join indicators i on i.indicator_id = s.indicator_id
),

national as (
    select
        g.indicator_id, g.year, 'national' as group_type, 'all' as group_code,
        case when g.value_low is not null and g.value_high is not null
             then coalesce(g.value, (g.value_low + g.value_high) / 2) end as fit_value,
        g.value_low, g.value_high, g.method, g.n_suppressed, g.n_absent, g.n_zero, g.synthetic
    from {{ ref('fct_indicator_group_value') }} g
    inner join indicators i on i.indicator_id = g.indicator_id
    where g.group_type = 'national'
      and g.year between {{ var('trend_pre_start_year') }} and {{ var('trend_post_end_year') }}
)

select
    cast(indicator_id as varchar)                                       as indicator_id,
    cast(group_type as varchar)                                         as group_type,
    cast(group_code as varchar)                                         as group_code,
    cast(year as integer)                                               as year,
    cast(fit_value as double precision)                                 as fit_value,
    cast(value_low as double precision)                                 as value_low,
    cast(value_high as double precision)                                as value_high,
    cast(method as varchar)                                             as method,
    cast(n_suppressed as integer)                                       as n_suppressed,
    cast(n_absent as integer)                                           as n_absent,
    cast(n_zero as integer)                                             as n_zero,
    synthetic
from (select * from national union all select * from size_classes) as series
