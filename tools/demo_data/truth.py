"""The demo world's unsuppressed truth: what the marts' figures should contain.

The generator knows every cell before KOSTRA's `:` and Husbanken's `<4` hide it. This module computes,
from the same DemoWorld and the same row builders the demo files come from (nothing is re-drawn):

- national counts per indicator and year (the sum over every municipality as reported that year,
  which is also what the demo's SSB `EAK` figure is);
- the programme municipalities' sums per indicator and year, on the structure of the cohort year
  (the report's 70 on the 2019 codes), so the programme share of a year is programme ÷ national.

`python -m tools.demo_data.truth out.csv` writes it as CSV (indicator_id, measure, source, grp, year,
value). The end-to-end test tests/e2e/test_truth.py compares the marts with it.
"""

from __future__ import annotations

import sys
from functools import lru_cache
from pathlib import Path

import pandas as pd

from tools.demo_data import husbanken_files
from tools.demo_data.world import YEARS, DemoWorld

# indicator_id → the world's KOSTRA measure (counts only; a ratio's truth is the ratio of these sums)
KOSTRA_INDICATORS = {
    "temp_total": "temp_households_total",
    "temp_over_3_months": "temp_households_over_3_months",
    "temp_children": "temp_households_children",
    "temp_young": "temp_households_young",
    "social_assistance_without_housing": "social_assistance_without_housing",
    "dwellings_total": "dwellings_total",
    "dwellings_vacant": "dwellings_vacant",
}
# indicator_id → (row builder, the column of its rows, a filter on the purpose column or None)
HUSBANKEN_INDICATORS = {
    "startlan_purchase": (husbanken_files.startlan_rows, 4, (3, "Kjøp av bolig")),
    "startlan_refinancing": (husbanken_files.startlan_rows, 4, (3, "Refinansiering")),
    "referral_agreement_dwellings": (husbanken_files.tilvisning_rows, 3, None),
    "rental_housing_grant_dwellings": (husbanken_files.utleie_rows, 3, None),
    "care_investment_grant_dwellings": (husbanken_files.investering_rows, 3, None),
}


def _unsuppressed_rows(builder, world: DemoWorld) -> list[list]:
    previous = husbanken_files.SUPPRESS
    husbanken_files.SUPPRESS = False
    try:
        return builder(world)
    finally:
        husbanken_files.SUPPRESS = previous


@lru_cache(maxsize=2)
def truth_frame(world: DemoWorld | None = None) -> pd.DataFrame:
    """Long frame: indicator_id, measure, source, grp ('national' | 'programme'), year, value."""
    world = world or DemoWorld()
    cohort = set(world.programme_municipalities.municipality_code)
    cohort_year = 2019
    out: list[dict] = []
    for indicator, measure in KOSTRA_INDICATORS.items():
        frame = world.figures[measure]
        for year in YEARS:
            series = world.as_reported(frame, year)
            if series.isna().all():
                continue
            out.append(dict(indicator_id=indicator, measure=measure, source="KOSTRA", grp="national", year=year,
                            value=float(series.sum())))
            if year == cohort_year:
                out.append(dict(indicator_id=indicator, measure=measure, source="KOSTRA", grp="programme",
                                year=year, value=float(series[series.index.isin(cohort)].sum())))
    for indicator, (builder, column, purpose) in HUSBANKEN_INDICATORS.items():
        rows = pd.DataFrame(_unsuppressed_rows(builder, world))
        if purpose is not None:
            rows = rows[rows[purpose[0]] == purpose[1]]
        for year, part in rows.groupby(2):
            out.append(dict(indicator_id=indicator, measure=f"husbanken:{builder.__name__}:{column}",
                            source="Husbanken", grp="national", year=int(year), value=float(part[column].sum())))
            if year == cohort_year:
                out.append(dict(indicator_id=indicator, measure=f"husbanken:{builder.__name__}:{column}",
                                source="Husbanken", grp="programme", year=int(year),
                                value=float(part[part[0].isin(cohort)][column].sum())))
    return pd.DataFrame(out).sort_values(["indicator_id", "grp", "year"]).reset_index(drop=True)


def truth_value(indicator_id: str, year: int, grp: str = "national") -> float:
    t = truth_frame()
    row = t[(t.indicator_id == indicator_id) & (t.year == year) & (t.grp == grp)]
    if row.empty:
        raise KeyError((indicator_id, year, grp))
    return float(row.value.iloc[0])


def main(argv: list[str]) -> int:
    out = Path(argv[1]) if len(argv) > 1 else Path("demo_truth.csv")
    truth_frame().to_csv(out, index=False, lineterminator="\n")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
