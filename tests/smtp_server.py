"""A real SMTP server for tests (aiosmtpd in a thread) that keeps every message it receives."""

from __future__ import annotations

import email
import email.policy
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Mailbox:
    """What the server received: each message with its envelope, and the logins it accepted."""

    port: int
    messages: list[tuple[list[str], EmailMessage]] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's name
        """Keep the message (parsed) and its recipients."""
        message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        with self.lock:
            self.messages.append((list(envelope.rcpt_tos), message))  # type: ignore[arg-type]
        return "250 OK"

    def wait_for(self, count: int, timeout: float = 10) -> list[tuple[list[str], EmailMessage]]:
        """The messages once at least ``count`` arrived (or what there is after ``timeout``)."""
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return list(self.messages)


def _authenticator(mailbox: Mailbox, user: str, password: str) -> Any:
    """An aiosmtpd authenticator accepting one user and password."""

    def check(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        ok = isinstance(data, LoginPassword) and data.login.decode() == user and data.password.decode() == password
        if ok:
            mailbox.logins.append(user)
        return AuthResult(success=ok)

    return check


@contextmanager
def smtp_server(port: int | None = None, login: tuple[str, str] | None = None) -> Iterator[Mailbox]:
    """Run an SMTP server on a loopback port (requiring ``login`` when given) until the block ends."""
    mailbox = Mailbox(port or free_port())
    extra: dict[str, Any] = {}
    if login:
        extra = {"authenticator": _authenticator(mailbox, *login), "auth_required": True, "auth_require_tls": False}
    controller = Controller(mailbox, hostname="127.0.0.1", port=mailbox.port, **extra)
    controller.start()
    try:
        yield mailbox
    finally:
        controller.stop()
