"""dbt reads unit tests only from a YAML file's top-level `unit_tests:`; one written inside a model's entry
is ignored without a word (int_municipality_kostra_group's never ran until this check)."""

from __future__ import annotations

import yaml
from repo_paths import REPO_ROOT


def test_no_unit_test_hides_inside_a_model_entry():
    hidden = []
    for path in sorted((REPO_ROOT / "dbt_project" / "models").rglob("*.yml")):
        for model in yaml.safe_load(path.read_text(encoding="utf-8")).get("models", []) or []:
            if "unit_tests" in model:
                hidden.append(f"{path.relative_to(REPO_ROOT)}: {model['name']}")
    assert not hidden, "move these unit tests to the file's top-level `unit_tests:`: " + ", ".join(hidden)
