"""KlassClient against the local replay of KLASS, serving the real extract in data/reference/klass/."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from orchestration.ingest.klass.client import KlassClient, KlassError
from tests.fakes.klass_replay import KlassReplayServer


@pytest.fixture(scope="module")
def server():
    with KlassReplayServer() as srv:
        yield srv


@pytest.fixture()
def sleeps() -> list[float]:
    return []


@pytest.fixture()
def client(server, sleeps) -> KlassClient:
    server.requests.clear()
    return KlassClient(base_url=server.url, sleep=sleeps.append, timeout=5)


# -- structures ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("date", "expected"),
    [("2008-01-01", 430), ("2017-06-30", 426), ("2019-01-01", 422), ("2020-01-01", 356),
     ("2023-12-31", 356), ("2024-01-01", 357), ("2025-07-01", 357)],
)
def test_codes_at_gives_each_structure(client, date, expected):
    codes = client.codes_at(131, date)
    assert len(codes) == expected
    assert len({c["code"] for c in codes}) == expected


def test_codes_at_carries_klass_fields_and_names(client):
    by_code = {c["code"]: c for c in client.codes_at(131, "2019-01-01")}
    assert by_code["1102"]["name"] == "Sandnes"
    assert by_code["1129"]["name"] == "Forsand"
    assert by_code["5012"]["name"] == "Snillfjord"
    assert set(by_code["0301"]) >= {"code", "parentCode", "level", "name", "shortName", "presentationName",
                                   "validFrom", "validTo", "notes"}
    now = {c["code"]: c["name"] for c in client.municipalities_at("2024-01-01")}
    assert now["3301"] == "Drammen" and now["1508"] == "Ålesund" and now["1580"] == "Haram"
    assert not any(code.startswith(("30", "38", "54")) for code in now)  # Viken, V&T, T&F are gone


def test_name_changes_split_a_code_into_periods(client):
    assert {c["code"]: c["name"] for c in client.codes_at(131, "2021-06-01")}["1853"] == "Evenes"
    assert {c["code"]: c["name"] for c in client.codes_at(131, "2022-06-01")}["1853"] == "Evenes - Evenášši"


def test_codes_over_a_period_clip_validity_to_the_request(client):
    codes = client.codes(131, "2019-01-01", "2021-01-01")
    drammen = [c for c in codes if c["code"] == "3005"]
    assert drammen[0]["validFromInRequestedRange"] == "2020-01-01"
    assert drammen[0]["validToInRequestedRange"] == "2021-01-01"
    old = next(c for c in codes if c["code"] == "0602")
    assert (old["validFromInRequestedRange"], old["validToInRequestedRange"]) == ("2019-01-01", "2020-01-01")
    union = {c["code"] for d in ("2019-01-01", "2020-01-01") for c in client.codes_at(131, d)}
    assert {c["code"] for c in codes} == union
    assert "0301" in union and len(union) < 422 + 356  # codes that live on are listed once


def test_changes_around_the_2020_reform(client):
    rows = client.changes(131, "2019-12-31", "2020-01-02")
    assert {r["changeOccurred"] for r in rows} == {"2020-01-01"}
    assert len(rows) == 319
    into_sandnes = {r["oldCode"] for r in rows if r["newCode"] == "1108"}
    assert into_sandnes == {"1102", "1129"}  # a merge: several rows, one newCode
    snillfjord = {r["newCode"] for r in rows if r["oldCode"] == "5012"}
    assert snillfjord == {"5055", "5056", "5059"}  # a split: several rows, one oldCode
    assert {r["newCode"] for r in rows if r["oldCode"] == "1850"} == {"1806", "1875"}
    assert set(rows[0]) >= {"oldCode", "oldName", "oldShortName", "newCode", "newName", "newShortName",
                            "changeOccurred"}


def test_changes_window_is_half_open(client):
    assert client.municipality_changes("2020-01-02", "2024-01-01") == [
        r for r in client.changes(131, "2020-01-02", "2024-01-01")
    ]
    assert {r["changeOccurred"] for r in client.changes(131, "2020-01-02", "2024-01-01")} == {
        "2022-01-01", "2023-01-01"}  # name changes only; 2024-01-01 itself excluded
    alesund = [r for r in client.changes(131, "2024-01-01", "2024-01-02") if r["oldCode"] == "1507"]
    assert sorted(r["newCode"] for r in alesund) == ["1508", "1580"]


def test_kostra_groups_and_membership(client):
    groups = client.kostra_groups_at("2024-01-01")
    assert [g["code"] for g in groups] == [f"EKG{n:02d}" for n in range(1, 18)]
    membership = client.kostra_membership_at("2024-06-01")
    assert len(membership) == 357
    assert membership["0301"] == "EKG13"
    assert {membership[c] for c in ("1103", "4601", "5001")} == {"EKG12"}
    inverse = client.corresponds_at(131, 112, "2024-06-01")  # KLASS answers either direction
    assert {i["sourceCode"]: i["targetCode"] for i in inverse} == membership
    with pytest.raises(KlassError) as err:
        client.corresponds_at(112, 131, "2007-12-31")  # no membership before the extract's first date
    assert err.value.status == 404


def test_kostra_membership_follows_the_grouping_and_structure_of_the_date(client):
    """KLASS answers the grouping in force on the date, on the municipalities valid that day."""
    by_year = {year: client.kostra_membership_at(f"{year}-01-01") for year in (2008, 2019, 2020, 2024)}
    assert {y: len(m) for y, m in by_year.items()} == {2008: 430, 2019: 422, 2020: 356, 2024: 357}
    assert {m["0301"] for m in by_year.values()} == {"EKG13"}  # anchors never move
    assert "1102" in by_year[2019] and "1102" not in by_year[2020]  # Sandnes before the 2020 merger
    # the revisions moved some municipalities: the same code in another group (2016 grouping vs 2024's)
    moved = {c for c in by_year[2019] if c in by_year[2024] and by_year[2019][c] != by_year[2024][c]}
    assert len(moved) >= 5
    # a revision moves a municipality to a neighbouring group
    assert all(abs(int(by_year[2019][c][3:]) - int(by_year[2024][c][3:])) == 1 for c in moved)
    # between two revisions the grouping stands: 2019 (the 2016 grouping) agrees with 2017 on kept codes
    m2017 = client.kostra_membership_at("2017-06-30")
    assert all(m2017[c] == g for c, g in by_year[2019].items() if c in m2017)


# -- transport -------------------------------------------------------------------------------------


def test_every_request_asks_for_json(client, server):
    client.codes_at(131, "2020-01-01")
    client.changes(131, "2020-01-01", "2020-01-02")
    assert len(server.requests) == 2
    assert all(r.headers.get("Accept") == "application/json" for r in server.requests)
    assert server.requests[0].path == "/classifications/131/codesAt"
    assert server.requests[0].query == {"date": "2020-01-01"}


def test_503_is_retried_with_backoff(client, server, sleeps):
    server.fail_next(503, times=2)
    assert len(client.codes_at(131, "2024-01-01")) == 357
    assert len(server.requests) == 3
    assert sleeps == [1.0, 2.0]


def test_429_honours_retry_after(client, server, sleeps):
    server.fail_next(429, headers={"Retry-After": "7"})
    client.changes(131, "2024-01-01", "2024-01-02")
    assert sleeps == [7.0]


def test_404_fails_at_once_naming_url_and_status(client, server, sleeps):
    server.fail_next(404)
    with pytest.raises(KlassError) as err:
        client.codes_at(131, "2024-01-01")
    assert err.value.status == 404
    assert "404" in str(err.value) and "/classifications/131/codesAt?date=2024-01-01" in str(err.value)
    assert len(server.requests) == 1 and sleeps == []


def test_unknown_classification_and_bad_date_are_4xx(client):
    with pytest.raises(KlassError) as err:
        client.codes_at(999, "2024-01-01")
    assert err.value.status == 404
    with pytest.raises(KlassError) as err:
        client.codes_at(131, "1.1.2024")
    assert err.value.status == 400


def test_retries_run_out_with_a_clear_error(server, sleeps):
    server.requests.clear()
    client = KlassClient(base_url=server.url, sleep=sleeps.append, max_retries=2)
    server.fail_next(503, times=3)
    with pytest.raises(KlassError) as err:
        client.codes_at(131, "2024-01-01")
    assert err.value.status == 503 and "after 2 retries" in str(err.value)
    assert len(server.requests) == 3


def test_timeout_is_retried(server, sleeps):
    client = KlassClient(base_url=server.url, sleep=sleeps.append, timeout=0.3)
    server.fail_next(200, delay=1.0)  # a correct answer, but too late
    assert len(client.codes_at(131, "2020-01-01")) == 356
    assert sleeps == [1.0]


def test_unknown_keys_and_9999_are_ignored(tmp_path: Path, sleeps):
    doc = {
        "_provenance": "hand-made for this test",
        "codes": [
            {"code": "0301", "name": "Oslo", "validFrom": None, "validTo": None},
            {"code": "9999", "name": "Uoppgitt", "validFrom": None, "validTo": None},
        ],
    }
    (tmp_path / "131_codes.json").write_text(json.dumps(doc), encoding="utf-8")
    with KlassReplayServer(tmp_path) as srv:
        client = KlassClient(base_url=srv.url + "/api/klass/v1", sleep=sleeps.append)
        assert [c["code"] for c in client.codes_at(131, "2024-01-01")] == ["0301", "9999"]
        assert [c["code"] for c in client.municipalities_at("2024-01-01")] == ["0301"]
