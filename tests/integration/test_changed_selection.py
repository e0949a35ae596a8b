"""A changed-only run rebuilds everything downstream of what changed (orchestration/runner.py). KLASS loads as
one multi-asset that cannot be split: a change of the municipality codes materializes its siblings (the
changes, the KOSTRA groups, the crosswalk) too, and what depends on those must be rebuilt as well, or the
marts stay on the previous crosswalk while the publication records the new KLASS as incorporated."""

from __future__ import annotations

import dagster as dg

from orchestration.changes import SOURCE_ASSETS
from orchestration.definitions import defs
from orchestration.runner import downstream_closure


def test_a_klass_change_rebuilds_what_depends_on_every_klass_table():
    graph = defs.resolve_asset_graph()
    roots = {dg.AssetKey(list(k)) for k in SOURCE_ASSETS["klass"]}
    selected = downstream_closure(graph, roots)
    for key in ("staging/stg_reference__municipality_crosswalk", "staging/stg_klass__changes",
                "intermediate/int_municipality_crosswalk", "marts/fct_indicator_value"):
        assert dg.AssetKey(key.split("/")) in selected, key


def test_every_source_selection_is_closed_downstream():
    graph = defs.resolve_asset_graph()
    for source, keys in SOURCE_ASSETS.items():
        selected = downstream_closure(graph, {dg.AssetKey(list(k)) for k in keys})
        below = set(dg.AssetSelection.assets(*selected).downstream().resolve(graph))
        assert below <= selected, f"{source}: {sorted(k.to_user_string() for k in below - selected)[:10]}"
