"""The KOSTRA grouping of each year (statistics.md: «use the grouping valid in each year»), on the demo warehouse.

The demo ships KLASS's per-date `correspondsAt` answers (data/reference/klass/112_131_correspondence_*.json,
written by tools/demo_data/kostra_groups.py); the grouping was revised in 2016, 2020 and 2024. A
municipality is compared with the group it was in that year, and the group's figure is the ratio of sums
over that year's members.
"""

from __future__ import annotations

import json

import pytest

from orchestration import settings
from tools.demo_data.kostra_groups import grouping_date

KLASS = settings.REFERENCE_DATA_DIR / "klass"


def klass_membership(day: str) -> dict[str, str]:
    """municipality code → group, as KLASS answers `correspondsAt` on `day` (the newest answer dated ≤ day)."""
    files = {p.stem.rsplit("_", 1)[1]: p for p in KLASS.glob("112_131_correspondence_*.json")}
    doc = json.loads(files[max(d for d in files if d <= day)].read_text(encoding="utf-8"))
    return {i["targetCode"]: i["sourceCode"] for i in doc["correspondenceItems"]}


@pytest.fixture(scope="module")
def con(demo_warehouse):
    c = demo_warehouse.connect()
    yield c
    c.close()


@pytest.fixture(scope="module")
def moved(con) -> tuple[str, str, str]:
    """Stavanger-sized cities never move; pick the most populous unchanged code that left its 2019 group in 2024."""
    g2019, g2024 = klass_membership("2019-01-01"), klass_membership("2024-01-01")
    codes = [c for c in g2019 if c in g2024 and g2019[c] != g2024[c]]
    assert codes, "the demo grouping must move some municipality between 2019 and 2024"
    code = con.execute(
        "select municipality_code from marts.dim_municipality where year = 2019 and municipality_code in "
        f"({', '.join(repr(c) for c in codes)}) order by population desc limit 1").fetchone()[0]
    return code, g2019[code], g2024[code]


def test_dim_municipality_carries_each_years_grouping(con):
    assert grouping_date("2019-01-01") == "2016-01-01" and grouping_date("2024-01-01") == "2024-01-01"
    for year in (2015, 2019, 2020, 2024):
        klass = klass_membership(f"{year}-01-01")
        rows = con.execute(
            "select d.municipality_code, d.kostra_group_code from marts.dim_municipality d "
            "where d.year = ? and d.municipality_code in (select municipality_code from marts.dim_municipality "
            "where year = 2024)", [year]).fetchall()
        # a code unchanged since that year carries KLASS's answer for that year
        unchanged = [(c, g) for c, g in rows if c in klass]
        assert len(unchanged) > 50  # most codes were renumbered in 2020 or 2024
        assert all(g == klass[c] for c, g in unchanged), year


def test_a_municipality_is_compared_with_its_own_years_group(con, moved):
    code, group_2019, group_2024 = moved
    groups = dict(con.execute(
        "select year, kostra_group_code from marts.dim_municipality where municipality_code = ? and year in (2019, 2024)",
        [code]).fetchall())
    assert groups == {2019: group_2019, 2024: group_2024}
    indicator = "dwellings_per_1000"
    for year, group in groups.items():
        profile = con.execute(
            "select kostra_group_code, kostra_group_value from marts.rpt_municipality_profile "
            "where municipality_code = ? and year = ? and indicator_id = ?", [code, year, indicator]).fetchone()
        # the group's ratio of sums over that year's members of that year's group, recomputed here
        numerator, denominator = con.execute(
            "select sum(v.numerator), sum(v.denominator) from marts.fct_indicator_value v "
            "join marts.dim_municipality d on d.municipality_code = v.municipality_code and d.year = v.year "
            "where v.indicator_id = ? and v.year = ? and d.kostra_group_code = ? "
            "and v.numerator is not null and v.denominator is not null", [indicator, year, group]).fetchone()
        assert profile[0] == group
        assert profile[1] == pytest.approx(numerator / denominator * 1000, rel=1e-9)
