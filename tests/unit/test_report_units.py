"""The report's pure parts: Norwegian number formatting, which goal-attainment period answers for a year,
bound columns found by name, escaping of free text, and the figure shown for each kind of ambition."""

from __future__ import annotations

import pandas as pd
import pytest

from orchestration.report import render
from orchestration.report.data import bound_pairs, choose_attainment_period

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


def test_bound_columns_are_found_by_name():
    columns = ["indicator_id", "change_pct", "change_pct_lower", "change_pct_upper", "lower_value", "upper_value",
               "latest_value", "lower_only"]
    assert bound_pairs(columns) == [("change_pct_lower", "change_pct_upper"), ("lower_value", "upper_value")]
    assert bound_pairs(["change_pct", "latest_value"]) == []


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
    assert render._attainment_figure(row) == (figure, what)
