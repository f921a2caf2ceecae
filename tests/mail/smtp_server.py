"""A real SMTP server on loopback for tests: aiosmtpd's Controller, keeping what it receives.

`SmtpServer.start()` / `.stop()` may be called again on the same port, so a test can take the
server down and bring it back. Addresses in `refuse` get 550 at RCPT, as a real server answers
for an unknown mailbox (RFC 5321 4.2.2).
"""

from __future__ import annotations

import email
import email.policy
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage

    @property
    def text(self) -> str:
        return self.message.get_body(("plain",)).get_content()

    @property
    def html(self) -> str:
        part = self.message.get_body(("html",))
        return part.get_content() if part is not None else ""


class _Handler:
    def __init__(self, server: SmtpServer):
        self.server = server

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 - aiosmtpd's name
        if address.lower() in self.server.refuse:
            return "550 5.1.1 no such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.server.lock:
            self.server.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), msg))
            self.server.arrived.set()
        return "250 Message accepted for delivery"


@dataclass
class SmtpServer:
    port: int = field(default_factory=free_port)
    refuse: set[str] = field(default_factory=set)
    received: list[Received] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.lock = threading.Lock()
        self.arrived = threading.Event()
        self._controller: Controller | None = None

    def start(self) -> SmtpServer:
        self._controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def to(self, address: str) -> list[Received]:
        with self.lock:
            return [r for r in self.received if address in r.rcpt_tos]

    def wait_for(self, address: str, *, count: int = 1, timeout: float = 10.0) -> list[Received]:
        """The messages received for address once there are count of them (fails after timeout)."""
        import time

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = self.to(address)
            if len(got) >= count:
                return got
            self.arrived.wait(0.05)
            self.arrived.clear()
        raise AssertionError(f"no {count} message(s) for {address} within {timeout}s; got {len(self.to(address))}")


@contextmanager
def running_smtp() -> Iterator[SmtpServer]:
    """A started SmtpServer for the block (a module fixture's body: `with running_smtp() as s: yield s`)."""
    server = SmtpServer().start()
    try:
        yield server
    finally:
        server.stop()


def smtp_settings(server: SmtpServer) -> dict[str, object]:
    """The gateway settings that send its e-mail to server, in plain SMTP."""
    return {"smtp_host": "127.0.0.1", "smtp_port": server.port, "smtp_security": "none"}

