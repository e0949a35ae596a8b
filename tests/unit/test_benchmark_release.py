"""`make bench`'s one-release scenario: the revised SSB release it writes changes that year and nothing else."""

from __future__ import annotations

import importlib.util
import json
import shutil

from repo_paths import REPO_ROOT


def _benchmark():
    spec = importlib.util.spec_from_file_location("benchmark", REPO_ROOT / "scripts" / "benchmark.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_revised_release_is_newer_and_moves_only_its_year(tmp_path):
    from orchestration.ingest.ssb.jsonstat import parse_jsonstat2
    from orchestration.ingest.ssb.releases import demo_releases

    bench = _benchmark()
    table = tmp_path / "ssb" / bench.RELEASE_TABLE
    shutil.copytree(REPO_ROOT / "data" / "demo" / "ssb" / bench.RELEASE_TABLE, table)
    bench.revise_release(table, bench.RELEASE_YEAR)

    releases = demo_releases({"table_id": bench.RELEASE_TABLE}, tmp_path)
    assert releases[-1].origin.endswith("2026-12-01") and releases[-1].updated > releases[-2].updated
    for name, revised in releases[-1].documents.items():
        before = parse_jsonstat2(json.loads(releases[-2].documents[name]), bench.RELEASE_TABLE)
        after = parse_jsonstat2(json.loads(revised), bench.RELEASE_TABLE)
        keys = [c for c in before.columns if c not in ("value", "status", "table_updated")]
        joined = before.merge(after, on=keys, suffixes=("_before", "_after"), validate="one_to_one")
        moved = joined[joined.value_after.fillna(-1) != joined.value_before.fillna(-1)]
        assert len(joined) == len(before) == len(after) and len(moved) > 100
        assert set(moved.period) == {str(bench.RELEASE_YEAR)}
        assert ((moved.value_after - moved.value_before - 1).abs() < 1e-9).all()
        assert set(after.table_updated) == {releases[-1].updated}
