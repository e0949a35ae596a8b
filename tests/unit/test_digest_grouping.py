"""The digest groups findings by municipality and check, listing the years, with the count behind each line."""

from __future__ import annotations

from alert_samples import CONFIG, NASTY_NAME, finding, sample_digest
from orchestration.alerts.render import render_digest


def parts(message):
    plain = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    return plain, html


def test_one_problem_over_seven_years_is_one_line_with_the_years_and_the_count():
    seven = [finding(f"kmd_iplos:1866:{year}:care_dwellings", NASTY_NAME, municipality_code="1866", year=year,
                     kind="kmd_iplos", measure="care_dwellings", deviation=float(year - 2010))
             for year in range(2015, 2022)]
    other = finding("yoy_drop:1866:2020:care_dwellings", NASTY_NAME, municipality_code="1866", year=2020,
                    kind="yoy_drop", measure="care_dwellings")
    plain, html = parts(render_digest(sample_digest(new=[*seven, other], worsened=[], resolved=[], overdue=[]),
                                      CONFIG))
    lines = [line for line in plain.splitlines() if line.startswith("- [")]
    assert lines == [f"- [FEIL] 1866 {NASTY_NAME} · care_dwellings · kmd_iplos: 7 funn, år "
                     "2015, 2016, 2017, 2018, 2019, 2020, 2021",
                     f"- [FEIL] 1866 {NASTY_NAME} · 2020 · care_dwellings"]
    assert "  størst avvik 2021: målt" in plain  # the worst year shown in full
    assert "Nye avvik (8)" in plain  # the section still counts findings: the register has one row per finding
    assert "2015, 2016, 2017, 2018, 2019, 2020, 2021" in html and ">7</td>" in html
    assert NASTY_NAME not in html and "Bø &lt;b&gt;&amp; Co" in html
