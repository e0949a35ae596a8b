"""The SSB client against the local replay server: real HTTP, no mocked `requests`."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest
import requests

from orchestration.ingest.ssb.jsonstat import parse_jsonstat2
from orchestration.ingest.ssb.client import SsbClient, SsbError, SsbQueryError
from tests.fakes.ssb_replay import ScriptedResponse, SsbReplayServer
from repo_paths import FIXTURES as FIXTURE_ROOT

FIXTURES = FIXTURE_ROOT / "ssb"
KOSTRA = "12008"
REGION = "KOKkommuneregion0000"
DATA = f"/tables/{KOSTRA}/data"


class FakeSleep:
    """Records the waits instead of waiting."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


def synthetic(n_regions: int, years: list[str]) -> dict:
    """A KOSTRA-shaped dataset with many 4-digit region codes (for long URLs and cell limits)."""
    regions = [f"{i:04d}" for i in range(1000, 1000 + n_regions)]
    n = n_regions * len(years)
    return {
        "version": "2.0",
        "class": "dataset",
        "label": "99999: Syntetisk",
        "updated": "2025-01-01T00:00:00Z",
        "role": {"time": ["Tid"], "metric": ["ContentsCode"]},
        "id": [REGION, "ContentsCode", "Tid"],
        "size": [n_regions, 1, len(years)],
        "dimension": {
            REGION: {"label": "region", "category": {"index": {c: i for i, c in enumerate(regions)}}},
            "ContentsCode": {
                "label": "statistikkvariabel",
                "category": {
                    "index": {"KOSboligSper10000000": 0},
                    "unit": {"KOSboligSper10000000": {"base": "boliger", "decimals": 1}},
                },
            },
            "Tid": {"label": "år", "category": {"index": {y: i for i, y in enumerate(years)}}},
        },
        "extension": {"px": {"tableid": "99999"}},
        "value": [float(i) for i in range(n)],
    }


SYN_REGIONS = [f"{i:04d}" for i in range(1000, 1500)]


@pytest.fixture
def server() -> Iterator[SsbReplayServer]:
    with SsbReplayServer.from_directory(FIXTURES) as srv:
        yield srv


def make_server(**kwargs) -> SsbReplayServer:
    return SsbReplayServer({"99999": {"dataset": synthetic(500, ["2023", "2024"])}}, **kwargs)


@pytest.fixture
def sleep() -> FakeSleep:
    return FakeSleep()


@pytest.fixture
def client(server: SsbReplayServer, sleep: FakeSleep) -> SsbClient:
    return SsbClient(server.url_v2, sleep=sleep, backoff_base=0.5, max_retries=3, timeout=5)


SELECTION = {REGION: ["0301", "EAK"], "ContentsCode": ["KOSboligSper10000000"], "Tid": "from(2022)"}


def test_v2_get_slices_the_table(server: SsbReplayServer, client: SsbClient) -> None:
    docs = client.fetch(KOSTRA, SELECTION)
    assert len(docs) == 1
    doc = docs[0]
    assert doc["id"] == [REGION, "ContentsCode", "Tid"] and doc["size"] == [2, 1, 3]
    assert doc["extension"]["px"]["tableid"] == KOSTRA

    (req,) = server.requests_to(DATA)
    assert req.method == "GET"
    assert req.query["valueCodes[KOKkommuneregion0000]"] == ["0301,EAK"]
    assert req.query["valueCodes[Tid]"] == ["from(2022)"]
    assert req.query["outputFormat"] == ["json-stat2"] and req.query["lang"] == ["no"]

    rows = client.fetch_rows(KOSTRA, SELECTION)
    full = parse_jsonstat2(json.loads((FIXTURES / KOSTRA / "data.json").read_text(encoding="utf-8")))
    expected = full[
        full["region_code"].isin(["0301", "EAK"])
        & (full["contents_code"] == "KOSboligSper10000000")
        & (full["period"] >= "2022")
    ].reset_index(drop=True)
    assert rows[["region_code", "period", "value"]].equals(expected[["region_code", "period", "value"]])


def test_slices_keep_status_symbols_at_the_right_cells(client: SsbClient) -> None:
    sel = {REGION: ["1507", "1856", "EKG*"], "ContentsCode": "*", "Tid": "to(2024)"}
    rows = client.fetch_rows(KOSTRA, sel)
    full = parse_jsonstat2(json.loads((FIXTURES / KOSTRA / "data.json").read_text(encoding="utf-8")))
    expected = full[full["region_code"].isin(["1507", "1856", "EKG13"])].reset_index(drop=True)
    assert len(rows) == 3 * 3 * 4
    assert rows.equals(expected)
    assert set(rows["status_symbol"].dropna()) == {".", "..", ":"}


def test_v2_expressions_and_codelist_are_sent(server: SsbReplayServer, client: SsbClient) -> None:
    sel = {REGION: "*", "ContentsCode": ["KOSboligSper10000000"], "Tid": ["[range(2021,2022)]", "2024"]}
    rows = client.fetch_rows(KOSTRA, sel, codelists={REGION: "agg_KOSGrupper"})
    assert sorted(set(rows["period"])) == ["2021", "2022", "2024"]
    assert len(rows) == 8 * 3
    (req,) = server.requests_to(DATA)
    assert req.query["codelist[KOKkommuneregion0000]"] == ["agg_KOSGrupper"]
    assert req.query["valueCodes[Tid]"] == ["[range(2021,2022)],2024"]


def test_selection_must_include_tid_and_contents(client: SsbClient) -> None:
    with pytest.raises(ValueError, match="Tid"):
        client.fetch(KOSTRA, {REGION: ["0301"], "ContentsCode": ["KOSboligSper10000000"]})
    with pytest.raises(ValueError, match="ContentsCode"):
        client.fetch(KOSTRA, {REGION: ["0301"], "Tid": ["2024"]})


def test_long_selection_falls_back_to_post(sleep: FakeSleep) -> None:
    with make_server() as srv:
        client = SsbClient(srv.url_v2, sleep=sleep)
        sel = {REGION: SYN_REGIONS, "ContentsCode": ["KOSboligSper10000000"], "Tid": ["2023", "2024"]}
        rows = client.fetch_rows("99999", sel)
        assert len(rows) == 1000 and rows["value"].tolist() == [float(i) for i in range(1000)]
        (req,) = srv.requests_to("/tables/99999/data")
        assert req.method == "POST"
        assert req.query == {"lang": ["no"], "outputFormat": ["json-stat2"]}
        items = {item["variableCode"]: item["valueCodes"] for item in req.body["selection"]}
        assert items[REGION] == SYN_REGIONS and items["Tid"] == ["2023", "2024"]


def test_server_answers_404_to_long_urls(sleep: FakeSleep) -> None:
    with make_server() as srv:
        client = SsbClient(srv.url_v2, sleep=sleep, max_url_length=100_000)
        sel = {REGION: SYN_REGIONS, "ContentsCode": ["KOSboligSper10000000"], "Tid": ["2023", "2024"]}
        with pytest.raises(SsbQueryError, match="404"):
            client.fetch("99999", sel)
        assert [r.status for r in srv.requests_to("/data")] == [404]
        assert srv.requests[-1].url_length > 2100


def test_proactive_split_by_max_cells_from_config(sleep: FakeSleep) -> None:
    with make_server(max_cells=300) as srv:
        client = SsbClient(srv.url_v2, sleep=sleep)
        sel = {REGION: SYN_REGIONS, "ContentsCode": ["KOSboligSper10000000"], "Tid": ["2023", "2024"]}
        rows = client.fetch_rows("99999", sel)
        assert client.max_cells == 300
        data = srv.requests_to("/data")
        # Tid is split first (500 cells per year), then the regions in chunks of 300.
        assert len(data) == 4 and all(r.status == 200 for r in data)
        assert len(rows) == 1000 and rows["value"].is_unique
        assert sorted(rows["value"]) == [float(i) for i in range(1000)]
        client.fetch("99999", sel)
        assert len(srv.requests_to("/config")) == 1  # cached


@pytest.mark.parametrize("status", [400, 403])
def test_split_in_halves_when_server_refuses(status: int, sleep: FakeSleep) -> None:
    with make_server(max_cells=300, too_many_cells_status=status) as srv:
        client = SsbClient(srv.url_v2, sleep=sleep, max_cells=10_000)  # no proactive split
        sel = {REGION: SYN_REGIONS, "ContentsCode": ["KOSboligSper10000000"], "Tid": ["2023", "2024"]}
        rows = client.fetch_rows("99999", sel)
        statuses = [r.status for r in srv.requests_to("/data")]
        # 1000 → 2×500 (regions halved) → 4×250.
        assert statuses == [status, status, 200, 200, status, 200, 200]
        assert sorted(rows["value"]) == [float(i) for i in range(1000)]
        assert sleep.calls == []


def test_too_many_cells_with_nothing_to_split(sleep: FakeSleep) -> None:
    with make_server(max_cells=300) as srv:
        client = SsbClient(srv.url_v2, sleep=sleep)
        with pytest.raises(SsbError, match="99999.*nothing|99999.*no explicit code list"):
            client.fetch("99999", {REGION: "*", "ContentsCode": "*", "Tid": "*"})
        assert [r.status for r in srv.requests_to("/data")] == [400]


def test_429_honours_retry_after(server: SsbReplayServer, client: SsbClient, sleep: FakeSleep) -> None:
    server.script(DATA, ScriptedResponse(429, {"title": "Too Many Requests"}, {"Retry-After": "7"}))
    assert len(client.fetch(KOSTRA, SELECTION)) == 1
    assert sleep.calls == [7.0]
    assert [r.status for r in server.requests_to(DATA)] == [429, 200]


def test_503_is_retried_with_backoff(server: SsbReplayServer, client: SsbClient, sleep: FakeSleep) -> None:
    server.script(DATA, ScriptedResponse(503, "Service Unavailable"), ScriptedResponse(503, "Service Unavailable"))
    rows = client.fetch_rows(KOSTRA, SELECTION)
    assert len(rows) == 6
    assert [r.status for r in server.requests_to(DATA)] == [503, 503, 200]
    assert len(sleep.calls) == 2
    assert 0.5 <= sleep.calls[0] <= 0.75 and 1.0 <= sleep.calls[1] <= 1.5  # exponential, with jitter


def test_503_forever_raises_naming_table_and_url(server: SsbReplayServer, client: SsbClient) -> None:
    server.script(DATA, *[ScriptedResponse(503, "busy")] * 10)
    with pytest.raises(SsbError) as err:
        client.fetch(KOSTRA, SELECTION)
    message = str(err.value)
    assert KOSTRA in message and DATA in message and "503" in message
    assert len(server.requests_to(DATA)) == client.max_retries + 1


def test_connection_errors_are_retried(server: SsbReplayServer, client: SsbClient, sleep: FakeSleep) -> None:
    server.script(DATA, ScriptedResponse(drop=True))
    assert len(client.fetch(KOSTRA, SELECTION)) == 1
    assert len(sleep.calls) == 1


def test_timeouts_are_retried(server: SsbReplayServer, sleep: FakeSleep) -> None:
    client = SsbClient(server.url_v2, sleep=sleep, timeout=0.1, max_cells=1000)
    server.script(DATA, ScriptedResponse(delay=0.4))
    assert len(client.fetch(KOSTRA, SELECTION)) == 1
    assert len(sleep.calls) == 1 and len(server.requests_to(DATA)) == 2


def test_unreachable_service_raises(sleep: FakeSleep) -> None:
    with SsbReplayServer({}) as srv:
        url = srv.url_v2
    client = SsbClient(url, sleep=sleep, max_retries=2, max_cells=100)
    with pytest.raises(SsbError, match=f"{KOSTRA}.*ConnectionError"):
        client.fetch(KOSTRA, SELECTION)
    assert len(sleep.calls) == 2


def test_non_existent_value_fails_without_retry(server: SsbReplayServer, client: SsbClient) -> None:
    sel = {**SELECTION, REGION: ["0301", "9999"]}
    with pytest.raises(SsbQueryError) as err:
        client.fetch(KOSTRA, sel)
    assert "Non-existent value" in str(err.value) and KOSTRA in str(err.value) and "9999" in str(err.value)
    assert len(server.requests_to(DATA)) == 1


def test_malformed_json_and_non_jsonstat(server: SsbReplayServer, client: SsbClient) -> None:
    broken = '{"class": "dataset", "value": [1,'
    server.script(DATA, ScriptedResponse(200, broken, {"Content-Type": "application/json"}))
    with pytest.raises(SsbError, match=f"{KOSTRA}.*malformed JSON"):
        client.fetch(KOSTRA, SELECTION)
    server.script(DATA, ScriptedResponse(200, {"hello": "world"}))
    with pytest.raises(SsbError, match=f"{KOSTRA}.*JSON-stat"):
        client.fetch(KOSTRA, SELECTION)


def test_rate_limit_headers_pause_the_next_call(server: SsbReplayServer, client: SsbClient, sleep: FakeSleep) -> None:
    headers = {"x-ratelimit-limit": "40", "x-ratelimit-remaining": "0", "x-ratelimit-policy": "40;w=60s"}
    server.script(DATA, ScriptedResponse(None, headers=headers))
    client.fetch(KOSTRA, SELECTION)
    assert sleep.calls == []
    client.fetch(KOSTRA, SELECTION)
    assert len(sleep.calls) == 1 and 59 < sleep.calls[0] <= 60
    client.fetch(KOSTRA, SELECTION)
    assert len(sleep.calls) == 1


def test_table_info_and_has_changed(server: SsbReplayServer, client: SsbClient) -> None:
    info = client.table_info(KOSTRA)
    assert info["updated"] == "2025-06-15T06:00:00Z" and info["id"] == KOSTRA
    assert client.has_changed(KOSTRA, None) == (True, "2025-06-15T06:00:00Z")
    assert client.has_changed(KOSTRA, "2025-06-15T06:00:00Z") == (False, "2025-06-15T06:00:00Z")
    assert client.has_changed(KOSTRA, "2025-06-15T06:00:00+00:00")[0] is False
    server.set_table_updated(KOSTRA, "2026-03-15T07:00:00Z")
    assert client.has_changed(KOSTRA, "2025-06-15T06:00:00Z") == (True, "2026-03-15T07:00:00Z")
    with pytest.raises(SsbQueryError, match="nope"):
        client.table_info("nope")


def test_metadata_v2(client: SsbClient) -> None:
    meta = client.metadata("05300")
    assert meta["value"] == [] and meta["id"] == ["Avstand1", "Kulturtilbud", "ContentsCode", "Tid"]


def test_v0_through_the_same_interface(server: SsbReplayServer, sleep: FakeSleep) -> None:
    v2 = SsbClient(server.url_v2, sleep=sleep)
    v0 = SsbClient(server.url_v0, api="v0", sleep=sleep)
    rows_v0 = v0.fetch_rows(KOSTRA, SELECTION)
    assert rows_v0.equals(v2.fetch_rows(KOSTRA, SELECTION)) and len(rows_v0) == 6

    (post,) = [r for r in server.requests_to(f"/table/{KOSTRA}") if r.method == "POST"]
    query = {q["code"]: q["selection"] for q in post.body["query"]}
    assert post.body["response"] == {"format": "json-stat2"}
    assert query[REGION] == {"filter": "item", "values": ["0301", "EAK"]}
    assert query["Tid"] == {"filter": "item", "values": ["2022", "2023", "2024"]}  # from() resolved by metadata

    rows = v0.fetch_rows(KOSTRA, {REGION: "*", "ContentsCode": ["KOStotmidlbo0000"], "Tid": "top(1)"})
    assert set(rows["period"]) == {"2024"} and len(rows) == 8
    assert {"filter": "all", "values": ["*"]} in [q["selection"] for q in server.requests[-1].body["query"]]

    info = v0.table_info(KOSTRA)
    assert info["updated"] is None and info["variables"][0]["code"] == REGION
    assert v0.has_changed(KOSTRA, "2025-06-15T06:00:00Z") == (True, None)
    assert set(rows["table_updated"]) == {"2025-06-15T06:00:00Z"}  # the fallback for change detection

    with pytest.raises(SsbQueryError, match="Non-existent value"):
        v0.fetch(KOSTRA, {**SELECTION, REGION: ["0301", "9999"]})


def test_v0_too_many_values_is_split(sleep: FakeSleep) -> None:
    with make_server(max_cells=300) as srv:
        client = SsbClient(srv.url_v0, api="v0", sleep=sleep, max_cells=10_000)
        sel = {REGION: SYN_REGIONS, "ContentsCode": ["KOSboligSper10000000"], "Tid": ["2023", "2024"]}
        rows = client.fetch_rows("99999", sel)
        assert 403 in [r.status for r in srv.requests]
        assert sorted(rows["value"]) == [float(i) for i in range(1000)]


def test_default_bases(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SSB_API_URL", raising=False)
    monkeypatch.delenv("SSB_API_V0_URL", raising=False)
    assert SsbClient().base_url == "https://data.ssb.no/api/pxwebapi/v2"
    assert SsbClient(api="v0").base_url == "https://data.ssb.no/api/v0/no"
    monkeypatch.setenv("SSB_API_URL", "http://127.0.0.1:9/api/pxwebapi/v2/")
    assert SsbClient().base_url == "http://127.0.0.1:9/api/pxwebapi/v2"
    assert SsbClient(api="v0").base_url == "http://127.0.0.1:9/api/v0/no"


def test_one_log_line_per_request(server: SsbReplayServer, client: SsbClient, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="orchestration.ingest.ssb.client"):
        client.fetch(KOSTRA, SELECTION)
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == len(server.requests) == 2  # GET /config (the cell limit), then the data
    assert f"GET {DATA} cells=2 -> 200" in lines[-1]


def test_replay_server_is_plain_http(server: SsbReplayServer) -> None:
    cfg = requests.get(server.url_v2 + "/config", timeout=5).json()
    assert cfg["maxDataCells"] == 800_000
    params = {"valueCodes[Tid]": "top(2)", "valueCodes[ContentsCode]": "*"}
    resp = requests.get(server.url_v2 + DATA, params=params, timeout=5)
    doc = resp.json()
    assert resp.status_code == 200 and doc["size"] == [8, 3, 2]
    assert list(doc["dimension"]["Tid"]["category"]["index"]) == ["2023", "2024"]
    assert all(isinstance(k, str) for k in doc.get("status", {}))
