"""JSON-stat 2.0 → one row per cell, the shape Statistics Norway (SSB) serves.

`value` is row-major over the dimensions in `id` order (last dimension fastest). Missing cells are
`null` with a symbol in `status` (`.` not applicable, `..` not available, `:` confidential, `...` not yet
available, `-` nil): the symbol is kept and the value stays missing (null; NaN in the pandas frame),
because a suppressed cell is not a zero.

The columns are fixed (see `COLUMNS`) so every SSB table lands in one long raw table: the region,
time and metric dimensions get their own columns, all other dimensions go into `dimensions` as a
compact JSON object with sorted keys (`{"Alder":"080","Kjonn":"2"}`, `{}` when there are none).
The cells are built as an Arrow table (`parse_jsonstat2_arrow`), each coded column dictionary-encoded
from the cells' positions, so no Python object is made per cell and DuckDB loads the table as it is;
`parse_jsonstat2` gives the same cells as a pandas frame.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

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


SCHEMA = pa.schema([(name, pa.float64() if name == "value" else pa.int64() if name == "decimals" else pa.string())
                    for name in COLUMNS])


def empty_frame() -> pd.DataFrame:
    """A frame with the parser's columns and no rows (for a selection that matched nothing)."""
    frame = pd.DataFrame({c: pd.Series([], dtype=object) for c in COLUMNS})
    frame["value"] = frame["value"].astype(float)
    frame["decimals"] = frame["decimals"].astype("Int64")
    return frame


def coded(indices: np.ndarray, codes: Sequence[str | None]) -> pa.DictionaryArray:
    """A text column from each cell's position among `codes`: one index per cell, each text once; a cell
    whose code is None is null."""
    dictionary = pa.array(codes, type=pa.string())
    missing = np.flatnonzero(dictionary.is_null().to_numpy(zero_copy_only=False))
    return pa.DictionaryArray.from_arrays(np.asarray(indices, dtype=np.int32), dictionary,
                                          mask=np.isin(indices, missing) if len(missing) else None)


def constant(value: Any, n: int) -> pa.Array:
    """A column of one value (text once, with an index per cell)."""
    if value is None or isinstance(value, str):
        return coded(np.zeros(n, dtype=np.int32), [value])
    return pa.repeat(value, n)


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


def _status(table: str, status: Any, n: int) -> pa.Array:
    """Each cell's symbol (null where it has none): a Python object per flagged cell, none per other cell."""
    if status is None:
        return constant(None, n)
    if isinstance(status, str):
        return constant(status or None, n)
    if isinstance(status, Mapping):
        try:
            positions = np.fromiter((int(key) for key in status), dtype=np.int64, count=len(status))
        except ValueError:
            bad = next(key for key in status if not _is_int(key))
            raise JsonStatError(f"JSON-stat table {table}: status key {bad!r} is not a position") from None
        outside = positions[(positions < 0) | (positions >= n)]
        if len(outside):
            raise JsonStatError(f"JSON-stat table {table}: status position {outside[0]} lies outside 0..{n - 1}")
        symbols = list(status.values())
    elif isinstance(status, Sequence):
        if len(status) == 1:  # JSON-stat: a one-element list applies to every cell
            return coded(np.zeros(n, dtype=np.int32), [status[0] or None])
        if len(status) != n:
            raise JsonStatError(f"JSON-stat table {table}: {len(status)} status entries for {n} values")
        positions, symbols = np.arange(n), list(status)
    else:
        raise JsonStatError(f"JSON-stat table {table}: 'status' of type {type(status).__name__}")
    # Index 0 is "no symbol"; each distinct symbol gets the next index ("" and null count as none).
    index: dict[Any, int] = {None: 0, "": 0}
    indices = np.zeros(n, dtype=np.int32)
    indices[positions] = np.fromiter((index.setdefault(symbol, len(index) - 1) for symbol in symbols),
                                     dtype=np.int32, count=len(symbols))
    return coded(indices, [None] + [symbol for symbol in index if symbol not in (None, "")])


def _is_int(key: str) -> bool:
    try:
        int(key)
    except ValueError:
        return False
    return True


def _role_dimension(doc: Mapping[str, Any], role: str, fallback: str, ids: list[str]) -> str | None:
    names = (doc.get("role") or {}).get(role) or []
    for name in names:
        if name in ids:
            return name
    return fallback if fallback in ids else None


def _decimals(table: str, value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 20:
        raise JsonStatError(f"JSON-stat table {table}: 'decimals' must be a whole number 0–20, not {value!r}")
    return value


def _updated(table: str, value: Any) -> str | None:
    if value is not None and not isinstance(value, str):
        raise JsonStatError(f"JSON-stat table {table}: 'updated' must be a date-time text, not {value!r}")
    return value


def parse_jsonstat2(doc: Mapping[str, Any], table_id: str | None = None) -> pd.DataFrame:
    """One row per cell of a JSON-stat 2.0 dataset, columns as in `COLUMNS`, in the document's order:
    `parse_jsonstat2_arrow`'s cells as a pandas frame (text columns decoded, `decimals` as Int64)."""
    cells = parse_jsonstat2_arrow(doc, table_id)
    if cells.num_rows == 0:
        return empty_frame()
    decoded = pa.table([column.cast(field.type) for field, column in zip(SCHEMA, cells.columns)], schema=SCHEMA)
    frame = decoded.to_pandas(types_mapper={pa.int64(): pd.Int64Dtype()}.get)
    for name in COLUMNS:  # a column with no value at all (a table without a region) stays None, as pandas makes it
        if decoded[name].null_count == len(frame) and pa.types.is_string(decoded[name].type):
            frame[name] = pd.Series([None] * len(frame), dtype=object)
    return frame


def parse_jsonstat2_arrow(doc: Mapping[str, Any], table_id: str | None = None) -> pa.Table:
    """One row per cell of a JSON-stat 2.0 dataset as an Arrow table, columns as in `COLUMNS`, in the
    document's order; the text columns dictionary-encoded, a missing value null (never 0 or NaN).

    Raises JsonStatError for anything that is not such a dataset; a shape the checks below do not name
    (found by the property tests) is still a JsonStatError, never a crash or a partial frame.
    """
    try:
        return _parse(doc, table_id)
    except JsonStatError:
        raise
    except (TypeError, AttributeError, ValueError, KeyError, IndexError, OverflowError, pa.ArrowException) as err:
        table = table_id or "?"
        raise JsonStatError(f"JSON-stat table {table}: not a JSON-stat 2.0 dataset ({type(err).__name__}: "
                            f"{str(err)[:200]})") from err


def cell_positions(ids: Sequence[str], sizes: Sequence[int]) -> dict[str, np.ndarray]:
    """Each cell's position along each dimension, in the order of `value`: row-major, the last dimension
    fastest (JSON-stat 2.0)."""
    n = int(np.prod(sizes, dtype=np.int64)) if sizes else 1
    strides, stride = {}, 1
    for name, size in zip(reversed(ids), reversed(sizes)):
        strides[name] = stride
        stride *= size
    cells = np.arange(n, dtype=np.int64)
    return {name: (cells // strides[name]) % size for name, size in zip(ids, sizes)}


def _parse(doc: Mapping[str, Any], table_id: str | None) -> pa.Table:
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
    if not all(isinstance(name, str) for name in ids) or len(set(ids)) != len(ids):
        raise JsonStatError(f"JSON-stat table {where}: 'id' must list distinct dimension names: {ids!r}"[:300])
    if not isinstance(doc.get("role") or {}, Mapping):
        raise JsonStatError(f"JSON-stat table {where}: 'role' must be an object")
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
        return SCHEMA.empty_table()

    position = cell_positions(ids, sizes)

    def column_of(name: str | None) -> pa.Array:
        return constant(None, n) if name is None else coded(position[name], codes[name])

    region = next((name for name in REGION_DIMENSIONS if name in ids), None)
    time = _role_dimension(doc, "time", "Tid", ids)
    metric = _role_dimension(doc, "metric", "ContentsCode", ids)

    # Other dimensions: the JSON text once per combination of their codes, each cell its combination's index.
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
        dimensions = coded(combo_index, list("{" + combos + "}"))
    else:
        dimensions = constant("{}", n)

    # Unit and decimals hang on the metric's categories; px.decimals is the table-wide fallback.
    extension = doc.get("extension") or {}
    px = extension.get("px") if isinstance(extension, Mapping) else None
    px_decimals = px.get("decimals") if isinstance(px, Mapping) else None
    if metric is not None:
        units = (dims[metric].get("category") or {}).get("unit") or {}
        metric_codes = codes[metric]
        unit = coded(position[metric], [(units.get(c) or {}).get("base") for c in metric_codes])
        dec_by_code = [_decimals(where, (units.get(c) or {}).get("decimals", px_decimals)) for c in metric_codes]
        decimals = pa.array(dec_by_code, type=pa.int64()).take(pa.array(position[metric]))
    else:
        unit = constant(None, n)
        table_decimals = _decimals(where, px_decimals)
        decimals = pa.repeat(pa.scalar(table_decimals, pa.int64()), n)

    return pa.table(
        [constant(table, n), column_of(region), column_of(time), column_of(metric), dimensions,
         pa.array(values, type=pa.float64(), from_pandas=True),  # NaN (a missing cell) → null
         status, unit, decimals, constant(_updated(where, doc.get("updated")), n)],
        names=COLUMNS,
    )
