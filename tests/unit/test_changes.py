"""Issue 19: which inputs changed since the last publication, and what that makes a run rebuild."""

from orchestration import changes
from orchestration.changes import Fingerprint

SOURCES = {"ssb": "s1", "klass": "k1", "husbanken": "kept:h1", "programme_reports": "p1", "kmd_survey": "m1",
           "programme_list": "l1", "dwelling_register": "d1", "followup_register": "f1", "quality_date": "2026-11-23"}
CODE = {"python": "py1", "config": "c1", "expectations": "e1", "dbt_project": "dp1", "mode": "demo", "serve": "sv1"}
NODES = {"model.boligsosial.a": "a1", "test.boligsosial.not_null_a_x": "t1"}
MANIFEST = {"nodes": {"model.boligsosial.a": {"resource_type": "model"},
                      "test.boligsosial.not_null_a_x": {"resource_type": "test",
                                                        "depends_on": {"nodes": ["model.boligsosial.a"]}}}}


def fp(sources=None, code=None, nodes=None) -> Fingerprint:
    return Fingerprint({**SOURCES, **(sources or {})}, {**CODE, **(code or {})}, {**NODES, **(nodes or {})})


def test_nothing_changed_is_nothing_to_do():
    plan = changes.diff(fp(), Fingerprint.from_json(fp().to_json()), MANIFEST)
    assert plan.nothing_changed and not plan.roots
    assert "raw/ssb_observations not reloaded: source ssb s1 as published" in changes.unchanged_reasons(plan)


def test_no_record_builds_everything():
    plan = changes.diff(fp(), None, MANIFEST)
    assert plan.everything and not plan.nothing_changed


def test_a_changed_source_selects_its_assets_only():
    plan = changes.diff(fp({"husbanken": "kept:h2"}), fp(), MANIFEST)
    assert not plan.everything
    assert plan.roots == {("raw", "husbanken_instruments")}
    assert [str(c) for c in plan.changes] == ["source husbanken: kept:h1 → kept:h2"]


def test_a_file_in_the_data_teams_inbox_is_a_change_and_is_recorded_as_consumed():
    now = fp({"husbanken": "kept:h1 new:x9"})
    plan = changes.diff(now, fp(), MANIFEST)
    assert plan.roots == {("raw", "husbanken_instruments")}
    assert now.recordable().sources["husbanken"] == "kept:h1"


def test_python_code_or_configuration_rebuilds_everything():
    for part in ("python", "config", "expectations", "dbt_project", "mode"):
        assert changes.diff(fp(code={part: "new"}), fp(), MANIFEST).everything, part


def test_a_changed_dbt_test_reruns_the_model_it_tests():
    plan = changes.diff(fp(nodes={"test.boligsosial.not_null_a_x": "t2"}), fp(), MANIFEST)
    assert plan.dbt_nodes == {"test.boligsosial.not_null_a_x"}
    assert changes.dbt_unique_ids_to_models(MANIFEST, plan.dbt_nodes) == {"model.boligsosial.a"}


def test_a_backfill_forces_ssb(monkeypatch):
    monkeypatch.setattr(changes, "current", lambda: (fp(), MANIFEST))
    monkeypatch.setattr(changes, "recorded", lambda warehouse=None: fp())
    plan = changes.plan_run(force_sources=("ssb",))
    assert plan.roots == {("raw", "ssb_observations")} and not plan.nothing_changed


def test_gx_starts_with_a_run_that_loads_sources_but_not_ssb_and_validates_a_suite(monkeypatch):
    """runner: such a run starts GX's process before Dagster's run; one that loads SSB (the largest peak)
    leaves it to its loads, and a job without GX checks (the monthly Husbanken job) starts none."""
    from orchestration import runner
    from orchestration.quality import worker

    events = []
    monkeypatch.setattr(changes, "recorded", lambda warehouse=None: fp())
    monkeypatch.setattr(worker, "start", lambda: events.append("gx started"))
    monkeypatch.setattr(runner, "_run", lambda job, *args, **kwargs: events.append(f"run {job}"))

    def run(job: str, sources: dict) -> list[str]:
        events.clear()
        monkeypatch.setattr(changes, "plan_run", lambda **_: changes.diff(fp(sources), fp(), MANIFEST))
        runner._planned_run(job, None, True, None, True, ())
        return list(events)

    assert run("full_pipeline", {"husbanken": "kept:h2"}) == ["gx started", "run full_pipeline"]
    assert run("inbox_load", {"kmd_survey": "m2"}) == ["gx started", "run inbox_load"]
    assert run("full_pipeline", {"husbanken": "kept:h2", "ssb": "s2"}) == ["run full_pipeline"]
    assert run("husbanken_monthly", {"husbanken": "kept:h2"}) == ["run husbanken_monthly"]
    assert run("kostra_release", {"husbanken": "kept:h2"}) == ["run kostra_release"]


def test_a_run_names_the_first_ten_changes_and_counts_the_rest():
    many = {f"model.boligsosial.m{i:03}": "v1" for i in range(269)}
    plan = changes.diff(fp(nodes={k: "v2" for k in many}), fp(nodes=many), MANIFEST)
    lines = plan.summary_lines()
    assert len(plan.changes) == 269 and len(lines) == 11
    assert lines[0] == "  dbt model.boligsosial.m000: v1 → v2"
    assert lines[-1] == "  … and 259 more (259 of them dbt nodes)"
    few = changes.diff(fp({"ssb": "s2"}), fp(), MANIFEST)
    assert few.summary_lines() == ["  source ssb: s1 → s2"]


def test_a_rejected_file_with_many_problems_names_five_and_counts_the_rest():
    from orchestration.ingest.files.inbox import FileOutcome, ImportReport

    problems = [f"husbanken/x.xlsx: row {n}, column \"Verdi\": not a number" for n in range(2, 10)]
    report = ImportReport("husbanken", rejected=[FileOutcome("husbanken/x.xlsx", "rejected", "c", "", None, problems)])
    [line] = report.rejections()
    assert line.startswith("rejected husbanken/x.xlsx: husbanken/x.xlsx: row 2, column") and "row 6," in line
    assert "row 7," not in line and line.endswith(" (+3 more)")


def test_a_new_file_in_an_inbox_is_visible_in_the_change_line():
    before, now = "kept:08e7147d75f26589", "kept:08e7147d75f26589 new:1234abcd5678ef90"
    [change] = changes.diff(fp({"husbanken": now}), fp({"husbanken": before}), MANIFEST).changes
    assert str(change) == f"source husbanken: {before} → {now}"
