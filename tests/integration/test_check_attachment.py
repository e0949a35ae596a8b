"""A changed-only run reruns the checks on the assets downstream of a change (orchestration/runner.py), so a
suite must hang on an asset downstream of every table it reads: else a new release of one of them would
leave its check unrun (the bostøtte check on KOSTRA's asset missed a Husbanken-only run)."""

from __future__ import annotations

import dagster as dg

from orchestration.assets.quality import _target_key
from orchestration.definitions import defs
from orchestration.quality.suites import load_suites


def test_every_suite_hangs_on_an_asset_downstream_of_all_it_reads():
    graph = defs.resolve_asset_graph()
    keys = set(graph.get_all_asset_keys())
    wrong = {}
    for suite in load_suites():
        target = _target_key(suite, keys, "quality/findings")
        upstream = dg.AssetSelection.assets(target).upstream().resolve(graph)
        read = [dg.AssetKey(t.split(".")) for t in (suite.table, *suite.requires)]
        missed = [k.to_user_string() for k in read if k in keys and k not in upstream]
        if missed:
            wrong[f"{suite.name} on {target.to_user_string()}"] = missed
    assert not wrong, f"checks not downstream of tables they read: {wrong}"
