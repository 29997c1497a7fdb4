"""A real SMTP server on loopback (aiosmtpd) whose answers a test scripts: 550 for some recipients, 421 for a
while, 554 to our MAIL FROM, so each failure class is exercised over a real SMTP conversation."""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from typing import Any

from aiosmtpd.controller import Controller
from gigstack_testinfra.net import free_port


@dataclass
class SmtpScript:
    """What the server answers; tests change it while the service runs."""

    rejected_local_parts: dict[str, str] = field(default_factory=dict)  # prefix -> reply, e.g. "550 ..."
    mail_from_reply: str | None = None  # e.g. "554 5.7.1 Sender address not verified"
    service_unavailable_until: float = 0.0  # monotonic; RCPT answers 421 until then


class ScriptedHandler:
    def __init__(self, script: SmtpScript) -> None:
        self.script = script
        self.rcpt_attempts: Counter[str] = Counter()
        self.mail_attempts = 0
        self.accepted: list[Message] = []
        self._lock = threading.Lock()

    async def handle_MAIL(  # noqa: N802 - aiosmtpd's hook name
        self, server: Any, session: Any, envelope: Any, address: str, mail_options: list[str]
    ) -> str:
        with self._lock:
            self.mail_attempts += 1
        if self.script.mail_from_reply:
            return self.script.mail_from_reply
        envelope.mail_from = address
        return "250 OK"

    async def handle_RCPT(  # noqa: N802
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        with self._lock:
            self.rcpt_attempts[address] += 1
        if time.monotonic() < self.script.service_unavailable_until:
            return "421 4.3.2 Service shutting down, try again later"
        local = address.partition("@")[0]
        for prefix, reply in self.script.rejected_local_parts.items():
            if local.startswith(prefix):
                return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        with self._lock:
            self.accepted.append(message_from_bytes(envelope.content))
        return "250 Message accepted"

    def recipients(self) -> list[str]:
        with self._lock:
            return [str(message["To"]) for message in self.accepted]


class ScriptedSmtpServer:
    def __init__(self) -> None:
        self.script = SmtpScript()
        self.handler = ScriptedHandler(self.script)
        self.host = "127.0.0.1"
        self.port = free_port()
        self._controller = Controller(self.handler, hostname=self.host, port=self.port)

    def start(self) -> None:
        self._controller.start()

    def stop(self) -> None:
        self._controller.stop()
