"""The KLASS client and the committed extract without a server: retries on a dropped connection (a
scripted session), the base URL from the environment, the extract's provenance. Against the local
replay server: integration/test_klass.py."""

from __future__ import annotations

import json
from collections import Counter

import requests

from orchestration.ingest.klass.client import KlassClient
from repo_paths import REPO_ROOT


def test_connection_errors_are_retried():
    class FlakySession:
        def __init__(self) -> None:
            self.calls = 0

        def get(self, url, params, headers, timeout):
            self.calls += 1
            if self.calls == 1:
                raise requests.ConnectionError("connection reset")
            resp = requests.Response()
            resp.status_code, resp._content, resp.url = 200, b'{"codes": [{"code": "0301"}]}', url
            return resp

    session = FlakySession()
    client = KlassClient(base_url="http://klass.invalid", session=session, sleep=lambda s: None)
    assert client.codes_at(131, "2024-01-01") == [{"code": "0301"}]
    assert session.calls == 2



def test_base_url_from_environment(monkeypatch):
    monkeypatch.setenv("KLASS_API_URL", "http://example.invalid/klass/")
    assert KlassClient().base_url == "http://example.invalid/klass"
    monkeypatch.delenv("KLASS_API_URL")
    assert KlassClient().base_url == "https://data.ssb.no/api/klass/v1"



def test_extract_files_carry_provenance_and_flags():
    folder = REPO_ROOT / "data" / "reference" / "klass"
    docs = {p.name: json.loads(p.read_text(encoding="utf-8")) for p in folder.glob("*.json")}
    dated = {n for n in docs if n.startswith("112_131_correspondence_")}
    assert set(docs) - dated == {"131_codes.json", "131_changes.json", "112_kostra_groups.json"}
    assert {"112_131_correspondence_2016-01-01.json", "112_131_correspondence_2020-01-01.json",
            "112_131_correspondence_2024-01-01.json"} <= dated
    assert all(doc["_provenance"] for doc in docs.values())
    assert all(docs[n]["synthetic"] is True for n in dated | {"112_kostra_groups.json"})
    assert "synthetic" not in docs["131_codes.json"] and "synthetic" not in docs["131_changes.json"]
    per_year = Counter(r["changeOccurred"][:4] for r in docs["131_changes.json"]["codeChanges"])
    assert per_year == {"2008": 2, "2012": 5, "2013": 5, "2017": 5, "2018": 57, "2019": 4,
                        "2020": 319, "2022": 1, "2023": 2, "2024": 118}


def test_committed_kostra_grouping_matches_the_demo_generator():
    """tools/demo_data/kostra_groups.py writes the synthetic grouping (make demo-data); the files are current."""
    from tools.demo_data import kostra_groups

    folder = REPO_ROOT / "data" / "reference" / "klass"
    files = kostra_groups.documents(folder)
    assert {p.name for p in folder.glob("112_*.json")} == set(files)
    for name, text in files.items():
        assert (folder / name).read_text(encoding="utf-8") == text, f"{name} is stale: run make demo-data"
