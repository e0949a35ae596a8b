{#
  The status-colour rule of rpt_goal_attainment (and of tests/test_colour_rule_against_report.py).

  The report picked its colours by judgement (5.3: «Grønt viser at målet er nådd, rødt at utviklingen er
  et stykke unna målene og gult er i en mellomstilling. Tall uten farger er et uttrykk for usikre data og
  områder hvor det ikke er fastlagt et langsiktig ambisjonsnivå»). This is the written-down rule; the
  first condition that holds decides (seed colour_rules documents the same in words):

    1 no_ambition            none    ambition_type none / realise_allocation_letter (or missing)
    2 unreliable_data        none    the series is not reliable over the period (is_reliable false)
    3 missing_data           none    the figure the ambition is judged on is missing
    4 met                    green   change_pct_from_baseline: change from the baseline year ≥ the target
                                     (≤ for a reduction target); more_than_year: change > 0;
                                     keep_level_of_year: change ≥ −colour_keep_level_tolerance_pct;
                                     level_min / level_min_pct: level ≥ target; level_max: level ≤ target;
                                     cumulative_min: the running total ≥ the target (pro-rated, see below)
    5 near_target            yellow  level targets only: below the target but within colour_level_near_tolerance
                                     of it (level_min(_pct): level ≥ target × (1 − tolerance); level_max with a
                                     target above 0: level ≤ target × (1 + tolerance)) — a dip that stays this
                                     close to the level is not red; the direction only breaks ties further off
    6 wrong_direction        red     the change goes against desired_direction, or is zero. Not for
                                     cumulative_min: a running total is judged on the total, never on the
                                     latest year's flow
    7 far_off                red     change targets: less than colour_far_off_min_progress of the targeted
                                     change achieved; level_min(_pct) and cumulative_min: more than
                                     colour_far_off_level_gap below the (pro-rated) target. Not for zero targets
                                     (level_max), which the report colours yellow when moving the right way.
    8 right_direction_not_met yellow

  Arguments are SQL expressions. change_pct is the change the ambition is judged on (from the ambition's
  baseline year when it has one), level the value at the year judged, cumulative the sum of yearly values
  from the baseline year to the year judged (cumulative_min only). cumulative_target (optional) is the
  target the running total is held against: the ambition pro-rated to the year judged when that is before
  the ambition's target year (rpt_goal_attainment: ambition × years elapsed ÷ years to the target year);
  by default the ambition itself. The year judged is the end of the period, or the ambition's target year
  when the period runs past it (int_goal_periods_bounded.assessed_year, seeds/ambition_target_years.csv).
#}

{% macro colour_rule(ambition_type, ambition_value, desired_direction, change_pct, level, cumulative, is_reliable, cumulative_target=none) -%}
    {%- set progress = var('colour_far_off_min_progress') -%}
    {%- set gap = var('colour_far_off_level_gap') -%}
    {%- set tolerance = var('colour_keep_level_tolerance_pct') -%}
    {%- set near = var('colour_level_near_tolerance') -%}
    {%- set cum_target = cumulative_target if cumulative_target else ambition_value -%}
    {%- set sign -%}(case {{ desired_direction }} when 'up' then 1.0 when 'down' then -1.0 end){%- endset -%}
    (case
        when {{ ambition_type }} is null or {{ ambition_type }} in ('none', 'realise_allocation_letter')
            then 'no_ambition'
        when not coalesce({{ is_reliable }}, true)
            then 'unreliable_data'
        when ({{ ambition_type }} in ('change_pct_from_baseline', 'more_than_year', 'keep_level_of_year') and {{ change_pct }} is null)
          or ({{ ambition_type }} in ('level_min', 'level_min_pct') and {{ level }} is null)
          or ({{ ambition_type }} = 'level_max' and {{ level }} is null and {{ change_pct }} is null)
          or ({{ ambition_type }} = 'cumulative_min' and {{ cumulative }} is null)
          or ({{ ambition_type }} in ('change_pct_from_baseline', 'level_min', 'level_min_pct', 'level_max', 'cumulative_min')
              and {{ ambition_value }} is null)
            then 'missing_data'
        when ({{ ambition_type }} = 'change_pct_from_baseline'
                and (({{ ambition_value }} < 0 and {{ change_pct }} <= {{ ambition_value }})
                  or ({{ ambition_value }} >= 0 and {{ change_pct }} >= {{ ambition_value }})))
          or ({{ ambition_type }} = 'more_than_year' and {{ change_pct }} > 0)
          or ({{ ambition_type }} = 'keep_level_of_year' and {{ change_pct }} >= -{{ tolerance }})
          or ({{ ambition_type }} in ('level_min', 'level_min_pct') and {{ level }} >= {{ ambition_value }})
          or ({{ ambition_type }} = 'level_max' and {{ level }} <= {{ ambition_value }})
          or ({{ ambition_type }} = 'cumulative_min' and {{ cumulative }} >= {{ cum_target }})
            then 'met'
        when ({{ ambition_type }} in ('level_min', 'level_min_pct')
                and {{ level }} >= {{ ambition_value }} * (1 - {{ near }}))
          or ({{ ambition_type }} = 'level_max' and {{ ambition_value }} > 0
                and {{ level }} <= {{ ambition_value }} * (1 + {{ near }}))
            then 'near_target'
        when {{ ambition_type }} <> 'cumulative_min'
          and {{ change_pct }} is not null and {{ sign }} is not null and {{ change_pct }} * {{ sign }} <= 0
            then 'wrong_direction'
        when ({{ ambition_type }} = 'change_pct_from_baseline' and {{ ambition_value }} <> 0
                and {{ change_pct }} / {{ ambition_value }} < {{ progress }})
          or ({{ ambition_type }} in ('level_min', 'level_min_pct')
                and {{ level }} < {{ ambition_value }} * (1 - {{ gap }}))
          or ({{ ambition_type }} = 'cumulative_min'
                and {{ cumulative }} < {{ cum_target }} * (1 - {{ gap }}))
            then 'far_off'
        else 'right_direction_not_met'
    end)
{%- endmacro %}


{% macro colour_from_rule(rule) -%}
    (case {{ rule }}
        when 'met' then 'green'
        when 'right_direction_not_met' then 'yellow'
        when 'near_target' then 'yellow'
        when 'wrong_direction' then 'red'
        when 'far_off' then 'red'
        else 'none'
    end)
{%- endmacro %}


{# The rule's reason in words (Norwegian), with the numbers it was decided on. #}
{% macro colour_reason(rule, ambition_type, ambition_value, change_pct, level, cumulative, baseline_year, reliability_note, ambition_text, cumulative_target=none, assessed_note=none) -%}
    {%- set target -%}
    (case {{ ambition_type }}
        when 'change_pct_from_baseline' then {{ format_text('mål %+.0f %% fra %d', [ambition_value, baseline_year]) }}
        when 'more_than_year' then {{ format_text('mål: flere enn i %d', [baseline_year]) }}
        when 'keep_level_of_year' then {{ format_text('mål: minst nivået i %d', [baseline_year]) }}
        when 'level_min' then {{ format_text('mål minst %g', [ambition_value]) }}
        when 'level_min_pct' then {{ format_text('mål minst %g %%', [ambition_value]) }}
        when 'level_max' then {{ format_text('mål høyst %g', [ambition_value]) }}
        when 'cumulative_min' then {{ format_text('mål %g til sammen fra %d', [ambition_value, baseline_year]) }}
            {%- if cumulative_target %} || case when {{ cumulative_target }} <> {{ ambition_value }}
                 then {{ format_text(', forholdsmessig %g så langt', [cumulative_target]) }} else '' end{% endif %}
    end)
    {%- if assessed_note %} || coalesce('; ' || {{ assessed_note }}, ''){% endif %}
    {%- endset -%}
    {%- set observed -%}
    concat_ws(', ',
        case when {{ change_pct }} is not null and {{ baseline_year }} is not null
                  and {{ ambition_type }} in ('change_pct_from_baseline', 'more_than_year', 'keep_level_of_year')
             then {{ format_text('endring %+.1f %% fra %d', [change_pct, baseline_year]) }}
             when {{ change_pct }} is not null then {{ format_text('endring %+.1f %%', [change_pct]) }} end,
        case when {{ level }} is not null then {{ format_text('nivå %.1f', [level]) }} end,
        case when {{ ambition_type }} = 'cumulative_min' and {{ cumulative }} is not null
             then {{ format_text('kumulert %.0f', [cumulative]) }} end)
    {%- endset -%}
    (case {{ rule }}
        when 'no_ambition' then 'Ingen farge: ingen langsiktig ambisjon er fastlagt (' || coalesce({{ ambition_text }}, 'ikke fastlagt') || ').'
        when 'unreliable_data' then 'Ingen farge: usikre data – ' || coalesce({{ reliability_note }}, 'serien er ikke pålitelig i perioden') || '.'
        when 'missing_data' then 'Ingen farge: mangler tallene som trengs for å vurdere ambisjonen (' || {{ target }} || ').'
        when 'met' then 'Grønn: ambisjonen er nådd (' || {{ observed }} || '; ' || {{ target }} || ').'
        when 'wrong_direction' then 'Rød: utviklingen går motsatt vei av ønsket eller står stille (' || {{ observed }} || '; ' || {{ target }} || ').'
        when 'far_off' then 'Rød: langt unna ambisjonen (' || {{ observed }} || '; ' || {{ target }} || ').'
        when 'near_target' then 'Gul: nivået ligger like under målet, innenfor toleransen (' || {{ observed }} || '; ' || {{ target }} || ').'
        when 'right_direction_not_met' then 'Gul: utviklingen går i ønsket retning, men ambisjonen er ikke nådd (' || {{ observed }} || '; ' || {{ target }} || ').'
    end)
{%- endmacro %}
