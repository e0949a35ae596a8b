"""Compare every marts.* table of a warehouse with a baseline of Parquet files (one per mart).

    python scripts/compare_marts.py warehouse/boligsosial.duckdb /path/to/baseline_marts

Same tables, same columns, same rows and values; floating-point columns may differ by a relative
1e-9. Exits non-zero and says per table what differs (issue 10: restructuring must not change a figure).
"""

import sys
from pathlib import Path

import duckdb
import pandas as pd


def differences(current: pd.DataFrame, baseline: pd.DataFrame) -> list[str]:
    if list(current.columns) != list(baseline.columns):
        return [f"columns {list(current.columns)} ≠ baseline {list(baseline.columns)}"]
    if len(current) != len(baseline):
        return [f"{len(current)} rows ≠ baseline {len(baseline)}"]
    # order-free: sort both on every column, the floats rounded so equal values sort alike
    keys = [c for c in current.columns if not pd.api.types.is_float_dtype(baseline[c])]
    a = current.sort_values(keys, na_position="first", kind="stable").reset_index(drop=True)
    b = baseline.sort_values(keys, na_position="first", kind="stable").reset_index(drop=True)
    problems = []
    for column in current.columns:
        x, y = a[column], b[column]
        if pd.api.types.is_float_dtype(y):
            same = (x.isna() & y.isna()) | ((x - y).abs() <= 1e-9 * y.abs().clip(lower=1))
        else:
            same = (x.isna() & y.isna()) | (x.astype(object) == y.astype(object))
        if not same.all():
            first = int((~same).idxmax())
            problems.append(f"{column}: {int((~same).sum())} rows differ (e.g. {x[first]!r} ≠ baseline {y[first]!r})")
    return problems


def main(warehouse: str, baseline_dir: str) -> int:
    con = duckdb.connect(warehouse, read_only=True)
    tables = {r[0] for r in con.execute(
        "select table_name from duckdb_tables() where schema_name = 'marts'").fetchall()}
    baselines = {p.stem: p for p in Path(baseline_dir).glob("*.parquet")}
    failed = False
    for name in sorted(tables | set(baselines)):
        if name not in tables or name not in baselines:
            print(f"✘ {name}: only in {'the baseline' if name in baselines else 'the warehouse'}")
            failed = True
            continue
        problems = differences(con.execute(f"select * from marts.{name}").df(),
                               duckdb.sql(f"select * from read_parquet('{baselines[name]}')").df())
        print(("✘ " if problems else "✔ ") + name + ("" if problems else " identical"))
        for problem in problems:
            print("    " + problem)
        failed = failed or bool(problems)
    return 1 if failed else 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1], sys.argv[2]))
