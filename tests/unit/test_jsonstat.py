"""JSON-stat 2.0 parsing, on fixtures in the shape SSB serves (tests/fixtures/ssb)."""

from __future__ import annotations

import copy
import json
import math

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from orchestration.ingest.ssb.jsonstat import COLUMNS, JsonStatError, parse_jsonstat2, parse_jsonstat2_arrow
from repo_paths import FIXTURES as FIXTURE_ROOT
from repo_paths import SHARED_DIR

FIXTURES = FIXTURE_ROOT / "ssb"
SHARED_REAL = SHARED_DIR / "reference" / "ssb-real-responses"


def load(table: str) -> dict:
    return json.loads((FIXTURES / table / "data.json").read_text(encoding="utf-8"))


@pytest.fixture
def kostra() -> dict:
    return load("12008")


def test_kostra_rows_columns_and_order(kostra: dict) -> None:
    df = parse_jsonstat2(kostra)
    assert list(df.columns) == COLUMNS
    assert len(df) == math.prod(kostra["size"]) == len(kostra["value"])
    assert set(df["table_id"]) == {"12008"}  # from extension.px.tableid
    # Row-major, last dimension (Tid) fastest.
    first = df.iloc[:5][["region_code", "contents_code", "period"]].values.tolist()
    assert first == [
        ["0301", "KOSboligSper10000000", "2021"],
        ["0301", "KOSboligSper10000000", "2022"],
        ["0301", "KOSboligSper10000000", "2023"],
        ["0301", "KOSboligSper10000000", "2024"],
        ["0301", "KOSAndeltilgjeng0000", "2021"],
    ]
    assert df["value"].tolist()[:4] == kostra["value"][:4]
    assert (df["dimensions"] == "{}").all()
    assert set(df["table_updated"]) == {"2025-06-15T06:00:00Z"}


def test_kostra_missing_cells_keep_their_symbol_and_are_not_zero(kostra: dict) -> None:
    df = parse_jsonstat2(kostra)
    flagged = df[df["status_symbol"].notna()]
    assert set(flagged["status_symbol"]) == {".", "..", ":"}
    assert len(flagged) == len(kostra["status"])
    assert flagged["value"].isna().all()
    assert df["value"].isna().sum() == sum(v is None for v in kostra["value"])
    ceased = df[(df["region_code"] == "1507") & (df["period"] == "2024")]
    assert set(ceased["status_symbol"]) == {"."}
    suppressed = df[(df["region_code"] == "1856") & (df["contents_code"] == "KOStotmidlbo0000")]
    assert set(suppressed["status_symbol"]) == {":"} and suppressed["value"].isna().all()
    # A real zero stays a zero with no symbol.
    zero = df[(df["region_code"] == "0301") & (df["contents_code"] == "KOStotmidlbo0000") & (df["period"] == "2021")]
    assert zero["value"].tolist() == [0.0] and zero["status_symbol"].isna().all()


def test_kostra_units_and_decimals(kostra: dict) -> None:
    df = parse_jsonstat2(kostra).drop_duplicates("contents_code").set_index("contents_code")
    assert df.loc["KOSboligSper10000000", "unit"] == "boliger"
    assert df.loc["KOSboligSper10000000", "decimals"] == 1
    assert df.loc["KOSAndeltilgjeng0000", "unit"] == "prosent"
    assert df.loc["KOSAndeltilgjeng0000", "decimals"] == 0
    assert str(parse_jsonstat2(kostra)["decimals"].dtype) == "Int64"


def test_other_dimensions_go_to_sorted_json() -> None:
    doc = load("07459")
    df = parse_jsonstat2(doc, table_id="pop")
    assert len(df) == 24 and set(df["table_id"]) == {"pop"}
    assert df["region_code"].iloc[0] == "0301"
    assert df["dimensions"].iloc[0] == '{"Alder":"017","Kjonn":"1"}'
    assert df["dimensions"].iloc[2] == '{"Alder":"018","Kjonn":"1"}'  # Alder varies faster than Kjonn
    assert json.loads(df["dimensions"].iloc[-1]) == {"Alder": "018", "Kjonn": "2"}
    assert df["status_symbol"].isna().all()
    assert df["unit"].iloc[0] == "personer"


def test_trimmed_real_05300_fixture() -> None:
    doc = load("05300")
    df = parse_jsonstat2(doc)
    assert len(df) == 36 and df["region_code"].isna().all()
    assert df["dimensions"].iloc[0] == '{"Avstand1":"01","Kulturtilbud":"01"}'
    assert dict(df.loc[df["status_symbol"].notna(), "status_symbol"]) == {17: ".", 18: "..", 27: "..", 35: "."}
    assert df.loc[[17, 18, 27, 35], "value"].isna().all()


@pytest.mark.skipif(not SHARED_REAL.is_dir(), reason="../shared reference responses not present")
def test_real_05300_response_from_shared() -> None:
    doc = json.loads((SHARED_REAL / "v0_data_05300.json").read_text(encoding="utf-8"))
    df = parse_jsonstat2(doc)
    assert len(df) == 6 * 8 * 1 * 9 == len(doc["value"])
    assert df["table_id"].iloc[0] == "05300"
    assert df["status_symbol"].notna().sum() == len(doc["status"])
    assert df.loc[df["status_symbol"].notna(), "value"].isna().all()
    assert df["value"].isna().sum() == sum(v is None for v in doc["value"])
    assert df.loc[360, "status_symbol"] == ".." and df.loc[360, "period"] == "1991"
    # The trimmed fixture is a faithful cut of the real response.
    key = ["dimensions", "period"]
    trimmed = parse_jsonstat2(load("05300")).set_index(key)
    full = df.set_index(key).loc[trimmed.index]
    pd.testing.assert_series_equal(trimmed["value"], full["value"])
    pd.testing.assert_series_equal(trimmed["status_symbol"], full["status_symbol"])


def test_variants_index_list_status_list_and_string_sparse_values() -> None:
    doc = {
        "id": ["Region", "ContentsCode", "Tid"],
        "size": [2, 1, 2],
        "role": {"time": ["Tid"], "metric": ["ContentsCode"]},
        "dimension": {
            "Region": {"category": {"index": ["0301", "4601"]}},
            "ContentsCode": {"category": {"label": {"Personer": "Personer"}}},  # index omitted
            "Tid": {"category": {"index": {"2024": 1, "2023": 0}}},
        },
        "value": {"0": 5, "3": 7.5},
        "status": ["", "..", ":", None],
    }
    df = parse_jsonstat2(doc, "T")
    assert df["period"].tolist() == ["2023", "2024", "2023", "2024"]
    assert df["region_code"].tolist() == ["0301", "0301", "4601", "4601"]
    np.testing.assert_array_equal(df["value"].to_numpy(), [5.0, np.nan, np.nan, 7.5])
    assert df["status_symbol"].tolist()[1:3] == ["..", ":"]
    assert df["status_symbol"].isna().tolist() == [True, False, False, True]
    assert df["unit"].isna().all() and df["decimals"].isna().all()

    doc["status"] = ":"
    assert (parse_jsonstat2(doc, "T")["status_symbol"] == ":").all()


def test_arrow_cells_are_the_frame_s_cells_coded_with_missing_values_null(kostra: dict) -> None:
    """The loader's Arrow table: the same cells as the frame, each text once (dictionary-encoded), and a
    missing value null, not NaN, so DuckDB stores NULL for it."""
    cells = parse_jsonstat2_arrow(kostra)
    assert cells.column_names == COLUMNS
    for name in ("table_id", "region_code", "period", "contents_code", "dimensions", "status_symbol", "unit",
                 "table_updated"):
        assert pa.types.is_dictionary(cells[name].type), name
    regions = kostra["dimension"]["KOKkommuneregion0000"]["category"]["index"]
    assert cells["region_code"].chunk(0).dictionary.to_pylist() == sorted(regions, key=regions.get)
    missing = sum(v is None for v in kostra["value"])
    assert cells["value"].null_count == missing and not pa.compute.any(pa.compute.is_nan(cells["value"])).as_py()
    assert cells["status_symbol"].null_count == len(kostra["value"]) - len(kostra["status"])
    decoded = pd.DataFrame({name: cells[name].to_pylist() for name in COLUMNS})
    expected = parse_jsonstat2(kostra).astype(object).where(lambda f: f.notna(), None)
    pd.testing.assert_frame_equal(decoded.astype(object).where(lambda f: f.notna(), None), expected)


def test_a_status_symbol_must_be_text() -> None:
    doc = {"id": ["Tid"], "size": [2], "dimension": {"Tid": {"category": {"index": ["2023", "2024"]}}},
           "value": [1, None], "status": {"1": 5}}
    with pytest.raises(JsonStatError, match="JSON-stat table T"):
        parse_jsonstat2(doc, "T")


def test_no_region_time_or_metric_dimensions() -> None:
    doc = {"id": ["A"], "size": [2], "dimension": {"A": {"category": {"index": ["x", "y"]}}}, "value": [1, None]}
    df = parse_jsonstat2(doc, "T")
    assert df["region_code"].isna().all() and df["period"].isna().all() and df["contents_code"].isna().all()
    assert df["dimensions"].tolist() == ['{"A":"x"}', '{"A":"y"}']


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.pop("id"), "missing 'id'"),
        (lambda d: d.pop("size"), "missing 'size'"),
        (lambda d: d.pop("dimension"), "missing 'dimension'"),
        (lambda d: d.pop("value"), "missing 'value'"),
        (lambda d: d["value"].pop(), "values but the sizes multiply to 96"),
        (lambda d: d["size"].append(1), "3 dimension ids but 4 sizes"),
        (lambda d: d["dimension"].pop("Tid"), "not described"),
        (lambda d: d["dimension"]["Tid"]["category"]["index"].pop("2024"), "'Tid' has 3 categories but size says 4"),
        (lambda d: d.__setitem__("status", {"999": ":"}), "status position 999"),
        (lambda d: d["value"].__setitem__(0, "abc"), "values are not numeric"),
    ],
)
def test_malformed_documents_fail_clearly(kostra: dict, mutate, message: str) -> None:
    doc = copy.deepcopy(kostra)
    mutate(doc)
    with pytest.raises(JsonStatError, match="12008") as err:
        parse_jsonstat2(doc)
    assert message in str(err.value)


def test_not_an_object() -> None:
    with pytest.raises(JsonStatError, match="X"):
        parse_jsonstat2([1, 2], "X")  # type: ignore[arg-type]


def test_a_million_cells_parse_whole() -> None:
    regions = [f"{i:04d}" for i in range(500)]
    ages = [f"{a:03d}" for a in range(20)]
    years = [str(y) for y in range(2000, 2025)]
    sizes = [len(regions), len(ages), 4, len(years)]
    n = math.prod(sizes)
    values = np.arange(n, dtype=float).tolist()
    values[7] = None
    doc = {
        "id": ["KOKkommuneregion0000", "Alder", "ContentsCode", "Tid"],
        "size": sizes,
        "role": {"time": ["Tid"], "metric": ["ContentsCode"]},
        "dimension": {
            "KOKkommuneregion0000": {"category": {"index": {c: i for i, c in enumerate(regions)}}},
            "Alder": {"category": {"index": ages}},
            "ContentsCode": {"category": {"index": ["A", "B", "C", "D"], "unit": {"A": {"base": "x", "decimals": 0}}}},
            "Tid": {"category": {"index": years}},
        },
        "value": values,
        "status": {"7": ":"},
    }
    # Only that a million cells come out whole and in order: speed is measured, not asserted, in tests.
    df = parse_jsonstat2(doc, "big")
    assert len(df) == n == 1_000_000
    last = df.iloc[-1]
    assert (last["region_code"], last["contents_code"], last["period"]) == ("0499", "D", "2024")
    assert last["dimensions"] == '{"Alder":"019"}' and last["value"] == n - 1
    assert df.loc[7, "status_symbol"] == ":" and math.isnan(df.loc[7, "value"])


def test_statistics_years_of_the_cells_periods() -> None:
    """The loader's year filter (ingest/ssb/releases.py): a year per cell from its period's first four
    characters, NaN for a cell without a period or whose period names no year."""
    from orchestration.ingest.ssb.releases import statistics_years

    doc = {"id": ["Tid", "A"], "size": [4, 2],
           "dimension": {"Tid": {"category": {"index": ["2021", "2022M03", "2023K4", "xx"]}},
                         "A": {"category": {"index": ["a", "b"]}}},
           "value": list(range(8))}
    years = statistics_years(parse_jsonstat2_arrow(doc, "T")["period"])
    np.testing.assert_array_equal(years, [2021, 2021, 2022, 2022, 2023, 2023, np.nan, np.nan])
    no_time = {"id": ["A"], "size": [2], "dimension": {"A": {"category": {"index": ["a", "b"]}}}, "value": [1, 2]}
    assert np.isnan(statistics_years(parse_jsonstat2_arrow(no_time, "T")["period"])).all()
    empty = {"id": ["A"], "size": [0], "dimension": {"A": {"category": {"index": []}}}, "value": []}
    assert len(statistics_years(parse_jsonstat2_arrow(empty, "T")["period"])) == 0
    assert np.isnan(statistics_years(pa.chunked_array([pa.array([None, None], type=pa.string())]))).all()
