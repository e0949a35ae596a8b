-- Goal attainment per indicator and period (report tables 5.1–5.5): the national value at the start
-- and end of the period, the change, the ambition, and the status colour by the documented rule
-- (macros/colour_rule.sql, seeds/colour_rules.csv) with its reason in words.
-- Periods are parameters: 'report' (vars report_period_start → report_period_end, 2015→2019),
-- 'strategy' (strategy_period_start → strategy_period_end, 2014→2020) and 'latest'
-- (latest_period_start → the latest year with data). Within a period the first and last years with
-- a value are used (own reporting exists for 2016–2018 only; the report, too, judged it on 2018).
-- Ambitions measured from a baseline year (change from 2014, more than / the level of 2017) are judged
-- on the change from that year; level ambitions on the end value.
-- Own-reported indicators cover the programme municipalities only, and say so in `coverage`; an
-- indicator only some municipalities contributed to says how many (e.g. the KMD survey's 2017 answers).
-- Changes (change_abs, change_pct, change_from_baseline_pct) are ratios of sums over the municipalities
-- with a value in BOTH years (the matched set, n_municipalities_matched), so a municipality reporting in
-- one year only does not move them; start_value, latest_value and baseline_value are the national
-- levels (for counts SSB's national figure where published).
with indicators as (
    select * from {{ ref('dim_indicator') }}
    where kind in ('quantitative', 'extra', 'derived') and numerator_measure is not null
),

national as (
    select indicator_id, year, value, n_municipalities, n_missing, numerator_source, synthetic
    from {{ ref('fct_indicator_group_value') }}
    where group_type = 'national' and value is not null
),

municipal as (
    select indicator_id, municipality_code, year, numerator, denominator, synthetic
    from {{ ref('fct_indicator_value') }}
    where value is not null
),

periods as (
    select 'report' as period, {{ var('report_period_start') }} as period_start, {{ var('report_period_end') }} as period_end
    union all
    select 'strategy', {{ var('strategy_period_start') }}, {{ var('strategy_period_end') }}
    union all
    select 'latest', {{ var('latest_period_start') }}, 9999
),

bounds as (
    select
        i.indicator_id, p.period, p.period_start,
        case when p.period = 'latest' then max(n.year) else p.period_end end   as period_end,
        min(n.year)                                                             as start_year_used,
        max(n.year)                                                             as end_year_used
    from indicators i
    cross join periods p
    left join national n
        on n.indicator_id = i.indicator_id
       and n.year between p.period_start and p.period_end
    group by i.indicator_id, p.period, p.period_start, p.period_end
),

measured as (
    select
        b.*,
        i.ambition_type, i.ambition_value, i.ambition_text, i.baseline_year, i.desired_direction,
        i.coverage, i.source, i.reliable_from_year, i.series_break_years,
        s.value                                                                 as start_value,
        e.value                                                                 as end_value,
        e.n_municipalities                                                      as n_municipalities_end,
        e.n_missing                                                             as n_missing_end,
        e.numerator_source                                                      as numerator_source_end,
        coalesce(s.synthetic, false) or coalesce(e.synthetic, false)
            or coalesce(bl.synthetic, false)                                    as synthetic,
        bl.value                                                                as baseline_value,
        (select sum(c.value) from national c
          where c.indicator_id = b.indicator_id
            and c.year between i.baseline_year and b.end_year_used)             as cumulative_value
    from bounds b
    inner join indicators i on i.indicator_id = b.indicator_id
    left join national s on s.indicator_id = b.indicator_id and s.year = b.start_year_used
    left join national e on e.indicator_id = b.indicator_id and e.year = b.end_year_used
    left join national bl on bl.indicator_id = b.indicator_id and bl.year = i.baseline_year
),

-- the same municipalities at both ends: sums over those with a value in the first and in the second year
matched as (
    select
        m.indicator_id, m.period, pair.kind,
        sum(a.numerator)                                                        as numerator_from,
        sum(a.denominator)                                                      as denominator_from,
        sum(z.numerator)                                                        as numerator_to,
        sum(z.denominator)                                                      as denominator_to,
        count(*)                                                                as n_matched,
        bool_or(a.synthetic or z.synthetic)                                     as synthetic
    from measured m
    cross join (select 'period' as kind union all select 'baseline') pair
    inner join municipal a
        on a.indicator_id = m.indicator_id
       and a.year = case pair.kind when 'period' then m.start_year_used else m.baseline_year end
    inner join municipal z
        on z.indicator_id = m.indicator_id and z.year = m.end_year_used
       and z.municipality_code = a.municipality_code
    group by all
),

matched_values as (
    select
        x.indicator_id, x.period, x.kind, x.n_matched, x.synthetic,
        case when i.denominator_measure is null then x.numerator_from
             when x.denominator_from > 0 then x.numerator_from / x.denominator_from * i.value_scale end as value_from,
        case when i.denominator_measure is null then x.numerator_to
             when x.denominator_to > 0 then x.numerator_to / x.denominator_to * i.value_scale end   as value_to
    from matched x
    inner join indicators i on i.indicator_id = x.indicator_id
),

assessed as (
    select
        m.* exclude (synthetic),
        m.synthetic or coalesce(mp.synthetic, false) or coalesce(mb.synthetic, false) as synthetic,
        coalesce(mp.n_matched, 0)                                               as n_matched,
        coalesce(mb.n_matched, 0)                                               as n_matched_baseline,
        mp.value_to - mp.value_from                                             as change_abs,
        case when mp.value_from <> 0 then (mp.value_to - mp.value_from) / abs(mp.value_from) * 100 end as change_pct,
        case when mb.value_from <> 0 then (mb.value_to - mb.value_from) / abs(mb.value_from) * 100 end
                                                                                as change_from_baseline_pct,
        -- reliability: the period must not start before the series is reliable, nor span a break
        case
            when reliable_from_year is not null and period_start < reliable_from_year
                then 'serien er ikke pålitelig før ' || reliable_from_year || ', og perioden starter i ' || period_start
            when exists (
                select 1 from unnest(string_split(coalesce(series_break_years, ''), ',')) as t(break_year)
                where try_cast(trim(break_year) as integer) > start_year_used
                  and try_cast(trim(break_year) as integer) <= end_year_used)
                then 'brudd i serien (' || series_break_years || ') innenfor perioden'
        end                                                                     as reliability_note
    from measured m
    left join matched_values mp on mp.indicator_id = m.indicator_id and mp.period = m.period and mp.kind = 'period'
    left join matched_values mb on mb.indicator_id = m.indicator_id and mb.period = m.period and mb.kind = 'baseline'
),

judged as (
    select
        *,
        case when ambition_type in ('change_pct_from_baseline', 'more_than_year', 'keep_level_of_year')
             then change_from_baseline_pct else change_pct end                  as assessed_change_pct
    from assessed
),

ruled as (
    select
        *,
        {{ colour_rule('ambition_type', 'ambition_value', 'desired_direction', 'assessed_change_pct',
                       'end_value', 'cumulative_value', 'reliability_note is null') }} as colour_rule
    from judged
)

select
    cast(indicator_id as varchar)                                               as indicator_id,
    cast(period as varchar)                                                     as period,
    cast(period_start as integer)                                               as period_start_year,
    cast(period_end as integer)                                                 as period_end_year,
    cast(start_year_used as integer)                                            as start_year,
    cast(end_year_used as integer)                                              as end_year,
    cast(start_value as double)                                                 as start_value,
    cast(end_value as double)                                                   as latest_value,
    cast(change_abs as double)                                                  as change_abs,
    cast(change_pct as double)                                                  as change_pct,
    cast(baseline_year as integer)                                              as baseline_year,
    cast(baseline_value as double)                                              as baseline_value,
    cast(change_from_baseline_pct as double)                                    as change_from_baseline_pct,
    cast(case when ambition_type = 'cumulative_min' then cumulative_value end as double) as cumulative_value,
    cast(ambition_type as varchar)                                              as ambition_type,
    cast(ambition_value as double)                                              as ambition_value,
    cast(ambition_text as varchar)                                              as ambition_text,
    cast(desired_direction as varchar)                                          as desired_direction,
    cast(case
        when coverage = 'programme' then 'Bare programkommunene (kommunenes egenrapportering)'
        when numerator_source_end = 'ssb_national' or coalesce(n_missing_end, 0) = 0 then 'Alle kommuner'
        else n_municipalities_end || ' av ' || (n_municipalities_end + n_missing_end) || ' kommuner'
             || case when source like '%KMD%' then ' (KMD-undersøkelsen)' else '' end
    end as varchar)                                                             as coverage,
    cast(n_municipalities_end as integer)                                       as n_municipalities,
    cast(n_matched as integer)                                                  as n_municipalities_matched,
    cast(n_matched_baseline as integer)                                         as n_municipalities_matched_baseline,
    synthetic,
    cast({{ colour_from_rule('colour_rule') }} as varchar)                      as status_colour,
    cast(colour_rule as varchar)                                                as colour_rule,
    cast({{ colour_reason('colour_rule', 'ambition_type', 'ambition_value', 'assessed_change_pct', 'end_value',
                          'cumulative_value', 'baseline_year', 'reliability_note', 'ambition_text') }} as varchar)
                                                                                as colour_reason
from ruled
