"""Delivery: SMTP when configured, else the outbox; a failed send is queued and retried next run."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import logging
import os
import re
import smtplib
import ssl
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from pathlib import Path

from orchestration import settings
from orchestration.alerts.config import AlertConfig, SmtpSettings
from orchestration.alerts.model import DeliveryResult, Digest
from orchestration.alerts.render import KIND_HEADER, render_digest, render_failure_alert

logger = logging.getLogger(__name__)

PENDING_DIR = "pending"
SENT_DIR = "sent"


_LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "::1"}


@contextmanager
def _smtp_session(smtp: SmtpSettings) -> Iterator[smtplib.SMTP]:
    if smtp.user and not smtp.starttls and smtp.host not in _LOOPBACK_HOSTS:
        # Checked before connecting: a password never crosses the network in clear text.
        raise smtplib.SMTPException(
            f"refusing to send SMTP credentials to {smtp.host} without TLS: set BOLIGSOSIAL_SMTP_STARTTLS=true")
    client = smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout)
    try:
        if smtp.starttls:
            # Raises SMTPNotSupportedError if the server lacks STARTTLS: never fall back to clear text.
            client.starttls(context=ssl.create_default_context())
        if smtp.user:
            client.login(smtp.user, smtp.password or "")
        yield client
    finally:
        # A failing QUIT after the server accepted the mail must not turn a sent message into a pending one.
        try:
            client.quit()
        except OSError:
            client.close()


def _send(client: smtplib.SMTP, message: EmailMessage) -> None:
    refused = client.send_message(message)
    if refused:  # only raised by smtplib when *every* recipient is refused
        logger.warning("SMTP server refused some recipients of %r: %s", message["Subject"], refused)


def deliver(message: EmailMessage, smtp: SmtpSettings | None, outbox: Path | None = None) -> DeliveryResult:
    """Send `message`, or keep it on disk. Never raises on mail trouble.

    smtp None → `<outbox>/<name>.eml` (+ `.txt` of the plain part), status "written".
    SMTP error → `<outbox>/pending/<name>.eml`, status "pending"; `retry_pending` sends it later.
    """
    outbox = Path(outbox) if outbox is not None else settings.outbox_dir()
    if smtp is None:
        path = _write_message(message, outbox)
        plain = message.get_body(preferencelist=("plain",))
        if plain is not None:
            path.with_suffix(".txt").write_text(plain.get_content(), encoding="utf-8")
        logger.info("SMTP not configured; wrote %r to %s", message["Subject"], path)
        return DeliveryResult(status="written", path=path)

    try:
        with _smtp_session(smtp) as client:
            _send(client, message)
    except OSError as exc:  # smtplib.SMTPException, ssl.SSLError and socket timeouts are all OSError
        path = _write_message(message, outbox / PENDING_DIR)
        error = _describe(exc)
        logger.warning(
            "Could not mail %r via %s:%s (%s); queued in %s", message["Subject"], smtp.host, smtp.port, error, path
        )
        return DeliveryResult(status="pending", path=path, error=error)
    logger.info("Mailed %r to %s via %s:%s", message["Subject"], message["To"], smtp.host, smtp.port)
    return DeliveryResult(status="sent")


def retry_pending(smtp: SmtpSettings | None, outbox: Path | None = None) -> list[DeliveryResult]:
    """Send what earlier runs queued in `<outbox>/pending/`, oldest first; sent files move to `<outbox>/sent/`.

    Call at the start of a run. One connection serves the whole queue; if it fails, everything stays queued.
    """
    outbox = Path(outbox) if outbox is not None else settings.outbox_dir()
    queued = sorted((outbox / PENDING_DIR).glob("*.eml"))
    if not queued:
        return []
    if smtp is None:
        logger.warning("%d queued message(s) in %s, but SMTP is not configured", len(queued), outbox / PENDING_DIR)
        return []

    results: dict[Path, DeliveryResult] = {}
    try:
        with _smtp_session(smtp) as client:
            for path in queued:
                message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
                try:
                    _send(client, message)  # type: ignore[arg-type]  # policy.default yields EmailMessage
                except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as exc:
                    # This message was rejected; the connection is still usable for the rest.
                    results[path] = DeliveryResult(status="pending", path=path, error=_describe(exc))
                    logger.warning("Queued mail %s rejected again: %s", path.name, _describe(exc))
                    continue
                sent_path = outbox / SENT_DIR / path.name
                sent_path.parent.mkdir(parents=True, exist_ok=True)
                os.replace(path, sent_path)
                results[path] = DeliveryResult(status="sent", path=sent_path)
                logger.info("Sent queued mail %s", path.name)
    except OSError as exc:
        error = _describe(exc)
        logger.warning(
            "Could not reach %s:%s (%s); %d queued message(s) wait for the next run",
            smtp.host, smtp.port, error, len(queued) - len(results),
        )
        for path in queued:
            results.setdefault(path, DeliveryResult(status="pending", path=path, error=error))
    return [results[path] for path in queued]


def send_digest(
    digest: Digest,
    smtp: SmtpSettings | None = None,
    config: AlertConfig | None = None,
    outbox: Path | None = None,
) -> DeliveryResult | None:
    """Render and deliver the digest; None (and no mail at all) when nothing changed.

    `smtp` None means "from the environment"; if that is unset too, the digest goes to the outbox.
    """
    if digest.is_empty:
        logger.info("Nothing changed in run %s; no digest sent", digest.run_id)
        return None
    message = render_digest(digest, config)
    return deliver(message, smtp if smtp is not None else SmtpSettings.from_env(), outbox)


def send_failure_alert(
    job_name: str,
    step_key: str | None,
    error: str,
    run_id: str,
    when: dt.datetime,
    smtp: SmtpSettings | None = None,
    config: AlertConfig | None = None,
    outbox: Path | None = None,
) -> DeliveryResult:
    """Render and deliver a failure alert; `smtp` None means "from the environment", as in send_digest."""
    message = render_failure_alert(job_name, step_key, error, run_id, when, config)
    return deliver(message, smtp if smtp is not None else SmtpSettings.from_env(), outbox)


def _write_message(message: EmailMessage, directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    # Timestamp first so a sorted listing (and retry_pending) goes oldest first.
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S%f")
    kind = re.sub(r"[^a-z0-9-]", "", str(message.get(KIND_HEADER, "mail")).lower()) or "mail"
    path = directory / f"{stamp}-{kind}-{uuid.uuid4().hex[:8]}.eml"
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(message.as_bytes())
    os.replace(tmp, path)  # retry_pending only globs *.eml, so it never sees a half-written file
    return path


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
