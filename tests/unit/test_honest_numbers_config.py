"""The zero-filled Husbanken spine is declared per export in husbanken_columns.yaml; dbt reads the same
list from its var husbanken_absent_means_zero. They must agree, and every instrument must say."""

from __future__ import annotations

import csv

import yaml

from repo_paths import REPO_ROOT


def test_absent_means_zero_declared_per_export_and_mirrored_in_dbt():
    config = yaml.safe_load((REPO_ROOT / "orchestration/config/husbanken_columns.yaml").read_text(encoding="utf-8"))
    declared = {name: spec.get("absent_means_zero") for name, spec in config["instruments"].items()}
    assert all(isinstance(v, bool) for v in declared.values()), declared
    dbt_vars = yaml.safe_load((REPO_ROOT / "dbt_project/dbt_project.yml").read_text(encoding="utf-8"))["vars"]
    assert sorted(dbt_vars["husbanken_absent_means_zero"]) == sorted(k for k, v in declared.items() if v)


def test_suppression_intervals_follow_the_publishers_rules():
    with open(REPO_ROOT / "dbt_project/seeds/suppression_intervals.csv", encoding="utf-8") as f:
        rows = {(r["source"], r["status_symbol"], r["measure"]): (float(r["lower_bound"]), float(r["upper_bound"]))
                for r in csv.DictReader(f)}
    assert rows[("KOSTRA", ":", "*")] == (1, 2)        # housing cells under 3
    assert rows[("IPLOS", ":", "*")] == (1, 4)         # care cells under 5
    assert rows[("KOSTRA", ":", "care_dwelling_residents")] == (1, 4)
    assert rows[("Husbanken", "<4", "*")] == (1, 3)    # Husbanken's <4
