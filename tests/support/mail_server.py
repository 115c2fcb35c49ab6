"""A real SMTP server on a loopback port for tests, keeping every message it takes.

aiosmtpd runs in its own thread; the tests reach it as the product would, through
smtplib. It can ask for a login, refuse chosen recipients and answer slowly, which
is what the delivery tests need to show failures and races.
"""

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

HOST = "127.0.0.1"


def free_port() -> int:
    """A loopback port nothing listens on (the kernel's choice, released at once)."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


@dataclass
class Received:
    """One message as the server took it: the envelope and the parsed email."""

    sender: str
    recipients: list[str]
    email: EmailMessage


@dataclass
class Inbox:
    """The aiosmtpd handler: stores messages, refuses the listed recipients."""

    refuse: set[str] = field(default_factory=set)
    delay: float = 0.0
    messages: list[Received] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)
    _arrived: threading.Condition = field(default_factory=threading.Condition)

    async def handle_RCPT(self, server, session, envelope, address, options):
        if address in self.refuse:
            return "550 5.1.1 No such mailbox here"

        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            # Blocks the server's loop on purpose: a slow server widens the window
            # in which two deliverers could both send the same message.
            time.sleep(self.delay)

        parsed = message_from_bytes(envelope.content, policy=policy.default)
        with self._arrived:
            self.messages.append(
                Received(envelope.mail_from, list(envelope.rcpt_tos), parsed)
            )
            self._arrived.notify_all()

        return "250 Message accepted"

    def wait_for(self, count: int, timeout: float = 5.0) -> list[Received]:
        """The messages once at least `count` arrived; fails after the timeout."""
        with self._arrived:
            arrived = self._arrived.wait_for(
                lambda: len(self.messages) >= count, timeout
            )

        assert arrived, f"{len(self.messages)} of {count} messages arrived"
        return list(self.messages)


@dataclass
class Server:
    port: int
    inbox: Inbox


@contextmanager
def running(*, login: tuple[str, str] | None = None, **inbox) -> Iterator[Server]:
    """An SMTP server on a free loopback port for the length of the block.

    With login=(user, password) it offers AUTH over plain text (the loopback needs
    no TLS), accepts only that login, and notes each one it accepted in
    inbox.logins.
    """
    handler = Inbox(**inbox)
    options = {}
    if login is not None:
        options = {
            "authenticator": _Authenticator(handler, *login),
            "auth_require_tls": False,
        }

    port = free_port()
    controller = Controller(handler, hostname=HOST, port=port, **options)
    controller.start()
    try:
        yield Server(port, handler)
    finally:
        controller.stop()


class _Authenticator:
    def __init__(self, inbox: Inbox, user: str, password: str):
        self.inbox = inbox
        self.expected = (user.encode(), password.encode())

    def __call__(self, server, session, envelope, mechanism, auth_data):
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)

        accepted = (auth_data.login, auth_data.password) == self.expected
        if accepted:
            self.inbox.logins.append(auth_data.login.decode())

        return AuthResult(success=accepted, handled=False)
