"""A changed-only run reruns the checks on the assets downstream of a change (orchestration/runner.py), so a
suite must hang on an asset downstream of every table it reads — its table, the tables it requires and those
its frame builder reads (KLASS's codes, the crosswalk): else a new release of one of them would leave its check
unrun (the bostøtte check on KOSTRA's asset missed a Husbanken-only run; the code checks on KOSTRA's, Husbanken's
and the survey's staging missed a KLASS-only run)."""

from __future__ import annotations

import dagster as dg

from orchestration.assets.quality import _target_key
from orchestration.definitions import defs
from orchestration.quality.frames import tables_read
from orchestration.quality.suites import load_suites
from orchestration.runner import downstream_closure


def test_every_suite_hangs_on_an_asset_a_change_of_any_table_it_reads_reaches():
    graph = defs.resolve_asset_graph()
    keys = set(graph.get_all_asset_keys())
    wrong = {}
    for suite in load_suites():
        target = _target_key(suite, keys, "quality/findings")
        read = [dg.AssetKey(t.split(".")) for t in tables_read(suite)]
        # the runner's own rule: what a changed-only run rebuilds when that table's asset changes
        missed = [k.to_user_string() for k in read if k in keys and target not in downstream_closure(graph, {k})]
        if missed:
            wrong[f"{suite.name} on {target.to_user_string()}"] = missed
    assert not wrong, f"checks a change of a table they read does not reach: {wrong}"


def test_the_code_checks_read_klass():
    """The rule above sees KLASS only if the builders say they read it."""
    by_name = {s.name: s for s in load_suites()}
    for name in ("kostra_municipality_codes", "husbanken_municipality_codes", "kmd_survey_municipality_codes",
                 "kostra_completeness", "kmd_survey_completeness"):
        assert "raw.klass_municipality_codes" in tables_read(by_name[name]), name
