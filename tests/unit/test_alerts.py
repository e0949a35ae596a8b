"""The alert channel against a real SMTP server (aiosmtpd on 127.0.0.1)."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import socket
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from orchestration.alerts import (
    AlertConfig,
    Digest,
    Finding,
    FollowUp,
    SmtpSettings,
    deliver,
    format_number,
    load_alert_config,
    render_digest,
    render_failure_alert,
    retry_pending,
    send_digest,
    send_failure_alert,
)

NASTY_NAME = "Bø <b>& Co"  # must be escaped in HTML and kept verbatim in plain text
NASTY_NOTE = "<script>alert('x')</script> & co"
CONFIG = AlertConfig(
    sender="boligsosial@example.org",
    recipients=["ssb-arbeidsgruppe@example.org", "analyse@example.org"],
    subject_prefix="[boligsosial]",
)
EXPECTED_SUBJECT = "[boligsosial] Datakvalitet: 3 nye, 1 forverret, 2 løst, 1 forfalt"
ENV_VARS = [
    "BOLIGSOSIAL_SMTP_HOST",
    "BOLIGSOSIAL_SMTP_PORT",
    "BOLIGSOSIAL_SMTP_USER",
    "BOLIGSOSIAL_SMTP_PASSWORD",
    "BOLIGSOSIAL_SMTP_STARTTLS",
    "BOLIGSOSIAL_ALERT_RECIPIENTS",
    "BOLIGSOSIAL_ALERT_SENDER",
]


# ------------------------------------------------------------------------------------ fixtures


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage


@dataclass
class StoringHandler:
    received: list[Received] = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope) -> str:  # aiosmtpd hook
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"


def free_port() -> int:
    """A port nothing listens on once this returns (for servers, and as a closed port)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def smtp_server(**server_kwargs) -> Iterator[tuple[SmtpSettings, StoringHandler]]:
    handler = StoringHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port(), **server_kwargs)
    controller.start()
    try:
        yield SmtpSettings(host="127.0.0.1", port=controller.port, timeout=5), handler
    finally:
        controller.stop()


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    # Whatever a test forgets to pass, nothing is written into the checkout.
    monkeypatch.setenv("BOLIGSOSIAL_OUTBOX", str(tmp_path / "default-outbox"))


@pytest.fixture
def server() -> Iterator[tuple[SmtpSettings, StoringHandler]]:
    with smtp_server() as running:
        yield running


@pytest.fixture
def outbox(tmp_path: Path) -> Path:
    return tmp_path / "outbox"


def finding(finding_id: str, name: str = "Oslo", **overrides) -> Finding:
    values = dict(
        finding_id=finding_id,
        kind="outlier",
        severity="ERROR",
        municipality_code="0301",
        municipality_name=name,
        year=2023,
        measure="husstander_med_bostotte",
        observed=12345.678,
        expected=9876.5,
        deviation=2469.178,
        message="Hopp fra i fjor <50 %> & mer",
    )
    values.update(overrides)
    return Finding(**values)


def sample_digest(**overrides) -> Digest:
    values = dict(
        run_id="run-42",
        generated_at=dt.datetime(2026, 3, 2, 7, 30, tzinfo=dt.timezone.utc),
        warehouse="warehouse/boligsosial.duckdb",
        new=[
            finding("F-1", NASTY_NAME, municipality_code="1866"),
            finding("F-2", severity="WARNING", deviation=-0.0042),
            finding("F-3", year=None, observed=None),
        ],
        worsened=[finding("F-4", "Bodø", deviation=0.125, previous_deviation=0.05)],
        resolved=[finding("F-5"), finding("F-6", "Tromsø")],
        overdue=[
            FollowUp(
                finding_id="F-0",
                municipality_code="4601",
                municipality_name="Bergen & omegn",
                status="åpen",
                cause="Ny rapporteringsrutine",
                owner="Kari <kari@example.org>",
                deadline=dt.date(2026, 2, 20),
                note=NASTY_NOTE,
            )
        ],
        synthetic=False,
    )
    values.update(overrides)
    return Digest(**values)


def parts(message: EmailMessage) -> tuple[str, str]:
    """Plain and HTML bodies, with the CRLF line ends of the SMTP wire turned back into \\n."""
    return tuple(  # type: ignore[return-value]
        message.get_body(preferencelist=(subtype,)).get_content().replace("\r\n", "\n") for subtype in ("plain", "html")
    )


# -------------------------------------------------------------------------------- over real SMTP


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


def test_failure_alert_headers_cannot_be_injected() -> None:
    when = dt.datetime(2026, 3, 2, 6, 0)
    message = render_failure_alert("job\r\nBcc: evil@example.org", None, "boom", "run\n1", when, CONFIG)

    assert message["Subject"] == "[boligsosial] Kjøring feilet: job Bcc: evil@example.org / (hele kjøringen)"
    assert message["Bcc"] is None
    assert message["X-Boligsosial-Run-Id"] == "run 1"


def test_failure_alert_truncates_huge_tracebacks() -> None:
    error = "x" * 50_000 + "\nRuntimeError: the real cause"
    plain, _ = parts(render_failure_alert("job", "step", error, "run", dt.datetime(2026, 1, 1), CONFIG))
    assert "RuntimeError: the real cause" in plain and "forkortet" in plain
    assert len(plain) < 25_000


# ------------------------------------------------------------------------------ without a server


def test_without_smtp_the_mail_is_written_to_the_outbox(outbox: Path) -> None:
    result = send_digest(sample_digest(), smtp=None, config=CONFIG, outbox=outbox)

    assert result is not None and result.status == "written"
    assert result.path is not None and result.path.parent == outbox and result.path.suffix == ".eml"
    saved = email.message_from_bytes(result.path.read_bytes(), policy=email.policy.default)
    assert saved["Subject"] == EXPECTED_SUBJECT
    assert saved["To"] == "ssb-arbeidsgruppe@example.org, analyse@example.org"
    assert saved.get_content_type() == "multipart/alternative"
    readable = result.path.with_suffix(".txt").read_text(encoding="utf-8")
    assert NASTY_NAME in readable and "Nye avvik (3)" in readable


def test_outbox_defaults_to_settings(tmp_path: Path) -> None:
    result = deliver(render_digest(sample_digest(), CONFIG), smtp=None)
    assert result.status == "written"
    assert result.path is not None and result.path.parent == tmp_path / "default-outbox"


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


def test_retry_without_smtp_leaves_the_queue(outbox: Path) -> None:
    closed = SmtpSettings(host="127.0.0.1", port=free_port(), timeout=2)
    deliver(render_digest(sample_digest(), CONFIG), closed, outbox)
    assert retry_pending(None, outbox) == []
    assert len(list((outbox / "pending").glob("*.eml"))) == 1


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


# -------------------------------------------------------------------------------------- settings


def test_smtp_settings_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    assert SmtpSettings.from_env() is None

    monkeypatch.setenv("BOLIGSOSIAL_SMTP_HOST", "smtp.example.org")
    assert SmtpSettings.from_env() == SmtpSettings(host="smtp.example.org", port=25)

    monkeypatch.setenv("BOLIGSOSIAL_SMTP_STARTTLS", "yes")
    monkeypatch.setenv("BOLIGSOSIAL_SMTP_USER", "robot")
    monkeypatch.setenv("BOLIGSOSIAL_SMTP_PASSWORD", "hunter2")
    settings = SmtpSettings.from_env()
    assert settings is not None
    assert (settings.port, settings.starttls, settings.user, settings.password) == (587, True, "robot", "hunter2")
    assert "hunter2" not in repr(settings)

    monkeypatch.setenv("BOLIGSOSIAL_SMTP_PORT", "2525")
    monkeypatch.setenv("BOLIGSOSIAL_SMTP_STARTTLS", "0")
    settings = SmtpSettings.from_env()
    assert settings is not None and (settings.port, settings.starttls) == (2525, False)

    monkeypatch.setenv("BOLIGSOSIAL_SMTP_STARTTLS", "ja")
    with pytest.raises(ValueError, match="STARTTLS"):
        SmtpSettings.from_env()


def test_send_digest_takes_smtp_from_env(server, monkeypatch: pytest.MonkeyPatch, outbox: Path) -> None:
    smtp, handler = server
    monkeypatch.setenv("BOLIGSOSIAL_SMTP_HOST", smtp.host)
    monkeypatch.setenv("BOLIGSOSIAL_SMTP_PORT", str(smtp.port))

    result = send_digest(sample_digest(), config=CONFIG, outbox=outbox)

    assert result is not None and result.status == "sent" and len(handler.received) == 1


def test_load_alert_config_from_repo_yaml_and_env(monkeypatch: pytest.MonkeyPatch) -> None:
    config = load_alert_config()
    assert config == AlertConfig(
        sender="boligsosial@example.org",
        recipients=["ssb-arbeidsgruppe@example.org"],
        subject_prefix="[boligsosial]",
    )

    monkeypatch.setenv("BOLIGSOSIAL_ALERT_RECIPIENTS", " a@example.org, b@example.org ,")
    monkeypatch.setenv("BOLIGSOSIAL_ALERT_SENDER", "robot@example.org")
    config = load_alert_config()
    assert config.recipients == ["a@example.org", "b@example.org"]
    assert config.sender == "robot@example.org"


def test_load_alert_config_rejects_bad_addresses(tmp_path: Path) -> None:
    path = tmp_path / "alerts.yaml"
    path.write_text("sender: nobody\nrecipients: [x@example.org]\n", encoding="utf-8")
    with pytest.raises(ValueError, match="not an email address"):
        load_alert_config(path)
    path.write_text("sender: a@example.org\nrecipients: []\n", encoding="utf-8")
    with pytest.raises(ValueError, match="no alert recipients"):
        load_alert_config(path)


@pytest.mark.parametrize(
    ("value", "signed", "expected"),
    [
        (None, False, "–"),
        (float("nan"), False, "–"),
        (2023, False, "2\u00a0023"),
        (12345.678, False, "12\u00a0346"),  # from 1000 up, decimals are noise in a digest
        (987.654, False, "987,65"),
        (1234567.8, False, "1\u00a0234\u00a0568"),
        (12.5, True, "+12,5"),
        (-3.14159, True, "-3,14"),
        (0.0042, False, "0,0042"),
        (0.5, False, "0,5"),
        (-0.0, True, "0"),
        (-0.0000001, True, "0"),  # below six decimals: 0, never "-0"
        (9876.5, False, "9\u00a0877"),  # half-up, not Python's half-even
        (2.675, False, "2,68"),
    ],
)
def test_format_number(value, signed: bool, expected: str) -> None:
    assert format_number(value, signed=signed) == expected


def test_credentials_never_go_to_a_remote_server_in_clear_text(outbox: Path) -> None:
    remote = SmtpSettings(host="smtp.example.org", port=587, user="robot", password="s3cret", starttls=False)
    message = render_failure_alert("job", "step", "boom", "run-1", dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc))
    result = deliver(message, remote, outbox)
    assert result.status == "pending"
    assert "without TLS" in (result.error or "")


def test_stale_source_periods_read_as_dates() -> None:
    stale = Finding("stale_source:0000:-:husbanken/monthly", "stale_source", "WARNING", "0000", "Hele landet", None,
                    "husbanken/monthly", 202512, 202609, None, "nyeste måned 2025-12, ventet 2026-09")
    digest = Digest("run-1", dt.datetime(2026, 11, 23, tzinfo=dt.timezone.utc), "wh.duckdb", new=[stale])
    message = render_digest(digest, CONFIG)
    plain = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "målt 2025-12, forventet 2026-09" in plain
    assert "2025-12" in html and "202 512" not in html
