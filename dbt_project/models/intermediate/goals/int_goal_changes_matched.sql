-- The changes rpt_goal_attainment judges ambitions on, per indicator and period: from the period's
-- first to its last year used (change_abs, change_pct) and from the ambition's baseline year to the last
-- year used (change_from_baseline_pct). Each is a ratio of sums (macros/ratio_of_sums.sql) over the
-- municipalities with a value in BOTH years (the matched set, n_matched), so a municipality reporting in
-- one year only does not move it.
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
        sum(a.numerator)                                                        as numerator_from,
        sum(a.denominator)                                                      as denominator_from,
        sum(z.numerator)                                                        as numerator_to,
        sum(z.denominator)                                                      as denominator_to,
        count(*)                                                                as n_matched,
        bool_or(a.synthetic or z.synthetic)                                     as synthetic
    from bounds b
    inner join indicators i on i.indicator_id = b.indicator_id
    cross join (select 'period' as kind union all select 'baseline') pair
    inner join municipal a
        on a.indicator_id = b.indicator_id
       and a.year = case pair.kind when 'period' then b.start_year_used else i.baseline_year end
    inner join municipal z
        on z.indicator_id = b.indicator_id and z.year = b.end_year_used
       and z.municipality_code = a.municipality_code
    group by all
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
    cast(mp.value_to - mp.value_from as double)                                 as change_abs,
    cast({{ pct_change('mp.value_from', 'mp.value_to') }} as double)            as change_pct,
    cast({{ pct_change('mb.value_from', 'mb.value_to') }} as double)            as change_from_baseline_pct,
    coalesce(mp.synthetic, false) or coalesce(mb.synthetic, false)              as synthetic
from bounds b
left join matched_values mp on mp.indicator_id = b.indicator_id and mp.period = b.period and mp.kind = 'period'
left join matched_values mb on mb.indicator_id = b.indicator_id and mb.period = b.period and mb.kind = 'baseline'
