"""Who gets alerts and how mail leaves: `config/alerts.yaml` and `BOLIGSOSIAL_SMTP_*` from the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from orchestration import settings

DEFAULT_CONFIG_PATH = settings.CONFIG_DIR / "alerts.yaml"
DEFAULT_SUBJECT_PREFIX = "[boligsosial]"
SMTP_TIMEOUT_SECONDS = 15.0

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int = 25
    user: str | None = None
    password: str | None = field(default=None, repr=False)  # keeps the secret out of logs and tracebacks
    starttls: bool = False
    timeout: float = SMTP_TIMEOUT_SECONDS

    @classmethod
    def from_env(cls) -> SmtpSettings | None:
        """Settings from `BOLIGSOSIAL_SMTP_*`; None when no host is set (mail then goes to the outbox)."""
        host = os.environ.get("BOLIGSOSIAL_SMTP_HOST", "").strip()
        if not host:
            return None
        starttls = _env_bool("BOLIGSOSIAL_SMTP_STARTTLS", default=False)
        port_text = os.environ.get("BOLIGSOSIAL_SMTP_PORT", "").strip()
        try:
            port = int(port_text) if port_text else (587 if starttls else 25)
        except ValueError:
            raise ValueError(f"BOLIGSOSIAL_SMTP_PORT must be an integer, not {port_text!r}") from None
        return cls(
            host=host,
            port=port,
            user=os.environ.get("BOLIGSOSIAL_SMTP_USER", "").strip() or None,
            password=os.environ.get("BOLIGSOSIAL_SMTP_PASSWORD") or None,
            starttls=starttls,
        )


def _env_bool(name: str, *, default: bool) -> bool:
    value = os.environ.get(name, "").strip().lower()
    if not value:
        return default
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    # A typo must not quietly turn TLS off.
    raise ValueError(f"{name} must be true/false/1/0/yes/no, not {value!r}")


@dataclass
class AlertConfig:
    sender: str
    recipients: list[str]
    subject_prefix: str = DEFAULT_SUBJECT_PREFIX


def load_alert_config(path: Path | str | None = None) -> AlertConfig:
    """Read `config/alerts.yaml`; the environment overrides sender and recipients."""
    config_path = Path(path) if path is not None else DEFAULT_CONFIG_PATH
    raw = settings.read_yaml(config_path) or {}

    sender = os.environ.get("BOLIGSOSIAL_ALERT_SENDER", "").strip() or str(raw.get("sender") or "").strip()
    env_recipients = os.environ.get("BOLIGSOSIAL_ALERT_RECIPIENTS", "")
    recipients = _address_list(env_recipients if env_recipients.strip() else raw.get("recipients"))
    prefix = str(raw.get("subject_prefix") or DEFAULT_SUBJECT_PREFIX).strip()

    for address in [sender, *recipients]:
        if "@" not in address:
            raise ValueError(f"{config_path}: {address!r} is not an email address")
    if not recipients:
        raise ValueError(f"{config_path}: no alert recipients configured")
    return AlertConfig(sender=sender, recipients=recipients, subject_prefix=prefix)


def _address_list(value: object) -> list[str]:
    items = value.split(",") if isinstance(value, str) else list(value or [])
    return [str(item).strip() for item in items if str(item).strip()]


