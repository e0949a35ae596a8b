"""Compare every table in schema `marts` of a warehouse with a baseline folder of `<table>.parquet` files.

    python scripts/compare_marts.py warehouse/boligsosial.duckdb /path/to/baseline
    python scripts/compare_marts.py --save warehouse/boligsosial.duckdb /path/to/baseline   # make the baseline

Same columns, same rows and values (floating-point columns within a relative tolerance) for every
baseline table; prints per table what differs and exits 1 on any difference or a baseline table missing.
A mart the baseline does not have (a feature added since) is listed as new and is not a difference.
"""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb
import pandas as pd

RTOL, ATOL = 1e-9, 1e-9


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows in a canonical order: by the exact columns first, then by floats rounded (last-digit noise must
    not reorder rows)."""
    frame = frame[sorted(frame.columns)]
    floats = [c for c in frame.columns if pd.api.types.is_float_dtype(frame[c])]
    keys = frame.assign(**{f"_r_{c}": frame[c].round(6) for c in floats})
    order = [c for c in frame.columns if c not in floats] + [f"_r_{c}" for c in floats]
    keys = keys.sort_values(order, na_position="last", kind="mergesort")
    return frame.loc[keys.index].reset_index(drop=True)


def _plain(value):
    """numpy 2 reprs a scalar as np.float64(2.5); the report shows 2.5."""
    return value.item() if hasattr(value, "item") else value


def differences(actual: pd.DataFrame, expected: pd.DataFrame) -> list[str]:
    if set(actual.columns) != set(expected.columns):
        return [f"columns: only here {sorted(set(actual.columns) - set(expected.columns))}, "
                f"only in baseline {sorted(set(expected.columns) - set(actual.columns))}"]
    if len(actual) != len(expected):
        return [f"rows: {len(actual)} here, {len(expected)} in baseline"]
    a, e = _sorted(actual), _sorted(expected)
    out = []
    for column in a.columns:
        x, y = a[column], e[column]
        if pd.api.types.is_float_dtype(x) or pd.api.types.is_float_dtype(y):
            x, y = pd.to_numeric(x, errors="coerce"), pd.to_numeric(y, errors="coerce")
            same = ((x - y).abs() <= ATOL + RTOL * y.abs()) | (x.isna() & y.isna())
        else:
            same = (x.astype(str) == y.astype(str)) | (x.isna() & y.isna())
        if not same.all():
            first = int((~same).idxmax())
            out.append(f"{column}: {int((~same).sum())} values differ (first: {_plain(x[first])!r} vs {_plain(y[first])!r})")
    return out


def main(warehouse: str, baseline_dir: str) -> int:
    baseline = {p.stem: p for p in Path(baseline_dir).glob("*.parquet")}
    con = duckdb.connect(warehouse, read_only=True)
    try:
        tables = {t for (t,) in con.execute(
            "select table_name from information_schema.tables where table_schema = 'marts'").fetchall()}
        failures = 0
        new = sorted(tables - set(baseline))
        for name in sorted(tables | set(baseline)):
            if name not in baseline:
                print(f"{name}: new (not in the baseline, not compared)")
                continue
            if name not in tables:
                print(f"{name}: missing from the warehouse")
                failures += 1
                continue
            found = differences(con.execute(f"select * from marts.{name}").df(),
                                con.execute("select * from read_parquet(?)", [str(baseline[name])]).df())
            print(f"{name}: {'same' if not found else 'DIFFERS'}")
            for line in found:
                print(f"    {line}")
            failures += bool(found)
    finally:
        con.close()
    print(f"{len(tables) - len(new)} of {len(baseline)} baseline mart tables compared, {failures} differ; {len(new)} new")
    return 1 if failures else 0


def save(warehouse: str, baseline_dir: str) -> int:
    """Write every mart table as `<table>.parquet`: the baseline to compare with after a backfill."""
    out = Path(baseline_dir)
    out.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(warehouse, read_only=True)
    try:
        tables = [t for (t,) in con.execute(
            "select table_name from information_schema.tables where table_schema = 'marts' order by 1").fetchall()]
        for name in tables:
            con.execute(f"copy marts.{name} to '{out / name}.parquet' (format parquet)")
    finally:
        con.close()
    print(f"{len(tables)} mart tables saved to {out}")
    return 0


if __name__ == "__main__":
    args = sys.argv[1:]
    if args[:1] == ["--save"] and len(args) == 3:
        sys.exit(save(args[1], args[2]))
    if len(args) != 2:
        sys.exit(__doc__)
    sys.exit(main(args[0], args[1]))
