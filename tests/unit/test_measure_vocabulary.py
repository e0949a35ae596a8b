"""Every measure name the source configs mint is in the vocabulary, dbt_project/seeds/measures.csv.

The configs under orchestration/config name the measures the loaders write (SSB ContentsCodes,
Husbanken's instruments × measures × purposes, the KMD survey, the programme questions); dbt then
tests every produced measure and every indicator's numerator and denominator against measures.csv.
This closes the loop on the Python side: a measure added to a config without a vocabulary row fails here.
"""

import csv
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "orchestration" / "config"
SEEDS = ROOT / "dbt_project" / "seeds"


def _config(name: str) -> dict:
    return yaml.safe_load((CONFIG / name).read_text(encoding="utf-8"))


def _seed(name: str) -> list[dict]:
    with open(SEEDS / name, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


VOCABULARY = {row["measure_id"] for row in _seed("measures.csv")}


def ssb_measures() -> set[str]:
    return set(_config("ssb_tables.yaml")["measures"])  # the catalogue is per measure


def husbanken_measures() -> set[str]:
    config = _config("husbanken_columns.yaml")
    suffixes = [""] + [f"_{p}" for p in config["purposes"] if p != "all"]  # the loader's purpose suffix
    return {f"husbanken.{instrument}.{measure}{suffix}"
            for instrument, spec in config["instruments"].items()
            for measure in spec["measures"] for suffix in suffixes}


def kmd_measures() -> set[str]:
    return {f"kmd.{m}" for m in _config("kmd_survey_columns.yaml")["measures"]} | {"kmd.answered"}


def programme_measures() -> set[str]:
    part = {"yes_no": "yes", "scale_1_5": "score", "number": "number"}
    names = set()
    for question, spec in _config("programme_questions.yaml")["questions"].items():
        names.add(f"programme.{question}.answered")
        if spec["kind"] in part:
            names.add(f"programme.{question}.{part[spec['kind']]}")
    return names


def test_ssb_tables_measures_are_in_the_vocabulary():
    assert ssb_measures() - VOCABULARY == set()


def test_husbanken_measures_are_in_the_vocabulary():
    assert husbanken_measures() - VOCABULARY == set()


def test_kmd_survey_measures_are_in_the_vocabulary():
    assert kmd_measures() - VOCABULARY == set()


def test_programme_question_measures_are_in_the_vocabulary():
    assert programme_measures() - VOCABULARY == set()


def test_name_mappings_list_exactly_what_the_configs_mint():
    # dbt names Husbanken and programme measures through these seeds (an inner join): a config name
    # missing here would drop data, an extra row is a stale name
    assert {r["measure_id"] for r in _seed("husbanken_measures.csv")} == husbanken_measures()
    assert {f"husbanken.{r['instrument']}.{r['measure']}" for r in _seed("husbanken_measures.csv")} == husbanken_measures()
    assert {r["measure_id"] for r in _seed("programme_measures.csv")} == programme_measures()
    assert {f"programme.{r['question_id']}.{r['part']}" for r in _seed("programme_measures.csv")} == programme_measures()


def test_indicators_use_vocabulary_measures():
    used = {row[c] for row in _seed("indicators.csv") for c in ("numerator_measure", "denominator_measure") if row[c]}
    assert used - VOCABULARY == set()



def test_additivity_is_said_once_and_agrees_with_how_months_make_a_year():
    # seeds/measures.csv `additive` is what int_measures_as_reported uses; the marts' national sums pick KOSTRA
    # counts by ssb_tables.yaml's `kind`, so the two must say the same of every SSB measure
    additive = {r["measure_id"]: r["additive"] == "true" for r in _seed("measures.csv")}
    kinds = {m: spec["kind"] for m, spec in _config("ssb_tables.yaml")["measures"].items()}
    disagree = {m: (kind, additive[m]) for m, kind in kinds.items() if (kind == "count") != additive[m]}
    assert not disagree, f"ssb_tables.yaml kind vs measures.csv additive: {disagree}"
    # an average per household has no yearly figure from months, and is not summed over municipalities either
    for row in _seed("husbanken_measures.csv"):
        assert row["months_to_year"] in {"sum", "mean", "none"}, row
        if row["months_to_year"] == "none":
            assert not additive[row["measure_id"]], row
        if row["months_to_year"] in {"sum", "mean"}:
            assert additive[row["measure_id"]], row
