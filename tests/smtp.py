"""A real SMTP server for the mail tests (aiosmtpd), and what it received.

`smtp_server` (tests/conftest.py) starts one on a free local port for a test and points Django's
SMTP backend at it; tests read the messages it really received, parsed by the standard library.
"""

from __future__ import annotations

import email
import email.policy
import socket
import threading
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["Subject"] or "")

    def text(self) -> str:
        part = self.message.get_body(preferencelist=("plain",))
        return part.get_content() if part is not None else ""

    def html(self) -> str:
        part = self.message.get_body(preferencelist=("html",))
        return part.get_content() if part is not None else ""


@dataclass
class Recorder:
    """The aiosmtpd handler: keeps every message; can refuse the next N ones to test retries."""

    messages: list[Received] = field(default_factory=list)
    refuse_next: int = 0
    refusal: str = "451 4.3.0 Try again later"
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            if self.refuse_next > 0:
                self.refuse_next -= 1
                return self.refusal
            parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
            self.messages.append(
                Received(envelope.mail_from, list(envelope.rcpt_tos), parsed)  # type: ignore[arg-type]
            )
        return "250 OK"

    def to(self, address: str) -> list[Received]:
        return [m for m in self.messages if address in m.rcpt_tos]


@dataclass
class SmtpServer:
    host: str
    port: int
    recorder: Recorder
    controller: Controller

    @property
    def messages(self) -> list[Received]:
        return self.recorder.messages

    def stop(self) -> None:
        self.controller.stop()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_smtp_server() -> SmtpServer:
    recorder = Recorder()
    port = free_port()
    controller = Controller(recorder, hostname="127.0.0.1", port=port)
    controller.start()
    return SmtpServer("127.0.0.1", port, recorder, controller)
