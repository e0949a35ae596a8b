"""BOLIGSOSIAL_SOURCE=live: the real SSB and KLASS clients against local servers that speak the
real protocols and replay the real formats, including the error paths."""

from __future__ import annotations

import hashlib
import json

import duckdb
import pytest

from orchestration import settings
from tests.fakes.klass_replay import KlassReplayServer
from tests.fakes.ssb_replay import ScriptedResponse, SsbReplayServer


@pytest.fixture(scope="module")
def servers():
    with SsbReplayServer.from_directory(settings.DEMO_DATA_DIR / "ssb") as ssb, \
            KlassReplayServer(settings.REFERENCE_DATA_DIR / "klass") as klass:
        yield ssb, klass


@pytest.fixture(scope="module")
def live_env(module_env, servers):
    ssb, klass = servers
    mp = pytest.MonkeyPatch()
    mp.setenv("BOLIGSOSIAL_SOURCE", "live")
    mp.setenv("SSB_API_URL", ssb.url_v2)
    mp.setenv("KLASS_API_URL", klass.url)
    mp.setenv("BOLIGSOSIAL_HTTP_RETRIES", "2")
    yield ssb, klass
    mp.undo()


@pytest.fixture(scope="module")
def published_live(live_env):
    from orchestration.runner import run_pipeline

    result = run_pipeline("kostra_release", quiet=True, tags={"dagster/partition": "2019"})
    assert result.success, [e.message for e in result.all_events if e.is_step_failure]
    return settings.warehouse_path()


def _sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_live_run_lands_and_loads_with_provenance(published_live, live_env):
    ssb, klass = live_env
    con = duckdb.connect(str(published_live), read_only=True)
    try:
        origins = {r[0] for r in con.execute("select distinct source_url from raw.ssb_observations").fetchall()}
        assert origins == {ssb.url_v2}
        versions = con.execute("select table_id, updated from raw.ssb_table_versions where year = 2019 "
                               "order by table_id").fetchall()
        assert [v[0] for v in versions] == ["07459", "12003", "12008", "12204", "13138"]
        assert all(v[1].startswith("2026-") for v in versions)
        log = con.execute("select count(*), bool_and(checksum is not null) from raw.load_log "
                          "where source = 'ssb' and status = 'loaded'").fetchone()
        assert log[0] >= 4 and log[1]
        assert con.execute("select count(*) from reference.municipality_crosswalk").fetchone()[0] > 7000
        assert con.execute("select count(*) from marts.fct_indicator_value where year = 2019").fetchone()[0] > 0
    finally:
        con.close()
    # the raw answers are kept as received
    landed = list((settings.landing_dir() / "ssb").rglob("*12008*municipalities.json"))
    assert landed and json.loads(landed[0].read_text())["class"] == "dataset"


def test_a_partitioned_run_loads_one_year(published_live):
    con = duckdb.connect(str(published_live), read_only=True)
    try:
        years = con.execute("select distinct period from raw.ssb_observations where table_id = '12008'").fetchall()
        assert years == [("2019",)]
        pop_years = sorted(r[0] for r in con.execute(
            "select distinct period from raw.ssb_observations where table_id = '07459'").fetchall())
        assert pop_years == ["2019", "2020"]  # per 1000 inhabitants needs 1 January of the next year
        assert con.execute("select count(*) from marts.fct_indicator_value where year = 2019").fetchone()[0] > 0
    finally:
        con.close()


def test_unchanged_tables_download_nothing_and_a_moved_one_downloads_once(published_live, live_env, tmp_path):
    from orchestration.ingest.ssb import releases as ssb_asset

    server, _ = live_env
    copy = tmp_path / "copy.duckdb"
    copy.write_bytes(published_live.read_bytes())
    con = duckdb.connect(str(copy))
    try:
        server.clear()
        loaded = ssb_asset.ingest(con, years=[2019], log=lambda _: None)
        assert sum(loaded.values()) == 0
        assert not [r for r in server.requests if "/data" in r.path], "nothing moved: only GET /tables/{id}"
        server.set_table_updated("12008", "2026-10-01T06:00:00Z")
        loaded = ssb_asset.ingest(con, years=[2019], log=lambda _: None)
        assert loaded["12008"] > 0 and sum(v for k, v in loaded.items() if k != "12008") == 0
        assert {r.path.split("/")[-2] for r in server.requests if r.path.endswith("/data")} == {"12008"}
        # the earlier release stays beside the new one
        stamps = con.execute("select distinct table_updated from raw.ssb_observations where table_id = '12008' "
                             "and period = '2019'").fetchall()
        assert len(stamps) == 2
    finally:
        con.close()
        server.set_table_updated("12008", json.loads(
            (settings.DEMO_DATA_DIR / "ssb" / "12008" / "table.json").read_text())["updated"])


@pytest.mark.parametrize(
    ("table_id", "responses", "expected"),
    [
        ("12204", [ScriptedResponse(status=503)] * 20, "12204"),
        ("12003", [ScriptedResponse(status=200, body=b'{"class": "dataset", "id": ["Tid"], "size": [2], '
                                                     b'"dimension": {}, "value": [1')] * 20, "12003"),
        ("12008", [ScriptedResponse(status=400, body=json.dumps(
            {"title": "Non-existent value", "detail": "KOKkommuneregion0000: 9999"}).encode())], "12008"),
    ],
    ids=["503-after-retries", "malformed-json-stat", "400-query-error"],
)
def test_service_failure_stops_the_run_and_keeps_the_warehouse(published_live, live_env, table_id, responses,
                                                               expected):
    from orchestration.runner import failure_message, run_pipeline

    server, _ = live_env
    server.set_table_updated(table_id, "2026-11-01T06:00:00Z")  # moved: the run must download it
    server.script(f"/tables/{table_id}/data", *responses)
    before = _sha(published_live)
    try:
        result = run_pipeline("kostra_release", quiet=True, tags={"dagster/partition": "2019"})
    finally:
        server.clear()
        server.set_table_updated(table_id, json.loads(
            (settings.DEMO_DATA_DIR / "ssb" / table_id / "table.json").read_text())["updated"])
    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure)
    assert expected in failure_message(failure.step_failure_data.error)
    assert _sha(published_live) == before
