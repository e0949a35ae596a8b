"""The alert channel without a server: rendering (escaping, header injection, truncation), the outbox,
the queue left alone without SMTP, configuration from YAML and env, number formatting. Delivery over a
real SMTP server: integration/test_alerts_smtp.py."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
from pathlib import Path

import pytest
from alert_samples import CONFIG, EXPECTED_SUBJECT, NASTY_NAME, clean_alert_env, parts, sample_digest
from tests.fakes.smtp import free_port

from orchestration.alerts import (
    AlertConfig,
    Digest,
    Finding,
    SmtpSettings,
    deliver,
    format_number,
    load_alert_config,
    render_digest,
    render_failure_alert,
    retry_pending,
    send_digest,
)

# ------------------------------------------------------------------------------------ fixtures


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    clean_alert_env(monkeypatch, tmp_path)


@pytest.fixture
def outbox(tmp_path: Path) -> Path:
    return tmp_path / "outbox"


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


def test_retry_without_smtp_leaves_the_queue(outbox: Path) -> None:
    closed = SmtpSettings(host="127.0.0.1", port=free_port(), timeout=2)
    deliver(render_digest(sample_digest(), CONFIG), closed, outbox)
    assert retry_pending(None, outbox) == []
    assert len(list((outbox / "pending").glob("*.eml"))) == 1


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


def test_register_errors_lead_the_digest_escaped_in_html_verbatim_in_text() -> None:
    errors = [f"row 3, column note: {NASTY_NAME}", "row 4, column status: unknown status 'kontaktet'"]
    digest = Digest("run-1", dt.datetime(2026, 11, 23, tzinfo=dt.timezone.utc), "wh.duckdb",
                    register_errors=errors, register_path="data/followup/register.csv")
    assert not digest.is_empty
    message = render_digest(digest, CONFIG)
    plain, html = parts(message)
    assert message["Subject"].endswith("Datakvalitet: 0 nye, 0 forverret, 0 løst, 0 forfalt · oppfølgingsregisteret "
                                       "har feil")
    assert "Oppfølgingsregisteret kunne ikke leses (2 feil)" in plain and "Fil: data/followup/register.csv" in plain
    assert all(f"- {error}" in plain for error in errors)
    assert NASTY_NAME not in html and "Bø &lt;b&gt;&amp; Co" in html
    assert "Oppfølgingsregisteret kunne ikke leses (2 feil)" in html
