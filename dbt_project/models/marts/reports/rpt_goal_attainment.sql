-- Goal attainment per indicator and period (report tables 5.1–5.5): the national value at the start
-- and end of the period, the change, the ambition, and the status colour by the documented rule
-- (macros/colour_rule.sql, seeds/colour_rules.csv) with its reason in words.
-- The periods and the years used: int_goal_periods_bounded; the changes, ratios of sums over the
-- municipalities with a value in both years: int_goal_changes_matched. Ambitions measured from a
-- baseline year (change from 2014, more than / the level of 2017) are judged on the change from that
-- year; level ambitions on the end value. start_value, latest_value and baseline_value are the national
-- levels (for counts SSB's national figure where published).
-- The colour is judged at assessed_year (int_goal_periods_bounded: the ambition's target year when the
-- period runs past it, seeds/ambition_target_years.csv): the level there, the change from the baseline
-- to it, the running total to it — a cumulative ambition pro-rated when that year is before its target year.
-- Own-reported indicators cover the programme municipalities only, and say so in `coverage`; an
-- indicator only some municipalities contributed to says how many (e.g. the KMD survey's 2017 answers).
with indicators as (
    select * from {{ ref('dim_indicator') }}
    where kind in ('quantitative', 'extra', 'derived') and numerator_measure is not null
),

national as (
    select indicator_id, year, value, n_municipalities, n_missing, numerator_source, synthetic,
           value_low, value_high, method, n_suppressed, n_absent, n_zero
    from {{ ref('fct_indicator_group_value') }}
    where group_type = 'national' and value is not null
),

bounds as (
    select * from {{ ref('int_goal_periods_bounded') }}
),

changes as (
    select * from {{ ref('int_goal_changes_matched') }}
),

measured as (
    select
        b.*,
        i.ambition_type, i.ambition_value, i.ambition_text, i.baseline_year, i.desired_direction,
        i.coverage, i.source,
        s.value                                                                 as start_value,
        e.value                                                                 as end_value,
        e.n_municipalities                                                      as n_municipalities_end,
        e.n_missing                                                             as n_missing_end,
        e.numerator_source                                                      as numerator_source_end,
        e.value_low                                                             as end_value_low,
        e.value_high                                                            as end_value_high,
        e.method                                                                as end_value_method,
        e.n_suppressed                                                          as n_suppressed_end,
        e.n_absent                                                              as n_absent_end,
        e.n_zero                                                                as n_zero_end,
        coalesce(s.synthetic, false) or coalesce(e.synthetic, false)
            or coalesce(bl.synthetic, false)                                    as measured_synthetic,
        bl.value                                                                as baseline_value,
        coalesce(b.assessed_year, b.end_year_used)                              as judged_year,
        a.value                                                                 as judged_level,
        -- the running total from the baseline year to the year judged (a cumulative ambition)
        (select {{ exact_sum('c.value') }} from national c
          where c.indicator_id = b.indicator_id
            and c.year between i.baseline_year and coalesce(b.assessed_year, b.end_year_used)) as cumulative_value
    from bounds b
    inner join indicators i on i.indicator_id = b.indicator_id
    left join national s on s.indicator_id = b.indicator_id and s.year = b.start_year_used
    left join national e on e.indicator_id = b.indicator_id and e.year = b.end_year_used
    left join national a on a.indicator_id = b.indicator_id and a.year = coalesce(b.assessed_year, b.end_year_used)
    left join national bl on bl.indicator_id = b.indicator_id and bl.year = i.baseline_year
),

assessed as (
    select
        m.*,
        m.measured_synthetic or c.synthetic                                     as synthetic,
        c.n_matched, c.n_matched_baseline, c.change_abs, c.change_pct, c.change_from_baseline_pct,
        c.change_pct_low, c.change_pct_high, c.change_from_baseline_pct_low, c.change_from_baseline_pct_high,
        c.change_method, c.change_to_assessed_pct
    from measured m
    inner join changes c on c.indicator_id = m.indicator_id and c.period = m.period
),

judged as (
    select
        *,
        case when ambition_type in ('change_pct_from_baseline', 'more_than_year', 'keep_level_of_year')
             then change_from_baseline_pct else coalesce(change_to_assessed_pct, change_pct) end as assessed_change_pct,
        -- a cumulative ambition judged before its target year: pro-rated to the years elapsed
        case when ambition_type = 'cumulative_min' and target_year is not null and judged_year < target_year
                  and target_year >= baseline_year
             then ambition_value * (judged_year - baseline_year + 1) / (target_year - baseline_year + 1)
             else ambition_value end                                            as cumulative_target,
        case when target_year is not null and judged_year < end_year_used
                 then {{ format_text('vurdert i %d, målåret, ikke i %d', ['judged_year', 'end_year_used']) }}
             when target_year is not null and judged_year < target_year
                 then {{ format_text('målåret er %d, vurdert på %d', ['target_year', 'judged_year']) }}
        end                                                                     as assessed_note
    from assessed
),

ruled as (
    select
        *,
        {{ colour_rule('ambition_type', 'ambition_value', 'desired_direction', 'assessed_change_pct',
                       'judged_level', 'cumulative_value', 'reliability_note is null', 'cumulative_target') }} as colour_rule
    from judged
)

select
    cast(indicator_id as varchar)                                               as indicator_id,
    cast(period as varchar)                                                     as period,
    cast(period_start as integer)                                               as period_start_year,
    cast(period_end as integer)                                                 as period_end_year,
    cast(start_year_used as integer)                                            as start_year,
    cast(end_year_used as integer)                                              as end_year,
    cast(start_value as double precision)                                       as start_value,
    cast(end_value as double precision)                                         as latest_value,
    cast(change_abs as double precision)                                        as change_abs,
    cast(change_pct as double precision)                                        as change_pct,
    cast(baseline_year as integer)                                              as baseline_year,
    cast(baseline_value as double precision)                                    as baseline_value,
    cast(change_from_baseline_pct as double precision)                          as change_from_baseline_pct,
    cast(case when ambition_type = 'cumulative_min' then cumulative_value end as double precision) as cumulative_value,
    cast(ambition_type as varchar)                                              as ambition_type,
    cast(ambition_value as double precision)                                    as ambition_value,
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
    cast({{ colour_reason('colour_rule', 'ambition_type', 'ambition_value', 'assessed_change_pct', 'judged_level',
                          'cumulative_value', 'baseline_year', 'reliability_note', 'ambition_text',
                          'cumulative_target', 'assessed_note') }} as varchar)
                                                                                as colour_reason,
    -- bounds and method (docs/statistical_method.md): what a reader needs to judge the figures above
    cast(end_value_low as double precision)                                     as latest_value_low,
    cast(end_value_high as double precision)                                    as latest_value_high,
    cast(end_value_method as varchar)                                           as latest_value_method,
    cast(change_pct_low as double precision)                                    as change_pct_low,
    cast(change_pct_high as double precision)                                   as change_pct_high,
    cast(change_from_baseline_pct_low as double precision)                      as change_from_baseline_pct_low,
    cast(change_from_baseline_pct_high as double precision)                     as change_from_baseline_pct_high,
    cast(change_method as varchar)                                              as change_method,
    cast(n_suppressed_end as integer)                                           as n_suppressed,
    cast(n_absent_end as integer)                                               as n_absent,
    cast(n_zero_end as integer)                                                 as n_zero,
    -- the year the colour was judged at and the target it was held against (colour rule amendments)
    cast(target_year as integer)                                                as target_year,
    cast(judged_year as integer)                                                as assessed_year,
    cast(judged_level as double precision)                                      as assessed_level,
    cast(case when ambition_type = 'cumulative_min' then cumulative_target end as double precision) as cumulative_target,
    -- why the figures are missing when SSB lacks a configured code (int_goal_periods_bounded)
    cast(missing_reason as varchar)                                             as missing_reason
from ruled
