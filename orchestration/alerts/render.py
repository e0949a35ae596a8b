"""The alert channel: a data-quality digest and failure alerts to the SSB working group, by email.

Every mail is multipart/alternative (plain text + HTML). Delivery never raises on mail trouble:
without SMTP settings the message is written to the outbox for someone to forward by hand, and when
the server cannot be reached it is queued in `<outbox>/pending/`; `retry_pending` sends the queue at
the start of the next run, so an SMTP outage delays a digest but never loses it.

SMTP host, port and credentials come only from the environment (`BOLIGSOSIAL_SMTP_*`); sender and
recipients from `config/alerts.yaml`, overridable with `BOLIGSOSIAL_ALERT_SENDER` and
`BOLIGSOSIAL_ALERT_RECIPIENTS`.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import html
import logging
import math
import os
import re
import smtplib
import ssl
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from email.header import Header
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Literal

import yaml

from orchestration import settings

logger = logging.getLogger(__name__)

__all__ = [
    "AlertConfig",
    "DeliveryResult",
    "Digest",
    "Finding",
    "FollowUp",
    "SmtpSettings",
    "deliver",
    "format_number",
    "load_alert_config",
    "render_digest",
    "render_failure_alert",
    "retry_pending",
    "send_digest",
    "send_failure_alert",
]

DEFAULT_CONFIG_PATH = settings.CONFIG_DIR / "alerts.yaml"
DEFAULT_SUBJECT_PREFIX = "[boligsosial]"
SMTP_TIMEOUT_SECONDS = 15.0
PENDING_DIR = "pending"
SENT_DIR = "sent"
KIND_HEADER = "X-Boligsosial-Kind"
RUN_HEADER = "X-Boligsosial-Run-Id"
# A full Dagster traceback can be huge; the tail holds the actual exception, so that is what we keep.
MAX_ERROR_CHARS = 20_000

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}
_NBSP = "\u00a0"
_SEVERITY_LABELS = {"ERROR": "FEIL", "WARNING": "ADVARSEL"}
_SEVERITY_COLOURS = {"ERROR": "#b00020", "WARNING": "#8a6d00"}
_SYNTHETIC_NOTICE_NO = "SYNTETISKE DEMODATA – tallene er ikke ekte statistikk."
_SYNTHETIC_NOTICE_EN = "Synthetic demo data – these numbers are not real statistics."


# --------------------------------------------------------------------------------------- settings


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
    raw = yaml.safe_load(config_path.read_text(encoding="utf-8")) or {}

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


# ------------------------------------------------------------------------------------------ model


@dataclass
class Finding:
    finding_id: str
    kind: str
    severity: str  # "ERROR" | "WARNING"
    municipality_code: str
    municipality_name: str
    year: int | None
    measure: str
    observed: float | None
    expected: float | None
    deviation: float | None
    message: str = ""
    previous_deviation: float | None = None  # set for worsened findings


@dataclass
class FollowUp:
    finding_id: str
    municipality_code: str
    municipality_name: str
    status: str
    cause: str | None
    owner: str | None
    deadline: dt.date
    note: str | None = None


@dataclass
class Digest:
    run_id: str
    generated_at: dt.datetime
    warehouse: str
    new: list[Finding] = field(default_factory=list)
    worsened: list[Finding] = field(default_factory=list)
    resolved: list[Finding] = field(default_factory=list)
    overdue: list[FollowUp] = field(default_factory=list)
    synthetic: bool = False

    @property
    def is_empty(self) -> bool:
        return not (self.new or self.worsened or self.resolved or self.overdue)


@dataclass(frozen=True)
class DeliveryResult:
    status: Literal["sent", "written", "pending"]
    path: Path | None = None
    error: str | None = None


# -------------------------------------------------------------------------------------- rendering

# (attribute, Norwegian heading, English subtitle)
_SECTIONS = (
    ("new", "Nye avvik", "New findings since the previous run"),
    ("worsened", "Forverret", "Known findings whose deviation grew"),
    ("resolved", "Løst", "Findings that are no longer present"),
    ("overdue", "Forfalt oppfølging", "Follow-ups past their deadline"),
)


def format_number(value: float | int | None, *, signed: bool = False) -> str:
    """Norwegian style, e.g. `12 345,68`: no-break space between thousands, decimal comma."""
    if value is None:
        return "–"
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    if math.isnan(number):
        return "–"
    if math.isinf(number):
        return "∞" if number > 0 else "-∞"
    if number.is_integer() or abs(number) >= 1000:
        decimals = 0
    elif abs(number) >= 1:
        decimals = 2
    else:  # small rates keep two significant digits instead of becoming 0
        decimals = min(6, 1 - math.floor(math.log10(abs(number))))
    # Half-up like SSB tables and Excel (format() rounds half-even: 9876.5 would show as 9 876).
    rounded = Decimal(repr(number)).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    if rounded == 0:
        rounded = abs(rounded)  # no "-0"
    text = f"{rounded:,.{decimals}f}"
    if decimals:
        text = text.rstrip("0").rstrip(".")
    text = text.replace(",", _NBSP).replace(".", ",")
    return f"+{text}" if signed and rounded > 0 else text


def render_digest(digest: Digest, config: AlertConfig | None = None) -> EmailMessage:
    """The data-quality digest as multipart/alternative (plain text + escaped HTML)."""
    config = config or load_alert_config()
    counts = (
        f"{len(digest.new)} nye, {len(digest.worsened)} forverret, "
        f"{len(digest.resolved)} løst, {len(digest.overdue)} forfalt"
    )
    synthetic_tag = "[SYNTETISK] " if digest.synthetic else ""
    subject = f"{config.subject_prefix} {synthetic_tag}Datakvalitet: {counts}"

    message = _new_message(config, subject, kind="digest", run_id=digest.run_id)
    message.set_content(_digest_text(digest, counts))
    message.add_alternative(_digest_html(digest, subject, counts), subtype="html")
    return message


def render_failure_alert(
    job_name: str,
    step_key: str | None,
    error: str,
    run_id: str,
    when: dt.datetime,
    config: AlertConfig | None = None,
) -> EmailMessage:
    """Alert for a failed Dagster run; `step_key` is None when the run failed outside a step."""
    config = config or load_alert_config()
    step = step_key or "(hele kjøringen)"
    subject = f"{config.subject_prefix} Kjøring feilet: {_one_line(job_name)} / {_one_line(step)}"
    if len(error) > MAX_ERROR_CHARS:
        error = "… (forkortet / truncated)\n" + error[-MAX_ERROR_CHARS:]
    rows = [("Jobb", job_name), ("Steg", step), ("Kjøring", run_id), ("Tidspunkt", _format_when(when))]

    text = ["Kjøring feilet", "A Dagster run failed", ""]
    text += [f"{label + ':':<11}{value}" for label, value in rows]
    text += ["", "Feilmelding (error):", error]

    body = [
        '<h1 style="font-size:20px;margin:0;color:#b00020;">Kjøring feilet</h1>',
        f'<p style="{_SUBTITLE_STYLE}">A Dagster run failed</p>',
        '<table style="border-collapse:collapse;">',
        *(f'<tr><th style="{_TH_STYLE}">{_esc(label)}</th>{_td(value)}</tr>' for label, value in rows),
        "</table>",
        '<h2 style="font-size:16px;margin:24px 0 0;">Feilmelding</h2>',
        f'<p style="{_SUBTITLE_STYLE}">Error</p>',
        f'<pre style="background:#f4f4f4;padding:8px;white-space:pre-wrap;">{_esc(error)}</pre>',
    ]

    message = _new_message(config, subject, kind="failure", run_id=run_id)
    message.set_content("\n".join(text) + "\n")
    message.add_alternative(_html_document(subject, body), subtype="html")
    return message


def _new_message(config: AlertConfig, subject: str, *, kind: str, run_id: str) -> EmailMessage:
    message = EmailMessage()
    _set_subject(message, _one_line(subject))
    message["From"] = config.sender
    message["To"] = ", ".join(config.recipients)
    message["Date"] = formatdate(localtime=True)
    # Domain given explicitly so make_msgid does not do a (possibly slow) hostname lookup.
    message["Message-ID"] = make_msgid(domain=config.sender.rpartition("@")[2] or "localhost")
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: stops out-of-office replies to a robot
    message[KIND_HEADER] = kind
    message[RUN_HEADER] = _one_line(run_id)
    return message


def _set_subject(message: EmailMessage, subject: str) -> None:
    if subject.isascii():
        message["Subject"] = subject
        return
    # CPython's folder may wrap between a space and an encoded word, which decodes as a doubled space
    # ("2  løst"). Pre-encoded RFC 2047 words avoid that: whitespace between them is dropped on decoding.
    message.set_raw("Subject", Header(subject, "utf-8", header_name="Subject").encode(linesep="\n"))


def _one_line(value: object) -> str:
    # Headers must not carry CR/LF (header injection); job names and run ids come from outside.
    return " ".join(str(value).split())


def _format_when(value: dt.datetime) -> str:
    text = value.strftime("%Y-%m-%d %H:%M")
    return f"{text} {value.tzname()}" if value.tzinfo else text


def _municipality(code: str, name: str) -> str:
    return " ".join(part for part in (code, name) if part)


def _observed_text(finding: Finding, value: float | None) -> str:
    """Stale-source findings carry periods (YYYY, YYYYMM, YYYYMMDD), not amounts: show them as dates."""
    if finding.kind == "stale_source" and value is not None:
        digits = str(int(value))
        return "-".join(part for part in (digits[:4], digits[4:6], digits[6:8]) if part)
    return format_number(value)


def _deviation_text(finding: Finding) -> str:
    text = format_number(finding.deviation, signed=True)
    if finding.previous_deviation is not None:
        text += f" (var {format_number(finding.previous_deviation, signed=True)})"
    return text


def _days_overdue(follow_up: FollowUp, today: dt.date) -> int:
    return max(0, (today - follow_up.deadline).days)


# --- plain text


def _digest_text(digest: Digest, counts: str) -> str:
    lines: list[str] = []
    if digest.synthetic:
        lines += [f"*** {_SYNTHETIC_NOTICE_NO} ***", f"*** {_SYNTHETIC_NOTICE_EN} ***", ""]
    lines += [
        "Datakvalitet – boligsosial",
        "Data-quality digest",
        "",
        f"Kjøring: {digest.run_id}",
        f"Generert: {_format_when(digest.generated_at)}",
        f"Lager: {digest.warehouse}",
        f"Oppsummert: {counts}",
    ]
    today = digest.generated_at.date()
    for attribute, heading, subtitle in _SECTIONS:
        items = getattr(digest, attribute)
        if not items:
            continue
        title = f"{heading} ({len(items)})"
        lines += ["", title, "=" * len(title), subtitle, ""]
        for item in items:
            if isinstance(item, FollowUp):
                lines += _follow_up_text(item, today)
            else:
                lines += _finding_text(item)
    return "\n".join(lines) + "\n"


def _finding_text(finding: Finding) -> list[str]:
    severity = _SEVERITY_LABELS.get(finding.severity.upper(), finding.severity)
    municipality = _municipality(finding.municipality_code, finding.municipality_name)
    where = " · ".join(part for part in (municipality, str(finding.year or ""), finding.measure) if part)
    lines = [
        f"- [{severity}] {where}",
        f"  målt {_observed_text(finding, finding.observed)}, forventet {_observed_text(finding, finding.expected)},"
        f" avvik {_deviation_text(finding)}",
    ]
    if finding.message:
        lines.append(f"  {finding.kind}: {finding.message}")
    lines.append(f"  id: {finding.finding_id}")
    return lines


def _follow_up_text(follow_up: FollowUp, today: dt.date) -> list[str]:
    days = _days_overdue(follow_up, today)
    lines = [
        f"- {_municipality(follow_up.municipality_code, follow_up.municipality_name)}: "
        f"frist {follow_up.deadline.isoformat()} ({days} dager over), status {follow_up.status}",
        f"  ansvarlig: {follow_up.owner or '–'}; årsak: {follow_up.cause or '–'}",
    ]
    if follow_up.note:
        lines.append(f"  notat: {follow_up.note}")
    lines.append(f"  id: {follow_up.finding_id}")
    return lines


# --- HTML (every value from data passes through _esc / _td)

_TH_STYLE = "text-align:left;border-bottom:2px solid #333;padding:4px 8px;"
_TD_STYLE = "border-bottom:1px solid #ddd;padding:4px 8px;vertical-align:top;"
_SUBTITLE_STYLE = "margin:2px 0 8px;color:#555;font-style:italic;"


def _esc(value: object) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _td(value: object, *, numeric: bool = False, style: str = "") -> str:
    align = "text-align:right;white-space:nowrap;" if numeric else ""
    return f'<td style="{_TD_STYLE}{align}{style}">{_esc(value)}</td>'


def _html_document(title: str, body: Sequence[str]) -> str:
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="no"><head><meta charset="utf-8">',
            f"<title>{_esc(title)}</title></head>",
            '<body style="font-family:Arial,Helvetica,sans-serif;font-size:14px;color:#1a1a1a;">',
            *body,
            "</body></html>",
        ]
    )


def _digest_html(digest: Digest, subject: str, counts: str) -> str:
    body: list[str] = []
    if digest.synthetic:
        body.append(
            '<p style="background:#fff3cd;border:1px solid #e0a800;padding:8px;font-weight:bold;">'
            f"{_esc(_SYNTHETIC_NOTICE_NO)}<br>{_esc(_SYNTHETIC_NOTICE_EN)}</p>"
        )
    body += [
        '<h1 style="font-size:20px;margin:0;">Datakvalitet – boligsosial</h1>',
        f'<p style="{_SUBTITLE_STYLE}">Data-quality digest</p>',
        f"<p>Kjøring <code>{_esc(digest.run_id)}</code> · generert {_esc(_format_when(digest.generated_at))}"
        f" · lager <code>{_esc(digest.warehouse)}</code></p>",
        f"<p><strong>{_esc(counts)}</strong></p>",
    ]
    today = digest.generated_at.date()
    for attribute, heading, subtitle in _SECTIONS:
        items = getattr(digest, attribute)
        if not items:
            continue
        body += [
            f'<h2 style="font-size:16px;margin:24px 0 0;">{_esc(heading)} ({len(items)})</h2>',
            f'<p style="{_SUBTITLE_STYLE}">{_esc(subtitle)}</p>',
        ]
        if attribute == "overdue":
            body += _follow_up_table(items, today)
        else:
            body += _finding_table(items, with_previous=attribute == "worsened")
    return _html_document(subject, body)


def _table(headers: Sequence[str], rows: Sequence[str]) -> list[str]:
    head = "".join(f'<th style="{_TH_STYLE}">{_esc(h)}</th>' for h in headers)
    return ['<table style="border-collapse:collapse;">', f"<tr>{head}</tr>", *rows, "</table>"]


def _finding_table(findings: Sequence[Finding], *, with_previous: bool) -> list[str]:
    headers = ["Alvorlighet", "Kommune", "År", "Måltall", "Type", "Målt", "Forventet", "Avvik"]
    if with_previous:
        headers.append("Forrige avvik")
    headers.append("Melding")
    rows = []
    for f in findings:
        severity = f.severity.upper()
        colour = f"color:{_SEVERITY_COLOURS.get(severity, '#1a1a1a')};font-weight:bold;"
        cells = [
            _td(_SEVERITY_LABELS.get(severity, f.severity), style=colour),
            _td(_municipality(f.municipality_code, f.municipality_name)),
            _td(f.year if f.year is not None else "–"),
            _td(f.measure),
            _td(f.kind),
            _td(_observed_text(f, f.observed), numeric=True),
            _td(_observed_text(f, f.expected), numeric=True),
            _td(format_number(f.deviation, signed=True), numeric=True),
        ]
        if with_previous:
            cells.append(_td(format_number(f.previous_deviation, signed=True), numeric=True))
        cells.append(
            f'<td style="{_TD_STYLE}">{_esc(f.message)}'
            f'<br><span style="color:#777;font-size:12px;">id {_esc(f.finding_id)}</span></td>'
        )
        rows.append(f"<tr>{''.join(cells)}</tr>")
    return _table(headers, rows)


def _follow_up_table(follow_ups: Sequence[FollowUp], today: dt.date) -> list[str]:
    headers = ["Kommune", "Frist", "Dager over", "Status", "Ansvarlig", "Årsak", "Notat"]
    rows = [
        "<tr>"
        + "".join(
            [
                _td(_municipality(u.municipality_code, u.municipality_name)),
                _td(u.deadline.isoformat()),
                _td(format_number(_days_overdue(u, today)), numeric=True),
                _td(u.status),
                _td(u.owner or "–"),
                _td(u.cause or "–"),
                f'<td style="{_TD_STYLE}">{_esc(u.note or "")}'
                f'<br><span style="color:#777;font-size:12px;">id {_esc(u.finding_id)}</span></td>',
            ]
        )
        + "</tr>"
        for u in follow_ups
    ]
    return _table(headers, rows)


# --------------------------------------------------------------------------------------- delivery


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
