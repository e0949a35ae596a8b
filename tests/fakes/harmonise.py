"""A pandas oracle of dbt's harmonisation (int_measures_harmonised), so the crosswalk tests can show what
the crosswalk means for figures: merges add up, splits follow their weights, ratios are recomputed."""

from __future__ import annotations

import math

import pandas as pd


def harmonise_values(
    data: pd.DataFrame,
    crosswalk: pd.DataFrame,
    value_columns: list[str],
    code_column: str = "code",
    year_column: str = "year",
) -> pd.DataFrame:
    """Sum counts onto reference codes: value × weight, added up per (year, reference_code).

    Only for additive quantities (counts, amounts, populations). For a ratio, harmonise its numerator
    and denominator with this function and divide afterwards.
    """
    cw = crosswalk
    if "weight" not in cw.columns:  # fine as long as the data touch no split
        cw = cw.assign(weight=cw["split_flag"].map({False: 1.0, True: math.nan}))
    left = data.rename(columns={code_column: "reported_code", year_column: "year"})
    merged = left.merge(cw[["year", "reported_code", "reference_code", "split_flag", "weight"]],
                        on=["year", "reported_code"], how="left")
    unmapped = merged.loc[merged["reference_code"].isna(), ["year", "reported_code"]].drop_duplicates()
    if len(unmapped):
        raise ValueError(f"codes not in the crosswalk for their year: {unmapped.to_records(index=False).tolist()}")
    unweighted = merged.loc[merged["split_flag"] & merged["weight"].isna(), ["year", "reported_code"]]
    if len(unweighted):
        raise ValueError("split codes without weights (run allocation_weights with their population): "
                         f"{unweighted.drop_duplicates().to_records(index=False).tolist()}")
    for col in value_columns:
        merged[col] = merged[col] * merged["weight"]
    result = merged.groupby(["year", "reference_code"], sort=True)[value_columns].sum(min_count=1)
    return result.reset_index()
