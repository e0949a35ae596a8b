"""JSON-stat 2.0 → one row per cell, the shape Statistics Norway (SSB) serves.

`value` is row-major over the dimensions in `id` order (last dimension fastest). Missing cells are
`null` with a symbol in `status` (`.` not applicable, `..` not available, `:` confidential, `...` not yet
available, `-` nil): the symbol is kept and the value stays NaN, because a suppressed cell is not a zero.

The columns are fixed (see `COLUMNS`) so every SSB table lands in one long raw table: the region,
time and metric dimensions get their own columns, all other dimensions go into `dimensions` as a
compact JSON object with sorted keys (`{"Alder":"080","Kjonn":"2"}`, `{}` when there are none).
Construction is vectorised with numpy: a million cells parse in well under a couple of seconds.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

# KOSTRA tables call their region dimension `KOKkommuneregion0000`; most other tables `Region`.
REGION_DIMENSIONS: tuple[str, ...] = ("KOKkommuneregion0000", "Region")

COLUMNS: list[str] = [
    "table_id",
    "region_code",
    "period",
    "contents_code",
    "dimensions",
    "value",
    "status_symbol",
    "unit",
    "decimals",
    "table_updated",
]


class JsonStatError(ValueError):
    """The document is not JSON-stat 2.0 as SSB serves it."""


def empty_frame() -> pd.DataFrame:
    """A frame with the parser's columns and no rows (for a selection that matched nothing)."""
    frame = pd.DataFrame({c: pd.Series([], dtype=object) for c in COLUMNS})
    frame["value"] = frame["value"].astype(float)
    frame["decimals"] = frame["decimals"].astype("Int64")
    return frame


def _table_id_of(doc: Mapping[str, Any], table_id: str | None) -> str | None:
    if table_id:
        return str(table_id)
    px = (doc.get("extension") or {}).get("px") or {}
    for key in ("tableid", "matrix"):
        if px.get(key):
            return str(px[key])
    if isinstance(doc.get("id"), str):  # not JSON-stat 2, but say which document it was
        return doc["id"]
    label = doc.get("label")
    match = re.match(r"^\s*(\w+):", label) if isinstance(label, str) else None
    return match.group(1) if match else None


def _category_codes(table: str, name: str, dim: Any, size: int) -> list[str]:
    """The category codes of one dimension in position order."""
    if not isinstance(dim, Mapping) or not isinstance(dim.get("category"), Mapping):
        raise JsonStatError(f"JSON-stat table {table}: dimension {name!r} has no category")
    category = dim["category"]
    index = category.get("index")
    if index is None:
        # JSON-stat allows omitting the index for a single category; the label then carries the code.
        labels = category.get("label")
        if isinstance(labels, Mapping) and len(labels) == size:
            return [str(code) for code in labels]
        raise JsonStatError(f"JSON-stat table {table}: dimension {name!r} has no category index")
    if isinstance(index, Sequence) and not isinstance(index, str):
        codes = [str(code) for code in index]
    elif isinstance(index, Mapping):
        codes_by_pos: list[str | None] = [None] * len(index)
        for code, pos in index.items():
            if not isinstance(pos, int) or not 0 <= pos < len(index) or codes_by_pos[pos] is not None:
                raise JsonStatError(
                    f"JSON-stat table {table}: dimension {name!r} has a bad index position {pos!r} for {code!r}"
                )
            codes_by_pos[pos] = str(code)
        codes = [c for c in codes_by_pos if c is not None]
    else:
        raise JsonStatError(f"JSON-stat table {table}: dimension {name!r} has an index of type {type(index).__name__}")
    if len(codes) != size:
        raise JsonStatError(
            f"JSON-stat table {table}: dimension {name!r} has {len(codes)} categories but size says {size}"
        )
    return codes


def _values(table: str, value: Any, n: int) -> np.ndarray:
    if isinstance(value, Mapping):  # sparse: keyed by the string position
        out = np.full(n, np.nan)
        if value:
            try:
                pos = np.array([int(k) for k in value], dtype=np.int64)
            except ValueError:
                raise JsonStatError(f"JSON-stat table {table}: value keys must be positions") from None
            if pos.min() < 0 or pos.max() >= n:
                raise JsonStatError(f"JSON-stat table {table}: a value position lies outside 0..{n - 1}")
            out[pos] = _numeric(table, list(value.values()))
        return out
    if isinstance(value, Sequence) and not isinstance(value, str):
        if len(value) != n:
            raise JsonStatError(f"JSON-stat table {table}: {len(value)} values but the sizes multiply to {n}")
        return _numeric(table, value)
    raise JsonStatError(f"JSON-stat table {table}: 'value' must be a list or an object, not {type(value).__name__}")


def _numeric(table: str, values: Sequence[Any]) -> np.ndarray:
    # None → NaN here; a missing cell must never become 0.
    try:
        return np.array(values, dtype=float) if len(values) else np.empty(0)
    except (TypeError, ValueError) as exc:
        raise JsonStatError(f"JSON-stat table {table}: values are not numeric ({exc})") from exc


def _status(table: str, status: Any, n: int) -> np.ndarray:
    out = np.full(n, None, dtype=object)
    if status is None:
        return out
    if isinstance(status, str):
        out[:] = status
    elif isinstance(status, Mapping):
        for key, symbol in status.items():
            try:
                pos = int(key)
            except ValueError:
                raise JsonStatError(f"JSON-stat table {table}: status key {key!r} is not a position") from None
            if not 0 <= pos < n:
                raise JsonStatError(f"JSON-stat table {table}: status position {pos} lies outside 0..{n - 1}")
            out[pos] = symbol
    elif isinstance(status, Sequence):
        if len(status) == 1:  # JSON-stat: a one-element list applies to every cell
            out[:] = status[0]
        elif len(status) == n:
            out[:] = list(status)
        else:
            raise JsonStatError(f"JSON-stat table {table}: {len(status)} status entries for {n} values")
    else:
        raise JsonStatError(f"JSON-stat table {table}: 'status' of type {type(status).__name__}")
    out[out == ""] = None
    return out


def _role_dimension(doc: Mapping[str, Any], role: str, fallback: str, ids: list[str]) -> str | None:
    names = (doc.get("role") or {}).get(role) or []
    for name in names:
        if name in ids:
            return name
    return fallback if fallback in ids else None


def parse_jsonstat2(doc: Mapping[str, Any], table_id: str | None = None) -> pd.DataFrame:
    """One row per cell of a JSON-stat 2.0 dataset, columns as in `COLUMNS`, in the document's order."""
    if not isinstance(doc, Mapping):
        raise JsonStatError(f"JSON-stat table {table_id or '?'}: expected an object, got {type(doc).__name__}")
    table = _table_id_of(doc, table_id)
    where = table or "?"
    for key in ("id", "size", "dimension", "value"):
        if key not in doc:
            raise JsonStatError(f"JSON-stat table {where}: missing {key!r}")
    ids, sizes, dims = doc["id"], doc["size"], doc["dimension"]
    if not isinstance(ids, list) or not isinstance(sizes, list) or not isinstance(dims, Mapping):
        raise JsonStatError(f"JSON-stat table {where}: 'id' and 'size' must be lists and 'dimension' an object")
    if len(ids) != len(sizes):
        raise JsonStatError(f"JSON-stat table {where}: {len(ids)} dimension ids but {len(sizes)} sizes")
    if not all(isinstance(s, int) and s >= 0 for s in sizes):
        raise JsonStatError(f"JSON-stat table {where}: sizes must be non-negative integers: {sizes}")
    missing = [name for name in ids if name not in dims]
    if missing:
        raise JsonStatError(f"JSON-stat table {where}: dimension(s) {missing} listed in 'id' but not described")

    codes = {name: _category_codes(where, name, dims[name], size) for name, size in zip(ids, sizes)}
    n = int(np.prod(sizes, dtype=np.int64)) if sizes else 1
    values = _values(where, doc["value"], n)
    status = _status(where, doc.get("status"), n)
    if n == 0:
        return empty_frame()

    # Position of each cell along each dimension: row-major, the last dimension fastest.
    strides = {}
    stride = 1
    for name, size in zip(reversed(ids), reversed(sizes)):
        strides[name] = stride
        stride *= size
    rows = np.arange(n, dtype=np.int64)
    position = {name: (rows // strides[name]) % size for name, size in zip(ids, sizes)}

    def column_of(name: str | None) -> np.ndarray:
        if name is None:
            return np.full(n, None, dtype=object)
        return np.array(codes[name], dtype=object)[position[name]]

    region = next((name for name in REGION_DIMENSIONS if name in ids), None)
    time = _role_dimension(doc, "time", "Tid", ids)
    metric = _role_dimension(doc, "metric", "ContentsCode", ids)

    # Other dimensions: build the JSON text once per combination of their codes, then index it.
    others = sorted(name for name in ids if name not in {region, time, metric})
    if others:
        combos = np.array([""], dtype=object)
        combo_index = np.zeros(n, dtype=np.int64)
        for name in others:
            frags = np.array(
                [f"{json.dumps(name, ensure_ascii=False)}:{json.dumps(c, ensure_ascii=False)}" for c in codes[name]],
                dtype=object,
            )
            sep = "" if combos[0] == "" else ","
            combos = np.repeat(combos, len(frags)) + sep + np.tile(frags, len(combos))
            combo_index = combo_index * len(frags) + position[name]
        dimensions = ("{" + combos + "}")[combo_index]
    else:
        dimensions = np.full(n, "{}", dtype=object)

    # Unit and decimals hang on the metric's categories; px.decimals is the table-wide fallback.
    px_decimals = ((doc.get("extension") or {}).get("px") or {}).get("decimals")
    if metric is not None:
        units = (dims[metric].get("category") or {}).get("unit") or {}
        metric_codes = codes[metric]
        unit_by_code = np.array([(units.get(c) or {}).get("base") for c in metric_codes], dtype=object)
        dec_by_code = [(units.get(c) or {}).get("decimals", px_decimals) for c in metric_codes]
        unit = unit_by_code[position[metric]]
        decimals = pd.array(dec_by_code, dtype="Int64")[position[metric]]
    else:
        unit = np.full(n, None, dtype=object)
        decimals = pd.array([px_decimals] * n, dtype="Int64")

    return pd.DataFrame(
        {
            "table_id": np.full(n, table, dtype=object),
            "region_code": column_of(region),
            "period": column_of(time),
            "contents_code": column_of(metric),
            "dimensions": dimensions,
            "value": values,
            "status_symbol": status,
            "unit": unit,
            "decimals": decimals,
            "table_updated": np.full(n, doc.get("updated"), dtype=object),
        },
        columns=COLUMNS,
    )
