"""The alert channel: a data-quality digest and failure alerts to the SSB working group, by email.

Every mail is multipart/alternative (plain text + HTML). Delivery never raises on mail trouble:
without SMTP settings the message is written to the outbox for someone to forward by hand, and when
the server cannot be reached it is queued in `<outbox>/pending/`; `retry_pending` sends the queue at
the start of the next run, so an SMTP outage delays a digest but never loses it.

SMTP host, port and credentials come only from the environment (`BOLIGSOSIAL_SMTP_*`); sender and
recipients from `config/alerts.yaml`, overridable with `BOLIGSOSIAL_ALERT_SENDER` and
`BOLIGSOSIAL_ALERT_RECIPIENTS`.
"""

from orchestration.alerts.config import AlertConfig, SmtpSettings, load_alert_config
from orchestration.alerts.deliver import deliver, retry_pending, send_digest, send_failure_alert
from orchestration.alerts.model import DeliveryResult, Digest, Finding, FollowUp
from orchestration.alerts.render import render_digest, render_failure_alert
from orchestration.formatting import format_number

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
