"""Rendering: the digest and failure alerts as multipart/alternative mail (plain text + escaped HTML)."""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Sequence
from dataclasses import dataclass
from email.header import Header
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from orchestration.alerts.config import AlertConfig, load_alert_config
from orchestration.alerts.model import Digest, Finding, FollowUp
from orchestration.formatting import format_number

KIND_HEADER = "X-Boligsosial-Kind"
RUN_HEADER = "X-Boligsosial-Run-Id"
# A full Dagster traceback can be huge; the tail holds the actual exception, so that is what we keep.
MAX_ERROR_CHARS = 20_000

_SEVERITY_LABELS = {"ERROR": "FEIL", "WARNING": "ADVARSEL"}
_SEVERITY_COLOURS = {"ERROR": "#b00020", "WARNING": "#8a6d00"}
_SYNTHETIC_NOTICE_NO = "SYNTETISKE DEMODATA – tallene er ikke ekte statistikk."
_SYNTHETIC_NOTICE_EN = "Synthetic demo data – these numbers are not real statistics."
_REGISTER_HEADING = "Oppfølgingsregisteret kunne ikke leses"
_REGISTER_SUBTITLE = "The follow-up register could not be read; the previous one is used until it is corrected"


# (attribute, Norwegian heading, English subtitle)
_SECTIONS = (
    ("new", "Nye avvik", "New findings since the previous run"),
    ("worsened", "Forverret", "Known findings whose deviation grew"),
    ("resolved", "Løst", "Findings that are no longer present"),
    ("overdue", "Forfalt oppfølging", "Follow-ups past their deadline"),
)


def render_digest(digest: Digest, config: AlertConfig | None = None) -> EmailMessage:
    """The data-quality digest as multipart/alternative (plain text + escaped HTML)."""
    config = config or load_alert_config()
    counts = (
        f"{len(digest.new)} nye, {len(digest.worsened)} forverret, "
        f"{len(digest.resolved)} løst, {len(digest.overdue)} forfalt"
    )
    synthetic_tag = "[SYNTETISK] " if digest.synthetic else ""
    register = " · oppfølgingsregisteret har feil" if digest.register_errors else ""
    subject = f"{config.subject_prefix} {synthetic_tag}Datakvalitet: {counts}{register}"

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


# --- grouping: one line per municipality and check, the years listed, the count behind it


@dataclass
class FindingGroup:
    """The findings of one municipality and one check (kind and measure); the register keeps them apart."""

    findings: list[Finding]

    @property
    def first(self) -> Finding:
        """The finding shown in full: the largest deviation (the worst year)."""
        return max(self.findings, key=lambda f: (abs(f.deviation) if f.deviation is not None else -1.0,
                                                 f.year or 0))

    @property
    def years(self) -> list[int]:
        return sorted({f.year for f in self.findings if f.year is not None})

    @property
    def years_text(self) -> str:
        return ", ".join(str(y) for y in self.years)


def group_findings(findings: Sequence[Finding]) -> list[FindingGroup]:
    """Findings grouped by municipality and check, in the order their first finding came."""
    groups: dict[tuple, FindingGroup] = {}
    for f in findings:
        key = (f.municipality_code, f.kind, f.measure, f.severity.upper())
        groups.setdefault(key, FindingGroup([])).findings.append(f)
    return list(groups.values())


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
    if digest.register_errors:
        title = f"{_REGISTER_HEADING} ({len(digest.register_errors)} feil)"
        lines += ["", title, "=" * len(title), _REGISTER_SUBTITLE, ""]
        lines += [f"Fil: {digest.register_path}"] if digest.register_path else []
        lines += [f"- {_one_line(error)}" for error in digest.register_errors]
    today = digest.generated_at.date()
    for attribute, heading, subtitle in _SECTIONS:
        items = getattr(digest, attribute)
        if not items:
            continue
        title = f"{heading} ({len(items)})"
        lines += ["", title, "=" * len(title), subtitle, ""]
        if attribute == "overdue":
            for item in items:
                lines += _follow_up_text(item, today)
        else:
            for group in group_findings(items):
                lines += _group_text(group)
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


def _group_text(group: FindingGroup) -> list[str]:
    if len(group.findings) == 1:
        return _finding_text(group.first)
    f = group.first
    severity = _SEVERITY_LABELS.get(f.severity.upper(), f.severity)
    municipality = _municipality(f.municipality_code, f.municipality_name)
    lines = [
        f"- [{severity}] {municipality} · {f.measure} · {f.kind}: {len(group.findings)} funn, år {group.years_text}",
        f"  størst avvik {f.year or '–'}: målt {_observed_text(f, f.observed)}, forventet "
        f"{_observed_text(f, f.expected)}, avvik {_deviation_text(f)}",
    ]
    if f.message:
        lines.append(f"  {f.kind}: {f.message}")
    lines.append("  id: " + ", ".join(x.finding_id for x in group.findings))
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
    if digest.register_errors:
        body += [
            f'<h2 style="font-size:16px;margin:24px 0 0;color:{_SEVERITY_COLOURS["WARNING"]};">'
            f"{_esc(_REGISTER_HEADING)} ({len(digest.register_errors)} feil)</h2>",
            f'<p style="{_SUBTITLE_STYLE}">{_esc(_REGISTER_SUBTITLE)}</p>',
            *([f"<p>Fil: <code>{_esc(digest.register_path)}</code></p>"] if digest.register_path else []),
            "<ul>", *(f"<li>{_esc(error)}</li>" for error in digest.register_errors), "</ul>",
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
    headers.insert(3, "Antall")
    rows = []
    for group in group_findings(findings):
        f = group.first
        severity = f.severity.upper()
        colour = f"color:{_SEVERITY_COLOURS.get(severity, '#1a1a1a')};font-weight:bold;"
        years = group.years_text if len(group.findings) > 1 else (f.year if f.year is not None else "–")
        cells = [
            _td(_SEVERITY_LABELS.get(severity, f.severity), style=colour),
            _td(_municipality(f.municipality_code, f.municipality_name)),
            _td(years or "–"),
            _td(len(group.findings), numeric=True),
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
            f'<br><span style="color:#777;font-size:12px;">id '
            f'{_esc(", ".join(x.finding_id for x in group.findings))}</span></td>'
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


