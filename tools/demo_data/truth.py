"""The demo world's unsuppressed truth: what the marts' figures should contain.

The generator knows every cell before KOSTRA's `:` and Husbanken's `<4` hide it. This module computes,
from the same DemoWorld and the same row builders the demo files come from (nothing is re-drawn):

- national counts per indicator and year (the sum over every municipality as reported that year,
  which is also what the demo's SSB `EAK` figure is);
- the programme municipalities' sums per indicator and year, on the structure of the cohort year
  (the report's 70 on the 2019 codes), so the programme share of a year is programme ÷ national.

- the segmented log-linear trend of a group series (`segmented_trend`, `trend_verdict`): the same model
  rpt_trend_break fits, by numpy least squares, so the mart's SQL has an independent oracle; and the
  unsuppressed group series on the reference structure (`group_series`) it is fitted on.

`python -m tools.demo_data.truth out.csv` writes it as CSV (indicator_id, measure, source, grp, year,
value). The end-to-end test tests/e2e/test_truth.py compares the marts with it.
"""

from __future__ import annotations

import sys
from functools import lru_cache
from pathlib import Path

import numpy as np
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


@lru_cache(maxsize=1)
def _world() -> DemoWorld:
    """One world for the truth: it keeps each year's structure, which the series below ask for again and again."""
    return DemoWorld()


@lru_cache(maxsize=2)
def truth_frame(world: DemoWorld | None = None) -> pd.DataFrame:
    """Long frame: indicator_id, measure, source, grp ('national' | 'programme'), year, value."""
    world = world or _world()
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


def group_series(indicator_id: str, members: set[str] | None, years: range) -> dict[int, float]:
    """The unsuppressed sum of a KOSTRA count over `members` (reference codes; None = the country, as SSB's
    EAK sums it: every municipality as reported that year) per year."""
    if members is None:
        return {y: truth_value(indicator_id, y) for y in years}
    frame = _world().figures[KOSTRA_INDICATORS[indicator_id]]
    rows = frame.loc[frame.index.isin(members)]
    return {y: float(rows[y].sum()) for y in years}


def group_series_harmonised(indicator_id: str, members: set[str], years: range,
                            crosswalk: pd.DataFrame) -> dict[int, float]:
    """The unsuppressed sum over `members` (reference codes) of a KOSTRA count as the warehouse builds it:
    each year's cells on the codes as reported, carried to the reference structure by `crosswalk`
    (year, reported_code, reference_code, weight: reference.municipality_crosswalk). Only suppression
    then separates it from the marts, not harmonisation (a split spreads by population, not by truth)."""
    world = _world()
    frame = world.figures[KOSTRA_INDICATORS[indicator_id]]
    out = {}
    for year in years:
        reported = world.as_reported(frame, year).rename("value").rename_axis("reported_code").reset_index()
        mapped = crosswalk[crosswalk.year == year].merge(reported, on="reported_code")
        mapped = mapped[mapped.reference_code.isin(members)]
        out[year] = float((mapped.value * mapped.weight).sum())
    return out


def segmented_trend(series: dict[int, float], break_year: int) -> dict[str, float]:
    """ln(value) = a + b·(t − T) + d·max(0, t − T) by least squares; slopes in % per year, (e^x − 1)·100,
    and the 95 % interval of the difference from the residuals (no bounds: the truth is exact)."""
    from scipy.stats import t as student_t  # scipy is in requirements.lock (a dependency of the stack)

    # a year whose group value is 0 has no logarithm: left out, as rpt_trend_break leaves it out
    years = np.array(sorted(t for t, v in series.items() if v > 0), dtype=float)
    y = np.log([series[int(t)] for t in years])
    x1 = years - break_year
    design = np.column_stack([np.ones_like(x1), x1, np.maximum(x1, 0)])
    beta, *_ = np.linalg.lstsq(design, y, rcond=None)
    residuals = y - design @ beta
    df = len(y) - 3
    s2 = float(residuals @ residuals) / df
    se_d = float(np.sqrt(s2 * np.linalg.inv(design.T @ design)[2, 2]))
    margin = float(student_t.ppf(0.975, df)) * se_d

    def pct(x: float) -> float:
        return float((np.exp(x) - 1) * 100)

    return {"pre_pct": pct(beta[1]), "post_pct": pct(beta[1] + beta[2]), "diff_pct": pct(beta[2]),
            "diff_pct_low": pct(beta[2] - margin), "diff_pct_high": pct(beta[2] + margin)}


def trend_verdict(fit: dict[str, float], threshold_pct: float) -> str:
    """rpt_trend_break's rule: break when the interval excludes 0; no break when it lies within ±threshold."""
    if round(fit["diff_pct_low"], 3) > 0 or round(fit["diff_pct_high"], 3) < 0:
        return "break"
    if fit["diff_pct_low"] >= -threshold_pct and fit["diff_pct_high"] <= threshold_pct:
        return "no break"
    return "too noisy"


def main(argv: list[str]) -> int:
    out = Path(argv[1]) if len(argv) > 1 else Path("demo_truth.csv")
    truth_frame().to_csv(out, index=False, lineterminator="\n")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
