-- The changes rpt_goal_attainment judges ambitions on, per indicator and period: from the period's
-- first to its last year used (change_abs, change_pct) and from the ambition's baseline year to the last
-- year used (change_from_baseline_pct; it runs to the period's assessed_year instead when the ambition's
-- target year ends before the period: int_goal_periods_bounded). Each is a ratio of sums (macros/ratio_of_sums.sql) over the
-- municipalities with a value in BOTH years (the matched set, n_matched), so a municipality reporting in
-- one year only does not move it.
-- That matching is right only where a member is absent for reasons unrelated to its value (own
-- reporting, the KMD survey). Where the national value has no absent member (every municipality known or
-- suppressed, or SSB's EAK figure), the change is the national one with bounds (statistics.md: never
-- match on suppressed values): `method` ssb_national | national_bounds | matched_reporting_members.
with indicators as (
    select * from {{ ref('dim_indicator') }}
),

bounds as (
    select * from {{ ref('int_goal_periods_bounded') }}
),

municipal as (
    select indicator_id, municipality_code, year, numerator, denominator, synthetic
    from {{ ref('fct_indicator_value') }}
    where value is not null
),

-- the same municipalities at both ends: sums over those with a value in the first and in the second year
matched as (
    select
        b.indicator_id, b.period, pair.kind,
        {{ exact_sum('a.numerator') }}                                                        as numerator_from,
        {{ exact_sum('a.denominator') }}                                                      as denominator_from,
        {{ exact_sum('z.numerator') }}                                                        as numerator_to,
        {{ exact_sum('z.denominator') }}                                                      as denominator_to,
        count(*)                                                                as n_matched,
        bool_or(a.synthetic or z.synthetic)                                     as synthetic
    from bounds b
    inner join indicators i on i.indicator_id = b.indicator_id
    cross join (select 'period' as kind union all select 'baseline' union all select 'assessed') pair
    inner join municipal a
        on a.indicator_id = b.indicator_id
       and a.year = case pair.kind when 'baseline' then i.baseline_year else b.start_year_used end
    inner join municipal z
        on z.indicator_id = b.indicator_id
       and z.year = case pair.kind when 'period' then b.end_year_used else coalesce(b.assessed_year, b.end_year_used) end
       and z.municipality_code = a.municipality_code
    group by b.indicator_id, b.period, pair.kind
),

national as (
    select indicator_id, year, value, value_low, value_high, method, synthetic
    from {{ ref('fct_indicator_group_value') }}
    where group_type = 'national' and value_low is not null and value_high is not null
),

national_changes as (
    select
        b.indicator_id, b.period, pair.kind,
        f.value as value_from, t.value as value_to,
        {{ pct_change_low('f.value_low', 'f.value_high', 't.value_low') }}          as change_pct_low,
        {{ pct_change_high('f.value_low', 't.value_high') }}                         as change_pct_high,
        case when f.method = 'ssb_national' and t.method = 'ssb_national' then 'ssb_national'
             else 'national_bounds' end                                             as method,
        f.synthetic or t.synthetic                                                  as synthetic
    from bounds b
    inner join indicators i on i.indicator_id = b.indicator_id
    cross join (select 'period' as kind union all select 'baseline' union all select 'assessed') pair
    inner join national f
        on f.indicator_id = b.indicator_id
       and f.year = case pair.kind when 'baseline' then i.baseline_year else b.start_year_used end
    inner join national t
        on t.indicator_id = b.indicator_id
       and t.year = case pair.kind when 'period' then b.end_year_used else coalesce(b.assessed_year, b.end_year_used) end
),

matched_values as (
    select
        x.indicator_id, x.period, x.kind, x.n_matched, x.synthetic,
        {{ ratio_of_sums('x.numerator_from', 'x.denominator_from', 'i.denominator_measure', 'i.value_scale') }} as value_from,
        {{ ratio_of_sums('x.numerator_to', 'x.denominator_to', 'i.denominator_measure', 'i.value_scale') }} as value_to
    from matched x
    inner join indicators i on i.indicator_id = x.indicator_id
)

select
    cast(b.indicator_id as varchar)                                             as indicator_id,
    cast(b.period as varchar)                                                   as period,
    cast(coalesce(mp.n_matched, 0) as integer)                                  as n_matched,
    cast(coalesce(mb.n_matched, 0) as integer)                                  as n_matched_baseline,
    cast(case when np.method is not null then np.value_to - np.value_from
              else mp.value_to - mp.value_from end as double precision)         as change_abs,
    cast(case when np.method is not null then {{ pct_change('np.value_from', 'np.value_to') }}
              else {{ pct_change('mp.value_from', 'mp.value_to') }} end as double precision) as change_pct,
    cast(case when nb.method is not null then {{ pct_change('nb.value_from', 'nb.value_to') }}
              else {{ pct_change('mb.value_from', 'mb.value_to') }} end as double precision) as change_from_baseline_pct,
    coalesce(mp.synthetic, false) or coalesce(mb.synthetic, false)
        or coalesce(np.synthetic, false) or coalesce(nb.synthetic, false)       as synthetic,
    cast(np.change_pct_low as double precision)                                 as change_pct_low,
    cast(np.change_pct_high as double precision)                                as change_pct_high,
    cast(nb.change_pct_low as double precision)                                 as change_from_baseline_pct_low,
    cast(nb.change_pct_high as double precision)                                as change_from_baseline_pct_high,
    cast(coalesce(np.method, case when mp.n_matched is not null then 'matched_reporting_members' end)
         as varchar)                                                            as change_method,
    -- from the period's first year to its assessed_year: the direction a level ambition judged at its
    -- target year is read from (equals change_pct unless the period runs past the target year)
    cast(case when na.method is not null then {{ pct_change('na.value_from', 'na.value_to') }}
              else {{ pct_change('ma.value_from', 'ma.value_to') }} end as double precision) as change_to_assessed_pct
from bounds b
left join matched_values mp on mp.indicator_id = b.indicator_id and mp.period = b.period and mp.kind = 'period'
left join matched_values mb on mb.indicator_id = b.indicator_id and mb.period = b.period and mb.kind = 'baseline'
left join national_changes np on np.indicator_id = b.indicator_id and np.period = b.period and np.kind = 'period'
left join national_changes nb on nb.indicator_id = b.indicator_id and nb.period = b.period and nb.kind = 'baseline'
left join matched_values ma on ma.indicator_id = b.indicator_id and ma.period = b.period and ma.kind = 'assessed'
left join national_changes na on na.indicator_id = b.indicator_id and na.period = b.period and na.kind = 'assessed'
