"""Harmonisation onto the 2024 structure, on real cases from the KLASS extract.

Populations and counts below are made-up test numbers, not statistics.
"""

from __future__ import annotations

import importlib.util
import math

import pandas as pd
import pytest

from orchestration.reference import crosswalk as harmonise
from tests.fakes.harmonise import harmonise_values
from tools.crosswalk_csv import write_crosswalk_csv
from repo_paths import REPO_ROOT

ROOT = REPO_ROOT
KLASS = ROOT / "data" / "reference" / "klass"


@pytest.fixture(scope="module")
def changes() -> list[harmonise.Change]:
    return harmonise.load_changes(KLASS / "131_changes.json")


@pytest.fixture(scope="module")
def years() -> dict[int, set[str]]:
    return harmonise.codes_by_year(KLASS / "131_codes.json")


@pytest.fixture(scope="module")
def crosswalk(changes, years) -> pd.DataFrame:
    return harmonise.build_crosswalk(changes, years)


def rows(cw: pd.DataFrame, year: int, code: str) -> pd.DataFrame:
    return cw[(cw["year"] == year) & (cw["reported_code"] == code)]


def targets(cw: pd.DataFrame, year: int, code: str) -> dict[str, str]:
    return dict(zip(rows(cw, year, code)["reference_code"], rows(cw, year, code)["weight_kind"]))


def test_codes_per_structure_year(years):
    assert sorted(years) == list(range(2008, 2026))
    counts = {y: len(years[y]) for y in (2008, 2012, 2013, 2017, 2018, 2019, 2020, 2023, 2024, 2025)}
    assert counts == {2008: 430, 2012: 429, 2013: 428, 2017: 426, 2018: 422, 2019: 422,
                      2020: 356, 2023: 356, 2024: 357, 2025: 357}


def test_every_code_of_every_year_lands_in_the_2024_structure(crosswalk, years):
    for year, codes in years.items():
        assert set(rows_of_year := crosswalk[crosswalk["year"] == year]["reported_code"]) == codes, year
        assert len(rows_of_year) >= len(codes)
    assert set(crosswalk["reference_code"]) == years[2024]
    assert list(crosswalk.columns) == ["year", "reported_code", "reference_code", "weight_kind", "split_flag"]


def test_sandnes_and_forsand_merge(crosswalk):
    assert targets(crosswalk, 2019, "1102") == {"1108": "merge"}
    assert targets(crosswalk, 2019, "1129") == {"1108": "merge"}
    counts = pd.DataFrame({"year": [2019, 2019], "code": ["1102", "1129"], "households": [412.0, 9.0]})
    out = harmonise_values(counts, crosswalk, ["households"])
    assert out.to_dict("records") == [{"year": 2019, "reference_code": "1108", "households": 421.0}]


def test_renumbering_is_identity(crosswalk):
    assert targets(crosswalk, 2020, "3005") == {"3301": "identity"}  # Drammen, Viken → Buskerud
    assert targets(crosswalk, 2023, "5401") == {"5501": "identity"}  # Tromsø
    assert targets(crosswalk, 2025, "3301") == {"3301": "identity"}
    assert targets(crosswalk, 2019, "0602") == {"3301": "merge"}  # with Nedre Eiker and Svelvik in 2020


def test_chains_compose(crosswalk):
    # Trøndelag 2018 renumbering, then the 2020 merger of Steinkjer and Verran.
    assert targets(crosswalk, 2017, "1702") == {"5006": "merge"}
    assert targets(crosswalk, 2017, "1724") == {"5006": "merge"}
    assert targets(crosswalk, 2019, "5004") == {"5006": "merge"}
    # Mosvik joined Inderøy (1756) in 2012, renumbered 5053 in 2018.
    assert targets(crosswalk, 2008, "1723") == {"5053": "merge"}
    assert targets(crosswalk, 2013, "1756") == {"5053": "identity"}
    # Vestfold: Nøtterøy + Tjøme → 0729 Færder (2018) → 3811 (2020) → 3911 (2024).
    assert targets(crosswalk, 2017, "0722") == {"3911": "merge"}
    assert targets(crosswalk, 2018, "0729") == {"3911": "identity"}
    # Snillfjord: 1613 (2017) → 5012 (2018) → split three ways in 2020.
    assert targets(crosswalk, 2017, "1613") == {"5055": "split", "5056": "split", "5059": "split"}
    assert rows(crosswalk, 2017, "1613")["split_flag"].all()


def test_alesund_2024_split_and_what_is_known_about_it(crosswalk):
    assert targets(crosswalk, 2023, "1507") == {"1508": "split", "1580": "split"}
    # 2024 restored the old Haram (1534) with its pre-2020 borders: no allocation key needed.
    assert targets(crosswalk, 2019, "1534") == {"1580": "identity"}
    for old in ("1504", "1523", "1529", "1546"):
        assert targets(crosswalk, 2019, old) == {"1508": "merge"}
    without = harmonise.build_crosswalk(harmonise.load_changes(KLASS / "131_changes.json"),
                                        KLASS / "131_codes.json", split_resolutions={})
    assert targets(without, 2019, "1534") == {"1508": "split", "1580": "split"}


def test_alesund_weights_sum_to_one(crosswalk):
    population = pd.DataFrame({"year": [2023, 2024, 2024], "code": ["1507", "1508", "1580"],
                               "population": [67_000.0, 58_000.0, 9_000.0]})
    weighted = harmonise.allocation_weights(crosswalk, population)
    split = rows(weighted, 2022, "1507")
    assert split["split_flag"].all()
    assert split["weight"].sum() == pytest.approx(1.0)
    assert dict(zip(split["reference_code"], split["weight"])) == pytest.approx(
        {"1508": 58 / 67, "1580": 9 / 67})
    assert set(split["weight_year"]) == {2024}
    assert rows(weighted, 2019, "1534")["weight"].tolist() == [1.0]


SNILLFJORD_POP = pd.DataFrame(
    [(2019, c, p) for c, p in {"1571": 1_500, "5011": 4_200, "5012": 1_000, "5013": 4_500,
                               "5016": 1_700, "5023": 3_900, "5024": 12_000}.items()]
    + [(2020, c, p) for c, p in {"5055": 5_850, "5056": 4_800, "5059": 18_050}.items()],
    columns=["year", "code", "population"],
)


def test_snillfjord_residual_weights(crosswalk):
    weighted = harmonise.allocation_weights(crosswalk, SNILLFJORD_POP)
    for year, code in ((2017, "1613"), (2019, "5012")):
        split = rows(weighted, year, code)
        got = dict(zip(split["reference_code"], split["weight"]))
        # residuals: Heim 5850−(1500+4200)=150, Hitra 4800−4500=300, Orkland 18050−17600=450
        assert got == pytest.approx({"5055": 150 / 900, "5056": 300 / 900, "5059": 450 / 900})
        assert set(split["weight_basis"]) == {"residual"} and set(split["weight_year"]) == {2020}
    shares = harmonise.allocation_weights(crosswalk, SNILLFJORD_POP, method="share")
    got = dict(zip(rows(shares, 2019, "5012")["reference_code"], rows(shares, 2019, "5012")["weight"]))
    assert got == pytest.approx({"5055": 5850 / 28700, "5056": 4800 / 28700, "5059": 18050 / 28700})


def test_residual_falls_back_to_shares_and_missing_is_nan(crosswalk):
    shrinking = SNILLFJORD_POP.copy()
    shrinking.loc[shrinking["code"] == "5056", "population"] = 4_400  # Hitra shrank: residual < 0
    split = rows(harmonise.allocation_weights(crosswalk, shrinking), 2019, "5012")
    assert set(split["weight_basis"]) == {"share"} and split["weight"].sum() == pytest.approx(1.0)
    nothing = harmonise.allocation_weights(crosswalk, SNILLFJORD_POP.iloc[:0])
    tysfjord = rows(nothing, 2019, "1850")
    assert tysfjord["weight"].map(math.isnan).all() and set(tysfjord["weight_basis"]) == {"missing"}


def test_split_counts_are_allocated_and_totals_kept(crosswalk):
    weighted = harmonise.allocation_weights(crosswalk, SNILLFJORD_POP)
    counts = pd.DataFrame({"year": [2019] * 4, "code": ["5012", "5013", "1571", "5011"],
                           "dwellings": [18.0, 60.0, 20.0, 70.0]})
    out = harmonise_values(counts, weighted, ["dwellings"]).set_index("reference_code")["dwellings"]
    assert out.to_dict() == pytest.approx({"5055": 90 + 3.0, "5056": 60 + 6.0, "5059": 9.0})
    assert out.sum() == pytest.approx(counts["dwellings"].sum())
    with pytest.raises(ValueError, match="without weights"):
        harmonise_values(counts, crosswalk, ["dwellings"])


def test_ratios_are_recomputed_not_averaged(crosswalk):
    data = pd.DataFrame({"year": [2019, 2019], "code": ["1102", "1129"],
                         "dwellings": [2_000.0, 50.0], "inhabitants": [80_000.0, 1_200.0]})
    data["per_1000"] = data["dwellings"] / data["inhabitants"] * 1000
    summed = harmonise_values(data, crosswalk, ["dwellings", "inhabitants"]).iloc[0]
    recomputed = summed["dwellings"] / summed["inhabitants"] * 1000
    assert recomputed == pytest.approx(2050 / 81200 * 1000)  # 25.25 per 1000
    assert data["per_1000"].mean() == pytest.approx((25 + 50 / 1.2) / 2)  # 33.3: wrong
    assert abs(recomputed - data["per_1000"].mean()) > 8


def test_unknown_codes_are_refused(crosswalk):
    with pytest.raises(ValueError, match="not in the crosswalk"):
        harmonise_values(pd.DataFrame({"year": [2020], "code": ["1102"], "n": [1.0]}),
                                   crosswalk, ["n"])  # 1102 no longer exists in 2020


def test_other_reference_dates(changes, years):
    cw2020 = harmonise.build_crosswalk(changes, {y: years[y] for y in range(2008, 2021)},
                                       reference_date="2020-01-01")
    assert targets(cw2020, 2019, "1102") == {"1108": "merge"}
    assert targets(cw2020, 2020, "1507") == {"1507": "identity"}
    with pytest.raises(ValueError, match="backwards"):
        harmonise.build_crosswalk(changes, {2024: years[2024]}, reference_date="2020-01-01")


def test_load_changes_accepts_rows_and_documents():
    rows_ = [{"oldCode": "1102", "oldName": "Sandnes", "newCode": "1108", "newName": "Sandnes",
              "changeOccurred": "2020-01-01"}]
    assert harmonise.load_changes(rows_) == harmonise.load_changes({"codeChanges": rows_})
    assert harmonise.load_changes(rows_)[0] == harmonise.Change("1102", "1108", "2020-01-01", "Sandnes", "Sandnes")


def test_crosswalk_csv_round_trip(crosswalk, tmp_path):
    weighted = harmonise.allocation_weights(crosswalk, SNILLFJORD_POP)
    path = write_crosswalk_csv(weighted, tmp_path / "crosswalk.csv")
    back = pd.read_csv(path, dtype=str, keep_default_na=False)
    assert list(back.columns) == harmonise.CROSSWALK_COLUMNS + harmonise.WEIGHT_COLUMNS
    first = back.iloc[0].to_dict()
    assert first["reported_code"] == "0101" and first["split_flag"] in {"true", "false"}
    assert len(back) == len(crosswalk)


def test_committed_extract_matches_the_build_script():
    spec = importlib.util.spec_from_file_location("build_klass_extract", ROOT / "scripts" / "build_klass_extract.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for name, text in module.build().items():
        assert (KLASS / name).read_text(encoding="utf-8") == text, f"{name} is stale: run the build script"
