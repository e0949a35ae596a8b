"""The quality machinery without the pipeline: GX findings, the follow-up register, the findings
lifecycle and the digest log. Real DuckDB files and real Great Expectations, no mocks. The configuration
alone (suites, thresholds, the register's CSV, the calendar): unit/test_quality_config.py."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import json
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from orchestration.quality import store
from orchestration.quality.config import load_quality_config, resolve_placeholders
from orchestration.quality.gx import run_suite
from orchestration.quality.suites import Suite, SuiteResult, load_suites, parse_suite
from repo_paths import REPO_ROOT

CONFIG = load_quality_config()
STATUSES = CONFIG["followup"]["statuses"]


@pytest.fixture
def con(tmp_path: Path):
    connection = duckdb.connect(str(tmp_path / "wh.duckdb"))
    yield connection
    connection.close()


# ------------------------------------------------------------------------------------------ suites


def test_definitions_do_not_import_great_expectations():
    code = ("import sys; import orchestration.definitions; "
            "sys.exit(1 if 'great_expectations' in sys.modules else 0)")
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]


def test_an_extra_expectations_dir_adds_a_blocking_check(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    import dagster as dg

    from orchestration.assets import quality

    (tmp_path / "impossible.yml").write_text(
        "name: impossible\ntable: staging.stg_ssb__kostra_values\nseverity: ERROR\n"
        "expectations:\n  - type: expect_column_values_to_be_between\n    kwargs: {column: year, max_value: 0}\n",
        encoding="utf-8")
    monkeypatch.setenv("BOLIGSOSIAL_EXTRA_EXPECTATIONS", str(tmp_path))

    @dg.asset(key=["staging", "stg_ssb__kostra_values"])
    def staged():
        return None

    checks = quality.build_checks([staged])
    by_name = {spec.name: spec for c in checks for spec in c.check_specs}
    assert "gx_impossible" in by_name
    assert by_name["gx_impossible"].blocking
    assert by_name["gx_impossible"].asset_key == dg.AssetKey(["staging", "stg_ssb__kostra_values"])


# ------------------------------------------------------------------------------------ GX findings


def _kostra(con, rows):
    con.execute("create schema if not exists staging")
    frame = pd.DataFrame(rows, columns=["municipality_code", "year", "measure", "measure_kind", "value"])
    con.register("_rows", frame)
    con.execute("create or replace table staging.kostra as select * from _rows")
    con.unregister("_rows")


def test_unexpected_rows_become_findings_with_observed_expected_and_a_stable_id(con):
    _kostra(con, [
        ("0301", 2020, "dwellings_total", "count", 100.0), ("0301", 2020, "dwellings_private_disposal", "count", 20.0),
        ("0301", 2020, "dwellings_user_owned_disposal", "count", 25.0),   # user-owned > private: tilvisning < 0
        ("1103", 2020, "dwellings_total", "count", 50.0), ("1103", 2020, "dwellings_private_disposal", "count", 60.0),
        ("1103", 2020, "dwellings_user_owned_disposal", "count", 5.0),    # private > total
    ])
    suite = parse_suite({
        "name": "s13", "table": "staging.kostra", "severity": "WARNING",
        "frame": {"builder": "kostra_wide", "params": {
            "table": "staging.kostra",
            "measures": ["dwellings_total", "dwellings_private_disposal", "dwellings_user_owned_disposal"],
            "derived": {"tilvisningsboliger": "dwellings_private_disposal - dwellings_user_owned_disposal"}}},
        "expectations": [
            {"id": "private_gt_total", "type": "expect_column_pair_values_a_to_be_greater_than_b",
             "kwargs": {"column_A": "dwellings_total", "column_B": "dwellings_private_disposal", "or_equal": True},
             "finding": {"measure": "dwellings_private_disposal", "observed": "dwellings_private_disposal",
                         "expected": "dwellings_total", "message": "{dwellings_private_disposal} > {dwellings_total}"}},
            {"id": "tilvisning_negative", "type": "expect_column_values_to_be_between",
             "kwargs": {"column": "tilvisningsboliger", "min_value": 0},
             "finding": {"measure": "tilvisningsboliger", "observed": "tilvisningsboliger"}},
            {"id": "needs_missing_column", "type": "expect_column_values_to_not_be_null", "kwargs": {"column": "nope"}},
        ]}, CONFIG)
    result = run_suite(con, suite, CONFIG)
    assert not result.success
    by_id = {f["finding_id"]: f for f in result.findings}
    assert set(by_id) == {"private_gt_total:1103:2020:dwellings_private_disposal",
                          "tilvisning_negative:0301:2020:tilvisningsboliger"}
    f = by_id["private_gt_total:1103:2020:dwellings_private_disposal"]
    assert (f["observed"], f["expected"], f["deviation"], f["severity"]) == (60.0, 50.0, 10.0, "WARNING")
    assert f["message"] == "60 > 50"
    assert by_id["tilvisning_negative:0301:2020:tilvisningsboliger"]["observed"] == -5.0
    assert any("nope" in n for n in result.notes)          # a missing column is said, not a crash
    assert sorted(result.kinds) == ["private_gt_total", "tilvisning_negative"]


def test_a_suite_reads_only_the_columns_it_mentions_and_finds_the_same(con):
    con.execute("create schema raw")
    con.execute("create table raw.t (municipality_code varchar, year integer, measure varchar, value double, "
                "status_symbol varchar, landed_path varchar)")
    con.execute("insert into raw.t values ('0301', 2020, 'a', 5, '..', '/landing/f.csv'), "
                "('0301', 2021, 'a', null, '..', '/landing/f.csv'), ('1103', 2020, 'a', 7, null, '/landing/f.csv')")
    suite = parse_suite({"name": "t", "table": "raw.t", "severity": "ERROR", "expectations": [
        {"id": "value_with_symbol", "type": "expect_column_values_to_be_null", "kwargs": {"column": "value"},
         "where": "status_symbol in ['..']", "finding": {"observed": "value", "message": "{value} «{status_symbol}»"}}]},
        CONFIG)
    from orchestration.quality.frames import only_needed
    from orchestration.quality.gx import referenced_names

    sql = only_needed(con, "select * from raw.t", referenced_names(suite))
    assert [d[0] for d in con.execute(f"select * from ({sql}) as q limit 0").description] == [
        "municipality_code", "year", "measure", "value", "status_symbol"]   # not the provenance column
    result = run_suite(con, suite, CONFIG)
    assert [(f["finding_id"], f["observed"], f["message"]) for f in result.findings] == [
        ("value_with_symbol:0301:2020:a", 5.0, "5 «..»")]
    assert result.rows == 3


def test_a_validated_frame_is_not_kept_after_its_suite():
    """Steps share one process: GX kept every batch its reused data source had loaded, so each validated frame
    stayed in memory for the rest of the run (issue 19). The same suite twice; both frames must be freed."""
    import gc
    import weakref

    from orchestration.quality.gx import _gx_results

    specs = [{"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "value"}}]
    for _ in range(2):
        frame = pd.DataFrame({"value": [1.0, None, 3.0]})
        [result] = _gx_results(frame, "kept", specs)
        assert not result.success and result.result["unexpected_count"] == 1
        alive = weakref.ref(frame)
        del frame, result
        gc.collect()
        assert alive() is None, "GX still holds the validated frame"


def test_a_missing_table_is_skipped_not_a_crash(con):
    suite = parse_suite({"name": "k", "table": "raw.kmd_survey", "severity": "ERROR",
                         "expectations": [{"type": "expect_column_values_to_not_be_null",
                                           "kwargs": {"column": "x"}}]}, CONFIG)
    result = run_suite(con, suite, CONFIG)
    assert result.success and result.skipped == "skipped: raw.kmd_survey not present"


def test_schema_types_are_checked_as_duckdb_types(con):
    con.execute("create schema raw; create table raw.t (municipality_code integer, value double)")
    suite = parse_suite({"name": "types", "table": "raw.t", "severity": "ERROR",
                         "schema": {"municipality_code": "VARCHAR", "value": "NUMERIC", "year": "INTEGER|BIGINT"},
                         "expectations": []}, CONFIG)
    result = run_suite(con, suite, CONFIG)
    assert not result.success
    assert {f["finding_id"] for f in result.findings} == {"schema.types:-:-:municipality_code", "schema.types:-:-:year"}


# --------------------------------------------------------------------------------- the register


def _write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_text(text, encoding=encoding)
    return path


def test_an_invalid_register_keeps_the_previous_one(con, tmp_path: Path):
    path = _write(tmp_path / "r.csv", "finding_id,status,deadline\na:1,contacted,2018-10-30\n")
    assert store.load_register(con, path, STATUSES).loaded
    _write(path, "finding_id,status,deadline\na:1,contacted,2018-10-30\na:2,bogus,\n")
    load = store.load_register(con, path, STATUSES)
    assert not load.loaded and load.errors == ["row 3, column status: unknown status 'bogus' "
                                               "(allowed: new, contacted, explained, resolved)"]
    assert "previous register is kept" in load.message
    assert con.execute("select finding_id, status from quality.followup_register").fetchall() == [("a:1", "contacted")]
    path.write_bytes("finding_id;status\r\na:1;contacted\r\na:2;ny\x81\r\n".encode("latin-1"))
    load = store.load_register(con, path, STATUSES)  # a damaged save: refused, the run goes on
    assert not load.loaded and load.errors[0].startswith("row 3: byte 0x81 is neither UTF-8 nor Windows-1252")
    assert con.execute("select finding_id, status from quality.followup_register").fetchall() == [("a:1", "contacted")]
    path.unlink()
    load = store.load_register(con, path, STATUSES)
    assert not load.loaded and con.execute("select count(*) from quality.followup_register").fetchone()[0] == 1


# ---------------------------------------------------------------------------- findings lifecycle


def _observe(con, run_id: str, deviations: dict[str, float], skipped: bool = False) -> None:
    suite = Suite("yoy_jumps", "staging.stg_ssb__kostra_values", "WARNING", [])
    findings = [{"finding_id": f"yoy_drop:{code}:2022:dwellings_wheelchair", "kind": "yoy_drop", "severity": "WARNING",
                 "municipality_code": code, "year": 2022, "measure": "dwellings_wheelchair", "observed": 100 + d,
                 "expected": 100.0, "deviation": d, "relative_deviation": d / 100, "message": "",
                 "check_name": "gx_yoy_jumps", "table_name": suite.table} for code, d in deviations.items()]
    result = SuiteResult(suite, not findings, 2, [], 10, findings, [] if skipped else ["yoy_drop", "yoy_rise"],
                         "skipped: x not present" if skipped else None)
    store.record_check(con, run_id, result)


def _merge(con, run_id: str, today: dt.date = dt.date(2026, 1, 1)):
    return store.merge_findings(con, run_id, CONFIG, {"3449": "Sør-Aurdal", "1112": "Lund"}, today=today)


def test_findings_carry_first_seen_resolve_reopen_and_worsen_once(con):
    _observe(con, "r1", {"3449": -60.0, "1112": -50.0})
    entries = _merge(con, "r1")
    assert entries.counts == {"new": 2, "worsened": 0, "resolved": 0, "overdue": 0}
    first_seen = dict(con.execute("select finding_id, first_seen from quality.findings").fetchall())
    row = con.execute("select municipality_name, status, followup_status from quality.findings "
                      "where municipality_code = '3449'").fetchone()
    assert row == ("Sør-Aurdal", "open", "new")

    _observe(con, "r2", {"3449": -60.0, "1112": -50.0})             # nothing changed
    assert _merge(con, "r2").counts == {"new": 0, "worsened": 0, "resolved": 0, "overdue": 0}
    assert dict(con.execute("select finding_id, first_seen from quality.findings").fetchall()) == first_seen

    _observe(con, "r3", {"3449": -63.0, "1112": -80.0})             # +5 % (below 10 %) and +60 %
    entries = _merge(con, "r3")
    assert list(entries.worsened.finding_id) == ["yoy_drop:1112:2022:dwellings_wheelchair"]
    assert entries.worsened.iloc[0]["previous_deviation"] == -50.0
    _observe(con, "r4", {"3449": -63.0, "1112": -80.0})             # worsened once, not every run
    assert _merge(con, "r4").counts["worsened"] == 0

    _observe(con, "r5", {"3449": -63.0}, skipped=True)              # check skipped: nothing resolves
    assert _merge(con, "r5").counts["resolved"] == 0
    _observe(con, "r6", {"3449": -63.0})                            # 1112 no longer observed
    entries = _merge(con, "r6")
    assert list(entries.resolved.finding_id) == ["yoy_drop:1112:2022:dwellings_wheelchair"]
    status, resolved_at = con.execute("select status, resolved_at from quality.findings "
                                      "where municipality_code = '1112'").fetchone()
    assert status == "resolved" and resolved_at is not None

    _observe(con, "r7", {"3449": -63.0, "1112": -80.0})             # back again: reported as new
    entries = _merge(con, "r7")
    assert list(entries.new.finding_id) == ["yoy_drop:1112:2022:dwellings_wheelchair"]
    assert con.execute("select first_seen from quality.findings where municipality_code = '1112'"
                       ).fetchone()[0] == first_seen["yoy_drop:1112:2022:dwellings_wheelchair"]
    assert con.execute("select count(*) from quality.digest_log").fetchone()[0] == 5


def test_overdue_follow_ups_are_reported_once_per_deadline(con, tmp_path: Path):
    fid = "yoy_drop:3449:2022:dwellings_wheelchair"
    register = _write(tmp_path / "r.csv", f"finding_id,status,owner,deadline\n{fid},contacted,Husbanken,2025-06-30\n")
    store.load_register(con, register, STATUSES)
    _observe(con, "r1", {"3449": -60.0})
    entries = _merge(con, "r1")
    assert list(entries.overdue.finding_id) == [fid]
    assert con.execute("select followup_status, followup_owner from quality.findings").fetchone() == \
        ("contacted", "Husbanken")
    _observe(con, "r2", {"3449": -60.0})
    assert _merge(con, "r2").counts["overdue"] == 0
    _write(register, f"finding_id,status,owner,deadline\n{fid},contacted,Husbanken,2025-09-30\n")  # new deadline
    store.load_register(con, register, STATUSES)
    _observe(con, "r3", {"3449": -60.0})
    assert _merge(con, "r3").counts["overdue"] == 1
    _write(register, f"finding_id,status,owner,deadline\n{fid},resolved,Husbanken,2025-12-01\n")  # closed
    store.load_register(con, register, STATUSES)
    _observe(con, "r4", {"3449": -60.0})
    assert _merge(con, "r4").counts["overdue"] == 0


def test_the_digest_reads_back_what_was_logged(con, tmp_path: Path):
    from orchestration.alerts import send_digest
    from orchestration.quality.digest import digest_for_run

    _observe(con, "r1", {"3449": -60.0})
    _merge(con, "r1")
    digest = digest_for_run(con, "r1", "wh.duckdb")
    assert [f.finding_id for f in digest.new] == ["yoy_drop:3449:2022:dwellings_wheelchair"]
    assert digest.new[0].municipality_name == "Sør-Aurdal" and digest.new[0].deviation == -60.0
    result = send_digest(digest, None, outbox=tmp_path / "outbox")
    assert result.status == "written" and "yoy_drop:3449:2022" in result.path.with_suffix(".txt").read_text()
    _observe(con, "r2", {"3449": -60.0})
    _merge(con, "r2")
    assert digest_for_run(con, "r2", "wh.duckdb").is_empty
    assert send_digest(digest_for_run(con, "r2", "wh.duckdb"), None, outbox=tmp_path / "outbox") is None


def test_an_invalid_register_reaches_its_editors_in_the_digest_until_it_is_corrected(con, tmp_path: Path):
    """The working group edits the register: when it cannot be read (the previous one is kept), the digest says
    so, with the file and every error, even in a run that found nothing new; a corrected file ends that."""
    from orchestration.alerts import send_digest
    from orchestration.quality.digest import digest_for_run

    path = _write(tmp_path / "register.csv", "finding_id,status,deadline\na:1,contacted,2018-10-30\n")
    store.record_register_check(con, "r1", store.load_register(con, path, STATUSES))
    assert digest_for_run(con, "r1", "wh.duckdb").is_empty
    _write(path, "finding_id,status,deadline\na:1,kontaktet,30/10/2018\n")
    store.record_register_check(con, "r2", store.load_register(con, path, STATUSES))
    digest = digest_for_run(con, "r2", "wh.duckdb")
    assert not digest.is_empty and digest.register_path == str(path)
    assert digest.register_errors == [
        "row 2, column status: unknown status 'kontaktet' (allowed: new, contacted, explained, resolved)",
        "row 2, column deadline: '30/10/2018' is not a date (write 30.10.2018 or 2018-10-30)"]
    result = send_digest(digest, None, outbox=tmp_path / "outbox")
    message = email.message_from_bytes(result.path.read_bytes(), policy=email.policy.default)
    assert "oppfølgingsregisteret har feil" in message["Subject"] and "0 nye" in message["Subject"]
    text = result.path.with_suffix(".txt").read_text(encoding="utf-8")
    assert "Oppfølgingsregisteret kunne ikke leses (2 feil)" in text and f"Fil: {path}" in text
    assert all(f"- {error}" in text for error in digest.register_errors)
    _write(path, "finding_id,status,deadline\na:1,contacted,2018-10-30\n")
    store.record_register_check(con, "r3", store.load_register(con, path, STATUSES))
    assert digest_for_run(con, "r3", "wh.duckdb").is_empty


def test_check_results_keep_one_row_per_check_and_run(con):
    _observe(con, "r1", {"3449": -60.0})
    _observe(con, "r1", {"3449": -60.0})      # a retried step replaces its rows
    _observe(con, "r2", {})
    rows = con.execute("select run_id, check_name, passed, findings, details from quality.check_results "
                       "order by run_id").fetchall()
    assert [(r[0], r[1], r[2], r[3]) for r in rows] == [("r1", "gx_yoy_jumps", False, 1), ("r2", "gx_yoy_jumps", True, 0)]
    assert json.loads(rows[0][4])["kinds"] == ["yoy_drop", "yoy_rise"]


# ---------------------------------------------------------------------------------- source freshness


def _sources(con, kostra_years=range(2008, 2026), months=("2025-11", "2025-12"), klass_loaded="2026-11-23"):
    """A tiny warehouse: KOSTRA 12008 with figures for `kostra_years`, Husbanken monthly `months`, a KLASS load."""
    con.execute("create schema if not exists raw")
    con.execute("create or replace table raw.ssb_observations (table_id varchar, region_code varchar, "
                "period varchar, value double)")
    con.execute("create or replace table raw.husbanken_instruments (municipality_code varchar, period varchar, "
                "grain varchar, year integer, month integer, instrument varchar, measure varchar, value double)")
    from orchestration.ingest import raw

    con.execute("drop table if exists raw.load_log")
    raw.ensure_load_log(con)
    for year in kostra_years:
        con.execute("insert into raw.ssb_observations values ('12008', '0301', ?, 1.0)", [str(year)])
    # a placeholder year without figures ("..." not yet available) does not count as loaded
    con.execute("insert into raw.ssb_observations values ('12008', '0301', '2026', null)")
    con.execute("insert into raw.husbanken_instruments values ('0301', '2026', 'year', 2026, null, 'startlan', "
                "'amount', 5.0)")  # a yearly figure is not a monthly one
    for month in months:
        con.execute("insert into raw.husbanken_instruments values ('0301', ?, 'month', ?, ?, 'bostotte', "
                    "'households', 10.0)", [month, int(month[:4]), int(month[5:])])
    for status, loaded_at in (("loaded", klass_loaded), ("rejected", "2026-11-22")):
        con.execute("insert into raw.load_log (source, target_table, original_name, landed_path, checksum, "
                    "loaded_at, status) values ('klass', 'klass_131_codes', '131_codes.json', 'x', 'c', ?, ?)",
                    [loaded_at, status])


FRESHNESS_CONFIG = {**CONFIG, "freshness": {**CONFIG["freshness"], "sources": [  # the shipped rules for these
    s for s in CONFIG["freshness"]["sources"] if s["measure"] in ("ssb/12008", "husbanken/monthly", "klass/131")]}}


def _freshness_run(con, run_id: str, config: dict = FRESHNESS_CONFIG):
    from orchestration.quality import freshness

    results = {r.rule.measure: r for r in freshness.evaluate_all(con, config)}
    freshness.record(con, run_id, list(results.values()), config)
    return results, store.merge_findings(con, run_id, config, {})


def test_a_stale_source_is_a_finding_reported_once_and_resolved_when_fresh(con, monkeypatch: pytest.MonkeyPatch):
    from orchestration.quality.digest import digest_for_run

    monkeypatch.setenv("BOLIGSOSIAL_TODAY", "2026-11-23")
    _sources(con)
    results, entries = _freshness_run(con, "r1")
    # KOSTRA 2025 was due by 1 July 2026 and is there; Husbanken's newest month 2025-12 is far behind 2026-09.
    assert not results["ssb/12008"].stale and results["ssb/12008"].due == "2025"
    assert results["husbanken/monthly"].stale
    assert (results["husbanken/monthly"].newest, results["husbanken/monthly"].due) == ("2025-12", "2026-09")
    assert not results["klass/131"].stale
    fid = "stale_source:0000:-:husbanken/monthly"
    assert list(entries.new.finding_id) == [fid]
    checks = dict(con.execute("select check_name, passed from quality.check_results where run_id = 'r1' "
                              "and check_name like 'freshness_%'").fetchall())
    assert checks["freshness_husbanken_monthly"] is False and checks["freshness_ssb_12008"] is True

    digest = digest_for_run(con, "r1", "wh.duckdb")
    stale = [f for f in digest.new if f.measure == "husbanken/monthly"]
    assert len(stale) == 1
    assert (stale[0].kind, stale[0].severity, stale[0].municipality_code, stale[0].municipality_name) == \
        ("stale_source", "WARNING", "0000", "Hele landet")
    assert (stale[0].observed, stale[0].expected) == (202512.0, 202609.0)
    assert "2025-12" in stale[0].message and "2026-09" in stale[0].message

    monkeypatch.setenv("BOLIGSOSIAL_TODAY", "2026-12-05")    # a month later, still stale: not reported again
    _, entries = _freshness_run(con, "r2")
    assert entries.counts == {"new": 0, "worsened": 0, "resolved": 0, "overdue": 0}
    assert con.execute("select expected, status from quality.findings where finding_id = ?", [fid]).fetchone() == \
        (202610.0, "open")

    con.execute("insert into raw.husbanken_instruments values ('0301', '2026-10', 'month', 2026, 10, 'bostotte', "
                "'households', 11.0)")                    # the missing months arrive
    _, entries = _freshness_run(con, "r3")
    assert list(entries.resolved.finding_id) == [fid]
    assert [f.finding_id for f in digest_for_run(con, "r3", "wh.duckdb").resolved] == [fid]


def test_kostra_goes_stale_after_1_july_and_a_missing_table_is_skipped(con, monkeypatch: pytest.MonkeyPatch):
    _sources(con, months=("2026-05",), klass_loaded="2026-05-01")
    monkeypatch.setenv("BOLIGSOSIAL_TODAY", "2027-06-30")
    results, _ = _freshness_run(con, "r1")
    assert not results["ssb/12008"].stale                  # 2026 figures are not due before 1 July 2027
    # KLASS loaded 425 days ago (the rejected row of 2026-11-22 does not count)
    assert results["klass/131"].stale and results["klass/131"].newest == "2026-05-01"
    monkeypatch.setenv("BOLIGSOSIAL_TODAY", "2027-07-01")
    results, entries = _freshness_run(con, "r2")
    assert results["ssb/12008"].stale and results["ssb/12008"].behind == 1
    assert "stale_source:0000:-:ssb/12008" in set(entries.new.finding_id)

    con.execute("drop table raw.ssb_observations")         # not checked this run: the finding is left open
    results, entries = _freshness_run(con, "r3")
    assert results["ssb/12008"].skipped == "skipped: raw.ssb_observations not present"
    assert "stale_source:0000:-:ssb/12008" not in set(entries.resolved.finding_id)
    assert con.execute("select status from quality.findings where finding_id = 'stale_source:0000:-:ssb/12008'"
                       ).fetchone() == ("open",)
