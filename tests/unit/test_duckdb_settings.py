"""DuckDB's memory cap and threads have two readers: the loads and checks (orchestration/warehouse.py
`duckdb_settings`) and dbt (dbt_project/profiles.yml, which cannot import Python). Their defaults must agree,
or the memory budget of issue 19 (pipeline and dbt side by side under 1 GiB) silently changes for one of them."""

from __future__ import annotations

import re

import yaml
from repo_paths import REPO_ROOT

from orchestration.warehouse import duckdb_settings

ENV_DEFAULT = re.compile(r"env_var\('(?P<name>BOLIGSOSIAL_DUCKDB_\w+)',\s*'(?P<default>[^']*)'\)")


def test_dbt_profile_and_the_pipeline_share_duckdbs_defaults(monkeypatch):
    monkeypatch.delenv("BOLIGSOSIAL_DUCKDB_MEMORY_LIMIT", raising=False)
    monkeypatch.delenv("BOLIGSOSIAL_DUCKDB_THREADS", raising=False)
    profile = yaml.safe_load((REPO_ROOT / "dbt_project" / "profiles.yml").read_text(encoding="utf-8"))
    settings = profile["boligsosial"]["outputs"]["build"]["settings"]
    in_profile = {}
    for key, text in settings.items():
        match = ENV_DEFAULT.search(str(text))
        assert match, f"profiles.yml: settings.{key} does not read a BOLIGSOSIAL_DUCKDB_ variable with a default"
        in_profile[key] = (match["name"], match["default"])
    assert in_profile == {
        "memory_limit": ("BOLIGSOSIAL_DUCKDB_MEMORY_LIMIT", duckdb_settings()["memory_limit"]),
        "threads": ("BOLIGSOSIAL_DUCKDB_THREADS", duckdb_settings()["threads"]),
    }
