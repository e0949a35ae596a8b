-- «Trendbrudd» (report 2.2, 3.3.1, 3.8.1): for every KOSTRA/IPLOS series, nationally and by size class,
-- did the trend change when the strategy started? Not two endpoints: a segmented log-linear trend over
-- every year of the pre- and post-period (var trend_pre_start_year → trend_break_year → trend_post_end_year),
--     ln(value_t) = a + b_pre · (t − T) + d · max(0, t − T),     T = trend_break_year,
-- fitted by least squares on the group series of int_trend_series_fixed_membership (the same members
-- every year). b_pre is the slope before, b_post = b_pre + d after, d their difference.
-- Each estimate is linear in the yearly ln(values), Σ w_t · ln(value_t), so:
--   * the bounds: with every year's value anywhere in its [value_low, value_high] (suppressed members),
--     the estimate lies in [Σ w_t · ln(w_t > 0 ? low : high), Σ w_t · ln(w_t > 0 ? high : low)];
--   * the noise: the residuals around the fit give s² = RSS / (n − 3) and the standard error s · √Σ w_t²;
--   * the interval reported is the bounds' range widened by the 95 % t margin on each side.
-- Verdict (docs/statistical_method.md): 'break' when the interval of d excludes zero; 'no break' when it
-- contains zero and lies within ± var trend_break_min_difference_pct (% per year); 'too noisy' when it
-- contains zero but reaches beyond that; null when a segment has fewer than var trend_min_years_per_segment
-- usable years. The weights come from the Frisch–Waugh residuals (x2 on x1 for d, x1 on x2 for b_pre).
{%- set t0 = var('trend_break_year') %}
{%- set min_years = var('trend_min_years_per_segment') %}
{%- set threshold = var('trend_break_min_difference_pct') %}
{%- set flat = var('trend_flat_pct') %}
with indicators as (
    select * from {{ ref('dim_indicator') }}
    where kind in ('quantitative', 'extra', 'derived') and source in ('KOSTRA', 'IPLOS')
      and numerator_measure is not null
),

series as (
    select *, fit_value > 0 and value_low > 0 and value_high is not null as usable
    from {{ ref('int_trend_series_fixed_membership') }}
),

summary as (
    select
        indicator_id, group_type, group_code,
        max(fit_value) filter (where year = {{ var('trend_pre_start_year') }})  as value_pre_start,
        max(fit_value) filter (where year = {{ t0 }})                           as value_break,
        max(fit_value) filter (where year = {{ var('trend_post_end_year') }})   as value_post_end,
        count(*) filter (where not usable)                                      as n_years_left_out,
        count(*) filter (where usable and year <= {{ t0 }})                     as n_years_pre,
        count(*) filter (where usable and year >= {{ t0 }})                     as n_years_post,
        case when bool_and(method = 'ssb_national') filter (where usable) then 'ssb_national'
             when bool_and(method in ('ssb_national', 'sum_of_municipalities')) filter (where usable)
                 then 'sum_of_municipalities'
             when bool_or(usable) then 'midpoint_of_bounds' end                 as series_method,
        sum(n_suppressed)                                                       as n_suppressed,
        sum(n_absent)                                                           as n_absent,
        sum(n_zero)                                                             as n_zero,
        bool_or(synthetic)                                                      as synthetic
    from series
    group by indicator_id, group_type, group_code
),

points as (
    select
        indicator_id, group_type, group_code, year,
        cast(year - {{ t0 }} as double precision)                               as x1,
        cast(greatest(year - {{ t0 }}, 0) as double precision)                  as x2,
        ln(fit_value)                                                           as y,
        ln(value_low)                                                           as y_low,
        ln(value_high)                                                          as y_high
    from series
    where usable
),

counted as (
    select
        *,
        sum(case when year <= {{ t0 }} then 1 else 0 end) over s                as n_pre,
        sum(case when year >= {{ t0 }} then 1 else 0 end) over s                as n_post,
        count(*) over s                                                         as n,
        -- sums of whole numbers: exact in doubles whatever the rows' order (regr_slope's running
        -- moments are not, and a backfill that reorders rows must not move the last bits)
        sum(x1) over s as s1, sum(x2) over s as s2,
        sum(x1 * x1) over s as s11, sum(x2 * x2) over s as s22, sum(x1 * x2) over s as s12
    from points
    window s as (partition by indicator_id, group_type, group_code)
),

-- the least-squares lines of x2 on x1 and of x1 on x2, from those sums
regressions as (
    select
        *,
        (n * s12 - s1 * s2) / (n * s11 - s1 * s1)                               as b21,
        (n * s12 - s1 * s2) / (n * s22 - s2 * s2)                               as b12
    from counted
    where n_pre >= {{ min_years }} and n_post >= {{ min_years }} and n > 3
),

-- x1 and x2 each freed of the other (and of the intercept): their regression weights
residualised as (
    select
        *,
        x1 - ((s1 - b12 * s2) / n + b12 * x2)                                   as r1,
        x2 - ((s2 - b21 * s1) / n + b21 * x1)                                   as r2
    from regressions
),

weighted as (
    select
        *,
        r1 / {{ exact_sum('r1 * r1', over='s') }}                                 as w_pre,
        r2 / {{ exact_sum('r2 * r2', over='s') }}                                 as w_diff
    from residualised
    window s as (partition by indicator_id, group_type, group_code)
),

-- est = Σ w·y; the bounds' range of Σ w·y with y in [y_low, y_high]; Σ w² for the noise
estimates as (
    select
        indicator_id, group_type, group_code,
        {{ dbt.any_value('n') }} as n, {{ dbt.any_value('n_pre') }} as n_pre, {{ dbt.any_value('n_post') }} as n_post,
        {{ exact_sum('y') }} / count(*) as y_mean, avg(x1) as x1_mean, avg(x2) as x2_mean,
        {%- for name, w in [('pre', 'w_pre'), ('diff', 'w_diff'), ('post', '(w_pre + w_diff)')] %}
        {{ exact_sum(w ~ ' * y') }}                                              as b_{{ name }},
        {{ exact_sum('case when ' ~ w ~ ' > 0 then ' ~ w ~ ' * y_low else ' ~ w ~ ' * y_high end') }} as b_{{ name }}_bound_low,
        {{ exact_sum('case when ' ~ w ~ ' > 0 then ' ~ w ~ ' * y_high else ' ~ w ~ ' * y_low end') }} as b_{{ name }}_bound_high,
        {{ exact_sum(w ~ ' * ' ~ w) }}                                           as ss_{{ name }}{{ ',' if not loop.last }}
        {%- endfor %}
    from weighted
    group by indicator_id, group_type, group_code
),

noise as (
    select
        e.indicator_id, e.group_type, e.group_code,
        sqrt({{ exact_sum('power(p.y - (e.y_mean + e.b_pre * (p.x1 - e.x1_mean) + e.b_diff * (p.x2 - e.x2_mean)), 2)') }}
             / ({{ dbt.any_value('e.n') }} - 3))                                  as residual_se
    from estimates e
    inner join points p using (indicator_id, group_type, group_code)
    group by e.indicator_id, e.group_type, e.group_code
),

intervals as (
    select
        e.*,
        n.residual_se,
        {{ t_quantile_975('e.n - 3') }} * n.residual_se                         as t_s
    from estimates e
    inner join noise n using (indicator_id, group_type, group_code)
),

-- in % per year: (e^slope − 1) × 100; the difference as (e^d − 1) × 100 (≈ post − pre for small rates)
pct as (
    select
        indicator_id, group_type, group_code, n_pre, n_post, residual_se,
        {%- for name in ['pre', 'post', 'diff'] %}
        (exp(b_{{ name }}) - 1) * 100                                            as {{ name }}_pct,
        (exp(b_{{ name }}_bound_low - t_s * sqrt(ss_{{ name }})) - 1) * 100      as {{ name }}_pct_low,
        (exp(b_{{ name }}_bound_high + t_s * sqrt(ss_{{ name }})) - 1) * 100     as {{ name }}_pct_high{{ ',' if not loop.last }}
        {%- endfor %}
    from intervals
),

judged as (
    select
        s.*,
        p.n_pre, p.n_post, p.residual_se,
        p.pre_pct, p.pre_pct_low, p.pre_pct_high, p.post_pct, p.post_pct_low, p.post_pct_high,
        p.diff_pct, p.diff_pct_low, p.diff_pct_high,
        case when p.pre_pct is null then null
             when abs(p.pre_pct) < {{ flat }} then 'flat' when p.pre_pct > 0 then 'up' else 'down' end  as direction_pre,
        case when p.post_pct is null then null
             when abs(p.post_pct) < {{ flat }} then 'flat' when p.post_pct > 0 then 'up' else 'down' end as direction_post,
        -- rounded to 0.001 % per year: below that lies floating-point error, not a break
        case when p.diff_pct is null then null
             when {{ round_double('p.diff_pct_low', 3) }} > 0 or {{ round_double('p.diff_pct_high', 3) }} < 0 then 'break'
             when p.diff_pct_low >= -{{ threshold }} and p.diff_pct_high <= {{ threshold }} then 'no break'
             else 'too noisy' end                                                                      as verdict
    from summary s
    left join pct p using (indicator_id, group_type, group_code)
)

select
    cast(j.indicator_id as varchar)                                     as indicator_id,
    cast(j.group_type as varchar)                                       as group_type,
    cast(j.group_code as varchar)                                       as group_code,
    cast(case when j.group_type = 'national' then 'alle kommuner (referansestrukturen), hvert år'
              else 'størrelsesklasse i ' || {{ var('trend_post_end_year') }} || ', de samme kommunene hvert år'
         end as varchar)                                                as membership,
    cast({{ var('trend_pre_start_year') }} as integer)                  as pre_start_year,
    cast({{ t0 }} as integer)                                           as break_year,
    cast({{ var('trend_post_end_year') }} as integer)                   as post_end_year,
    cast(j.n_years_pre as integer)                                      as n_years_pre,
    cast(j.n_years_post as integer)                                     as n_years_post,
    cast(j.n_years_left_out as integer)                                 as n_years_left_out,
    cast(j.value_pre_start as double precision)                         as value_pre_start,
    cast(j.value_break as double precision)                             as value_break,
    cast(j.value_post_end as double precision)                          as value_post_end,
    cast(j.pre_pct as double precision)                                 as avg_annual_change_pre_pct,
    cast(j.pre_pct_low as double precision)                             as avg_annual_change_pre_pct_low,
    cast(j.pre_pct_high as double precision)                            as avg_annual_change_pre_pct_high,
    cast(j.post_pct as double precision)                                as avg_annual_change_post_pct,
    cast(j.post_pct_low as double precision)                            as avg_annual_change_post_pct_low,
    cast(j.post_pct_high as double precision)                           as avg_annual_change_post_pct_high,
    cast(j.diff_pct as double precision)                                as slope_difference_pct,
    cast(j.diff_pct_low as double precision)                            as slope_difference_pct_low,
    cast(j.diff_pct_high as double precision)                           as slope_difference_pct_high,
    cast(j.residual_se * 100 as double precision)                       as residual_se_pct,
    cast(j.direction_pre as varchar)                                    as direction_pre,
    cast(j.direction_post as varchar)                                   as direction_post,
    cast(j.verdict as varchar)                                          as verdict,
    cast(case
        when j.verdict is null then {{ format_text('Ikke vurdert: for få år med tall (%d før og %d etter %d; minst %d i hver periode).', ['j.n_years_pre', 'j.n_years_post', t0, min_years]) }}
        when j.verdict = 'break' then {{ format_text('Trendbrudd: den årlige endringen er %+.1f %% etter mot %+.1f %% før; forskjellen %+.1f %% per år (intervall %+.1f til %+.1f) utelukker null.', ['j.post_pct', 'j.pre_pct', 'j.diff_pct', 'j.diff_pct_low', 'j.diff_pct_high']) }}
        when j.verdict = 'no break' then {{ format_text('Ikke trendbrudd: forskjellen %+.1f %% per år (intervall %+.1f til %+.1f) ligger innenfor ±%g %%.', ['j.diff_pct', 'j.diff_pct_low', 'j.diff_pct_high', threshold]) }}
        else {{ format_text('For usikkert: forskjellen %+.1f %% per år har intervallet %+.1f til %+.1f, som rommer både null og et brudd større enn ±%g %% (prikkede tall og årlige svingninger).', ['j.diff_pct', 'j.diff_pct_low', 'j.diff_pct_high', threshold]) }}
    end as varchar)                                                     as verdict_reason,
    cast(case
        when j.verdict = 'no break' then 'none'
        when j.verdict <> 'break' or j.verdict is null then null
        when j.direction_pre in ('up', 'down') and j.direction_post in ('up', 'down')
             and j.direction_pre <> j.direction_post then 'reversal'
        when sign(j.diff_pct) = sign(j.pre_pct) or j.direction_pre = 'flat' then 'acceleration'
        else 'slowdown'
    end as varchar)                                                     as trend_break_kind,
    cast(case j.verdict when 'break' then true when 'no break' then false end as boolean) as is_trend_break,
    cast(i.desired_direction as varchar)                                as desired_direction,
    -- did the trend break the way the strategy wants? Only for a break.
    cast(case
        when j.verdict <> 'break' or j.verdict is null or i.desired_direction not in ('up', 'down') then null
        when i.desired_direction = 'up' then j.diff_pct > 0
        else j.diff_pct < 0
    end as boolean)                                                     as break_in_desired_direction,
    cast('segmented_log_linear' as varchar)                             as method,
    cast(j.series_method as varchar)                                    as series_method,
    cast(j.n_suppressed as integer)                                     as n_suppressed,
    cast(j.n_absent as integer)                                         as n_absent,
    cast(j.n_zero as integer)                                           as n_zero,
    coalesce(j.synthetic, false)                                        as synthetic
from judged j
inner join indicators i on i.indicator_id = j.indicator_id
