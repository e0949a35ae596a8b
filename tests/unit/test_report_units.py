"""The report's pure parts: Norwegian number formatting, which goal-attainment period answers for a year,
escaping of free text, and the figure shown for each kind of ambition, with its years and bounds."""

from __future__ import annotations

import pandas as pd
import pytest

from orchestration.report import render
from orchestration.report.data import choose_attainment_period

NNBSP = "\u202f"


def test_numbers_are_formatted_the_norwegian_way():
    assert render.fmt_number(1234567.891, 1) == f"1{NNBSP}234{NNBSP}567,9"
    assert render.fmt_number(-3.25, 1) == "−3,2"  # banker's rounding of the float 3.25 → 3,2; minus sign, not hyphen
    assert render.fmt_number(None) == "–"
    assert render.fmt_number(float("nan")) == "–"
    assert render.fmt_value(55.04, "prosent") == "55,0 %"
    assert render.fmt_value(4097.0, "husstander") == f"4{NNBSP}097"
    assert render.fmt_change_pct(-13.4) == "−13 %"
    assert render.fmt_change_pct(6.04) == "+6,0 %"
    assert render.fmt_change_pct(pd.NA) == "–"


@pytest.mark.parametrize("year, expected, note", [
    (2025, "latest", False),   # the latest year: the period up to the latest data
    (2019, "report", False),   # the report's 2015→2019
    (2020, "strategy", False),  # the strategy's 2014→2020
    (2017, "latest", True),    # no period ends in 2017: say so
])
def test_attainment_period_for_a_year(year, expected, note):
    periods = pd.DataFrame({"period": ["latest", "report", "strategy"], "period_end_year": [2025, 2019, 2020]})
    period, text = choose_attainment_period(periods, year, latest_year=2025)
    assert period == expected
    assert (text is not None) == note
    if note:
        assert "2017" in text


def test_free_text_is_escaped_by_the_templates():
    env = render._jinja_env()
    html = env.get_template("_macros.html").module.definitions(
        [{"name": "<script>alert(1)</script>", "numerator": "a & b", "denominator": None, "unit": "prosent",
          "source": "KOSTRA", "note": "<b>n</b>", "series_breaks": None}])
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "a &amp; b" in html and "&lt;b&gt;n&lt;/b&gt;" in html


@pytest.mark.parametrize("row, figure, what", [
    ({"ambition_type": "level_min_pct", "unit": "prosent", "latest_value": 49.2, "end_year": 2019}, "49,2 %", "nivå 2019"),
    ({"ambition_type": "change_pct_from_baseline", "unit": "boliger", "baseline_year": 2014,
      "change_from_baseline_pct": 1.04, "end_year": 2019, "change_pct": 3.0, "start_year": 2015}, "+1,0 %",
     "endring 2014–2019"),
    ({"ambition_type": "level_max", "unit": "husstander", "baseline_year": None, "change_pct": -13.2,
      "start_year": 2015, "end_year": 2019, "latest_value": 4097, "national_is_lower_bound": True}, "−13 %",
     "endring 2015–2019"),
    ({"ambition_type": "cumulative_min", "unit": "boliger", "cumulative_value": 517.0, "baseline_year": 2017,
      "end_year": 2018}, "517", "kumulert 2017–2018"),
    ({"ambition_type": "level_min", "unit": "boliger", "latest_value": 486.0, "end_year": 2019,
      "national_is_lower_bound": True}, "minst 486", "nivå 2019"),
])
def test_the_figure_each_ambition_is_judged_on(row, figure, what):
    shown = render._attainment_figure(row)
    assert (shown["figure"], shown["what"]) == (figure, what)
    assert shown["bounds"] is None and shown["later"] is None


# The demo's 2025 figures for a 2020 target: rpt_goal_attainment runs change_from_baseline_pct to assessed_year.
DWELLINGS_2025 = {"ambition_type": "change_pct_from_baseline", "unit": "boliger", "baseline_year": 2014,
                  "start_year": 2014, "end_year": 2025, "assessed_year": 2020, "change_pct": 11.316,
                  "change_from_baseline_pct": 2.472, "latest_value": 117393.0, "assessed_level": 108066.0,
                  "change_from_baseline_pct_low": 2.472, "change_from_baseline_pct_high": 2.472}


def test_a_target_judged_before_the_latest_year_is_labelled_with_the_years_it_covers():
    shown = render._attainment_figure(DWELLINGS_2025)
    assert (shown["figure"], shown["what"]) == ("+2,5 %", "endring 2014–2020")
    assert shown["later"] == "endring 2014–2025: +11 %"
    assert shown["bounds"] is None  # equal bounds are no uncertainty
    wheelchair = {"ambition_type": "level_min_pct", "unit": "prosent", "start_year": 2014, "end_year": 2025,
                  "assessed_year": 2020, "latest_value": 45.83, "assessed_level": 49.5, "change_pct": -5.09}
    shown = render._attainment_figure(wheelchair)
    assert (shown["figure"], shown["what"]) == ("49,5 %", "nivå 2020 (målåret)")
    cumulative = {"ambition_type": "cumulative_min", "unit": "boliger", "cumulative_value": 517.0,
                  "baseline_year": 2017, "start_year": 2016, "end_year": 2022, "assessed_year": 2020}
    assert render._attainment_figure(cumulative)["what"] == "kumulert 2017–2020"


def test_bounds_are_shown_for_the_figure_shown_and_only_when_they_differ():
    row = DWELLINGS_2025 | {"change_from_baseline_pct_low": -1.04, "change_from_baseline_pct_high": 6.2,
                            "change_pct_low": 0.0, "change_pct_high": 20.0}
    assert render._attainment_figure(row)["bounds"] == "−1,0 % til +6,2 %"
    level = {"ambition_type": "level_min_pct", "unit": "prosent", "start_year": 2014, "end_year": 2025,
             "latest_value": 67.56, "latest_value_low": 48.61, "latest_value_high": 91.92}
    assert render._attainment_figure(level)["bounds"] == "48,6 % til 91,9 %"


def test_a_single_year_is_a_level_not_a_change_unless_the_ambition_is_judged_from_a_baseline():
    row = {"ambition_type": "none", "unit": "boliger", "start_year": 2017, "end_year": 2017, "change_pct": 0.0,
           "latest_value": 52832.89}
    shown = render._attainment_figure(row)
    assert (shown["figure"], shown["what"]) == (f"52{NNBSP}833", "nivå 2017 (bare ett år med tall)")
    # the report period 2015–2019 with one year of figures, judged on the change from 2014
    baseline = row | {"ambition_type": "change_pct_from_baseline", "start_year": 2019, "end_year": 2019,
                      "baseline_year": 2014, "change_from_baseline_pct": -9.25}
    assert render._attainment_figure(baseline)["what"] == "endring 2014–2019"
    # no national value in the period: no years at all, and no «None» in the table
    empty = {"ambition_type": "none", "unit": "boliger", "start_year": None, "end_year": None}
    assert render._attainment_figure(empty) == {"figure": "–", "what": "nivå", "bounds": None, "later": None}


def test_a_level_judged_at_the_target_year_carries_that_years_lower_bound_flag():
    row = {"ambition_type": "level_min", "unit": "boliger", "start_year": 2014, "end_year": 2025,
           "assessed_year": 2020, "latest_value": 599.0, "assessed_level": 486.0, "assessed_is_lower_bound": True,
           "national_is_lower_bound": False, "change_pct": 383.1}
    shown = render._attainment_figure(row)
    assert (shown["figure"], shown["what"], shown["later"]) == ("minst 486", "nivå 2020 (målåret)",
                                                                 "endring 2014–2025: +383 %")
    # a change over the period shown is not repeated as «the change to the latest year»
    change = {"ambition_type": "level_max", "unit": "husstander", "start_year": 2014, "end_year": 2025,
              "assessed_year": 2020, "change_pct": -28.2}
    assert render._attainment_figure(change)["later"] is None


def test_the_reason_text_gets_norwegian_numbers_and_keeps_years_and_whole_numbers():
    reason = ("langt unna ambisjonen (endring +2.5 % fra 2014, nivå 108066.0; mål +10 % fra 2014; "
              "vurdert i 2020, målåret, ikke i 2025).")
    assert render.fmt_reason(reason, "boliger") == (
        f"langt unna ambisjonen (endring +2,5 % fra 2014, nivå 108{NNBSP}066; mål +10 % fra 2014; "
        "vurdert i 2020, målåret, ikke i 2025).")
    assert render.fmt_reason("(endring -16.3 %, nivå 11.4)", "nyinnflyttede per 100 boliger") == \
        "(endring −16,3 %, nivå 11,4)"
    assert render.fmt_reason(None, "prosent") == ""
    # only the figures the mart wrote are rewritten: targets and other numbers stay as written
    assert render.fmt_reason("(kumulert 123456; mål minst 0.5, tabell 3.1)", "boliger") == \
        f"(kumulert 123{NNBSP}456; mål minst 0.5, tabell 3.1)"
