"""The alert channel against a real SMTP server (aiosmtpd on 127.0.0.1): delivery, the queue when the
server is down, STARTTLS and AUTH. Rendering and configuration without a server: unit/test_alerts.py."""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword
from alert_samples import CONFIG, EXPECTED_SUBJECT, NASTY_NAME, NASTY_NOTE, clean_alert_env, parts, sample_digest
from tests.fakes.smtp import StoringHandler, free_port, smtp_server

from orchestration.alerts import (
    SmtpSettings,
    deliver,
    render_digest,
    render_failure_alert,
    retry_pending,
    send_digest,
    send_failure_alert,
)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    clean_alert_env(monkeypatch, tmp_path)


@pytest.fixture
def server() -> Iterator[tuple[SmtpSettings, StoringHandler]]:
    with smtp_server() as running:
        yield running


@pytest.fixture
def outbox(tmp_path: Path) -> Path:
    return tmp_path / "outbox"


def test_digest_arrives_with_plain_and_html_parts(server, outbox: Path) -> None:
    smtp, handler = server

    result = send_digest(sample_digest(), smtp=smtp, config=CONFIG, outbox=outbox)

    assert result is not None and result.status == "sent"
    assert len(handler.received) == 1
    got = handler.received[0]
    assert got.mail_from == "boligsosial@example.org"
    assert got.rcpt_tos == ["ssb-arbeidsgruppe@example.org", "analyse@example.org"]
    message = got.message
    assert message["Subject"] == EXPECTED_SUBJECT
    assert message.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]

    plain, html_body = parts(message)
    # Plain text keeps names verbatim; HTML escapes them, so nothing from the data becomes markup.
    assert NASTY_NAME in plain and NASTY_NOTE in plain
    assert "Bø &lt;b&gt;&amp; Co" in html_body
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; co" in html_body
    assert "Bergen &amp; omegn" in html_body and "Kari &lt;kari@example.org&gt;" in html_body
    assert "<b>&" not in html_body and "<script" not in html_body
    for heading in ("Nye avvik (3)", "Forverret (1)", "Løst (2)", "Forfalt oppfølging (1)"):
        assert heading in plain and heading in html_body
    assert "New findings since the previous run" in plain
    # Readable numbers: thousands separated, decimal comma, signed deviations, previous value for worsened.
    assert "målt 12\u00a0346, forventet 9\u00a0877, avvik +2\u00a0469" in plain
    assert "+2\u00a0469" in html_body
    assert "avvik +0,13 (var +0,05)" in plain  # 0.125 rounds half-up
    assert "-0,0042" in plain
    assert "(10 dager over)" in plain
    assert "SYNTETISK" not in message["Subject"] and "SYNTETISK" not in plain
    assert not outbox.exists()



def test_synthetic_digest_says_so(server, outbox: Path) -> None:
    smtp, handler = server

    send_digest(sample_digest(synthetic=True), smtp=smtp, config=CONFIG, outbox=outbox)

    message = handler.received[0].message
    assert message["Subject"] == "[boligsosial] [SYNTETISK] Datakvalitet: 3 nye, 1 forverret, 2 løst, 1 forfalt"
    plain, html_body = parts(message)
    for body in (plain, html_body):
        assert "SYNTETISKE DEMODATA" in body and "Synthetic demo data" in body



def test_empty_digest_sends_nothing(server, outbox: Path) -> None:
    smtp, handler = server
    empty = sample_digest(new=[], worsened=[], resolved=[], overdue=[])

    assert empty.is_empty
    assert send_digest(empty, smtp=smtp, config=CONFIG, outbox=outbox) is None
    assert send_digest(empty, smtp=None, config=CONFIG, outbox=outbox) is None
    assert handler.received == []
    assert not outbox.exists()



def test_failure_alert_over_smtp(server, outbox: Path) -> None:
    smtp, handler = server
    when = dt.datetime(2026, 3, 2, 6, 0, tzinfo=dt.timezone.utc)
    error = 'Traceback:\n  File "<module>", line 1\nValueError: a < b & c'

    result = send_failure_alert(
        "ingest_job", "raw_kostra", error, "run-7", when, smtp=smtp, config=CONFIG, outbox=outbox
    )

    assert result.status == "sent"
    message = handler.received[0].message
    assert message["Subject"] == "[boligsosial] Kjøring feilet: ingest_job / raw_kostra"
    plain, html_body = parts(message)
    assert error in plain and "run-7" in plain and "2026-03-02 06:00 UTC" in plain
    assert "File &quot;&lt;module&gt;&quot;" in html_body and "a &lt; b &amp; c" in html_body



def test_unreachable_smtp_queues_then_retry_delivers(outbox: Path) -> None:
    closed = SmtpSettings(host="127.0.0.1", port=free_port(), timeout=2)
    message = render_digest(sample_digest(), CONFIG)

    result = deliver(message, closed, outbox)  # must not raise

    assert result.status == "pending"
    assert result.error and "Connection" in result.error
    assert result.path is not None and result.path.parent == outbox / "pending"
    assert retry_pending(closed, outbox)[0].status == "pending"  # still down: stays queued
    assert len(list((outbox / "pending").glob("*.eml"))) == 1

    with smtp_server() as (live, handler):
        results = retry_pending(live, outbox)

    assert [r.status for r in results] == ["sent"]
    assert results[0].path == outbox / "sent" / result.path.name and results[0].path.exists()
    assert list((outbox / "pending").iterdir()) == []
    assert len(handler.received) == 1
    got = handler.received[0]
    assert got.message["Subject"] == EXPECTED_SUBJECT
    assert got.message["Message-ID"] == message["Message-ID"]
    assert got.rcpt_tos == CONFIG.recipients
    assert NASTY_NAME in parts(got.message)[0]



def test_retry_sends_the_whole_queue_oldest_first(outbox: Path) -> None:
    closed = SmtpSettings(host="127.0.0.1", port=free_port(), timeout=2)
    first = render_failure_alert("job_a", "s", "boom", "r1", dt.datetime(2026, 1, 1), CONFIG)
    second = render_digest(sample_digest(), CONFIG)
    assert deliver(first, closed, outbox).status == "pending"
    assert deliver(second, closed, outbox).status == "pending"

    with smtp_server() as (live, handler):
        assert [r.status for r in retry_pending(live, outbox)] == ["sent", "sent"]

    assert [r.message["Subject"] for r in handler.received] == [first["Subject"], second["Subject"]]
    assert retry_pending(SmtpSettings(host="127.0.0.1", port=free_port()), outbox) == []  # queue is empty



def test_starttls_required_but_not_offered_is_queued_not_sent_in_clear(server, outbox: Path) -> None:
    smtp, handler = server
    tls = SmtpSettings(host=smtp.host, port=smtp.port, starttls=True, timeout=5)

    result = deliver(render_digest(sample_digest(), CONFIG), tls, outbox)

    assert result.status == "pending" and "STARTTLS" in (result.error or "")
    assert handler.received == []



def _authenticator(server, session, envelope, mechanism, auth_data) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (b"robot", b"s3cret")
    return AuthResult(success=ok, handled=False)



@pytest.fixture
def auth_server() -> Iterator[tuple[SmtpSettings, StoringHandler]]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # aiosmtpd warns that AUTH without TLS is unsafe: test-only server
        with smtp_server(authenticator=_authenticator, auth_required=True, auth_require_tls=False) as running:
            yield running



def test_smtp_auth_login(auth_server, outbox: Path) -> None:
    smtp, handler = auth_server
    message = render_digest(sample_digest(), CONFIG)

    good = SmtpSettings(host=smtp.host, port=smtp.port, user="robot", password="s3cret", timeout=5)
    wrong = SmtpSettings(host=smtp.host, port=smtp.port, user="robot", password="nope", timeout=5)

    assert deliver(message, good, outbox).status == "sent"
    refused = deliver(message, wrong, outbox)
    assert refused.status == "pending" and "SMTPAuthenticationError" in (refused.error or "")
    anonymous = deliver(message, smtp, outbox)  # the server requires AUTH
    assert anonymous.status == "pending"
    assert len(handler.received) == 1



def test_send_digest_takes_smtp_from_env(server, monkeypatch: pytest.MonkeyPatch, outbox: Path) -> None:
    smtp, handler = server
    monkeypatch.setenv("BOLIGSOSIAL_SMTP_HOST", smtp.host)
    monkeypatch.setenv("BOLIGSOSIAL_SMTP_PORT", str(smtp.port))

    result = send_digest(sample_digest(), config=CONFIG, outbox=outbox)

    assert result is not None and result.status == "sent" and len(handler.received) == 1
