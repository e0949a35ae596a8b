"""A real SMTP server on 127.0.0.1 (aiosmtpd) that keeps what it receives, for the alert tests."""

from __future__ import annotations

import email
import email.policy
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage

from aiosmtpd.controller import Controller

from orchestration.alerts import SmtpSettings


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
