"""The digest and findings the alert tests render and send: names and notes that must be escaped."""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage
from pathlib import Path

import pytest

from orchestration.alerts import AlertConfig, Digest, Finding, FollowUp

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


def clean_alert_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    # Whatever a test forgets to pass, nothing is written into the checkout.
    monkeypatch.setenv("BOLIGSOSIAL_OUTBOX", str(tmp_path / "default-outbox"))


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
