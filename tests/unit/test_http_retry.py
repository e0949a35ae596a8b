"""The one retry policy of the HTTP clients: backoff or Retry-After, a total deadline, progress lines."""

from __future__ import annotations

import datetime as dt

import pytest
import requests

from orchestration import settings
from orchestration.ingest.http_retry import GaveUp, RetryPolicy, retry_after_seconds
from orchestration.ingest.klass.client import KlassClient, KlassError
from orchestration.ingest.ssb.client import SsbClient, SsbError


def answer(status: int, headers: dict | None = None, body: bytes = b"{}") -> requests.Response:
    resp = requests.Response()
    resp.status_code, resp._content, resp.url = status, body, "http://service.invalid/x"
    resp.headers.update(headers or {})
    return resp


class Script:
    """A session that answers from a list: a status, (status, headers), or an exception to raise."""

    def __init__(self, *answers) -> None:
        self.answers = list(answers)
        self.calls = 0
        self.headers: dict = {}

    def _next(self):
        self.calls += 1
        item = self.answers.pop(0)
        if isinstance(item, Exception):
            raise item
        status, headers = item if isinstance(item, tuple) else (item, {})
        return answer(status, headers)

    def get(self, url, params=None, headers=None, timeout=None):
        return self._next()

    def request(self, method, url, json=None, timeout=None):
        return self._next()


def test_progress_lines_say_what_happened_and_what_comes_next():
    said, slept = [], []
    policy = RetryPolicy("SSB", max_retries=5, backoff=4.0, sleep=slept.append, progress=said.append)
    session = Script(503, requests.ConnectionError("reset"), (429, {"Retry-After": "3"}), 200)
    assert policy.call(lambda: session.get("x")).status_code == 200
    assert slept == [4.0, 8.0, 3.0]
    assert said == ["SSB answered 503; retry 1 of 5 in 4 s",
                    "SSB did not answer (ConnectionError: reset); retry 2 of 5 in 8 s",
                    "SSB answered 429; retry 3 of 5 in 3 s"]


def test_a_wait_past_the_deadline_gives_up_at_once_and_says_why():
    slept = []
    policy = RetryPolicy("SSB", max_retries=5, deadline=60, sleep=slept.append, progress=lambda m: None)
    session = Script((503, {"Retry-After": "600"}))
    with pytest.raises(GaveUp) as err:
        policy.call(lambda: session.get("x"))
    assert slept == [] and session.calls == 1
    assert "the next wait would pass the 60 s deadline for SSB" in str(err.value) and err.value.last == "HTTP 503"


def test_retry_after_as_seconds_or_http_date():
    now = dt.datetime(2026, 12, 3, 9, 0, tzinfo=dt.timezone.utc)
    assert retry_after_seconds("7") == 7.0
    assert retry_after_seconds("Thu, 03 Dec 2026 09:00:30 GMT", now=lambda: now) == 30.0
    assert retry_after_seconds("soon") is None and retry_after_seconds(None) is None


def test_both_clients_use_the_policy_with_the_source_deadline(monkeypatch):
    monkeypatch.setenv("BOLIGSOSIAL_HTTP_DEADLINE", "90")
    monkeypatch.setenv("BOLIGSOSIAL_HTTP_DEADLINE_SCHEDULED", "1200")
    monkeypatch.setenv("BOLIGSOSIAL_KLASS_DEADLINE", "30")
    assert SsbClient(base_url="http://ssb.invalid").policy.deadline == 90
    assert KlassClient(base_url="http://klass.invalid").policy.deadline == 30
    assert settings.http_deadline_seconds("ssb", scheduled=True) == 1200
    monkeypatch.setenv("BOLIGSOSIAL_SCHEDULED_RUN", "1")
    assert SsbClient(base_url="http://ssb.invalid").policy.deadline == 1200

    said = []
    klass = KlassClient(base_url="http://klass.invalid", session=Script(502, 502, 502), max_retries=2,
                        sleep=lambda s: None, progress=said.append)
    with pytest.raises(KlassError, match=r"HTTP 502.*gave up after 2 retries"):
        klass.codes_at(131, "2024-01-01")
    assert said == ["KLASS answered 502; retry 1 of 2 in 1 s", "KLASS answered 502; retry 2 of 2 in 2 s"]

    ssb = SsbClient(base_url="http://ssb.invalid", session=Script(503, 503), max_retries=1, sleep=lambda s: None,
                    progress=lambda m: None)
    with pytest.raises(SsbError, match=r"SSB table 12345: gave up after 2 attempts .*last: HTTP 503"):
        ssb.table_info("12345")


def test_a_scheduled_run_gets_the_longer_deadline_and_its_progress_goes_to_the_run_log(monkeypatch):
    for name in ("BOLIGSOSIAL_HTTP_DEADLINE", "BOLIGSOSIAL_HTTP_DEADLINE_SCHEDULED", "BOLIGSOSIAL_SSB_DEADLINE",
                 "BOLIGSOSIAL_SCHEDULED_RUN"):
        monkeypatch.delenv(name, raising=False)
    run_log = []
    with settings.http_run(scheduled=True, progress=run_log.append):
        client = SsbClient(base_url="http://ssb.invalid", session=Script(503, 200), sleep=lambda s: None)
        assert client.policy.deadline == 1800
        client.table_info("12345")
    assert SsbClient(base_url="http://ssb.invalid").policy.deadline == 180
    assert len(run_log) == 1 and run_log[0].startswith("SSB answered 503; retry 1 of 5 in ")
