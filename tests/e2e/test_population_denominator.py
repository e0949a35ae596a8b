"""Per 1000 inhabitants: 07459 is dated 1 January, so the statistics year t's denominator is the population
on 1 January t+1 (KOSTRA's 31 December). The demo world publishes SSB's own per-1000 figure (12008
KOSboligSper10000000) from its counts that way; the warehouse's ratio must agree with it within rounding,
and the population of 1 January t would not."""

from __future__ import annotations

ROUNDING = 0.05 + 1e-9  # SSB publishes one decimal (the demo rounds half to even)

COMPARED = """
    select f.year, f.municipality_code, f.value, f.numerator, k.value as published, p.population as population_1_jan_t
    from marts.fct_indicator_value f
    join intermediate.int_kostra_values_latest_release k
      on k.municipality_code = f.municipality_code and k.year = f.year and k.measure = 'dwellings_per_1000_published'
    join intermediate.int_population_pivoted_by_age p
      on p.municipality_code = f.municipality_code and p.population_date_year = f.year
    -- a harmonised municipality's figure is on another structure than SSB's: not comparable cell by cell
    where f.indicator_id = 'dwellings_per_1000' and not f.is_harmonised and f.value is not null
"""


def test_per_1000_uses_1_january_of_the_next_year_and_agrees_with_ssbs_published_ratio(demo_warehouse):
    con = demo_warehouse.connect()
    try:
        rows = con.execute(COMPARED).fetchall()
        denominators = con.execute("""
            select f.denominator, p.population
            from marts.fct_indicator_value f
            join intermediate.int_population_pivoted_by_age p
              on p.municipality_code = f.municipality_code and p.population_date_year = f.year + 1
            where f.indicator_id = 'dwellings_per_1000' and f.year = 2019 and not f.is_harmonised""").fetchall()
    finally:
        con.close()
    years = {r[0] for r in rows}
    assert years == set(range(2008, 2026)) and len(rows) > 2500
    # the denominator of 2019 is the population on 1 January 2020, exactly
    assert denominators and all(d == p for d, p in denominators)
    apart = [r for r in rows if abs(r[2] - r[4]) > ROUNDING]
    assert apart == [], apart[:5]
    # had the population of 1 January t been used, most figures would part from SSB's by more than rounding
    shifted = [r for r in rows if abs(round(r[3] / r[5] * 1000, 1) - r[4]) > ROUNDING]
    assert len(shifted) > len(rows) / 2
