"""Captured messages, parsed once on arrival and appended to a JSON-lines file so a restart keeps them."""

from __future__ import annotations

import json
import threading
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class CapturedMessage:
    id: str
    received_at: str
    envelope_from: str
    envelope_to: list[str]
    message_id: str
    sender: str
    to: list[str]
    cc: list[str]
    subject: str
    text: str
    html: str
    headers: dict[str, str] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        body = asdict(self)
        # "from" is what readers expect; it is a keyword in Python, hence the field name.
        body["from"] = body.pop("sender")
        body["message-id"] = self.message_id
        return body


def _addresses(message: EmailMessage, header: str) -> list[str]:
    return [address for _, address in getaddresses(message.get_all(header, [])) if address]


def _body(message: EmailMessage, subtype: str) -> str:
    part = message.get_body(preferencelist=(subtype,))
    if part is None or not isinstance(part, EmailMessage):
        return ""
    content = part.get_content()
    return content if isinstance(content, str) else content.decode(errors="replace")


def parse_message(raw: bytes, envelope_from: str, envelope_to: list[str]) -> CapturedMessage:
    message = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(message, EmailMessage)
    return CapturedMessage(
        id=uuid.uuid4().hex,
        received_at=datetime.now(UTC).isoformat(),
        envelope_from=envelope_from,
        envelope_to=list(envelope_to),
        message_id=str(message.get("Message-ID", "")).strip(),
        sender=str(message.get("From", "")),
        to=_addresses(message, "To"),
        cc=_addresses(message, "Cc"),
        subject=str(message.get("Subject", "")),
        text=_body(message, "plain"),
        html=_body(message, "html"),
        headers={key: str(value) for key, value in message.items()},
    )


class MessageStore:
    def __init__(self, journal: Path | None = None) -> None:
        self.journal = journal
        self._messages: list[CapturedMessage] = []
        self._lock = threading.Lock()
        if journal is not None and journal.exists():
            for line in journal.read_text().splitlines():
                if line.strip():
                    self._messages.append(CapturedMessage(**json.loads(line)))

    def add(self, message: CapturedMessage) -> None:
        with self._lock:
            self._messages.append(message)
            if self.journal is not None:
                with self.journal.open("a") as journal:
                    journal.write(json.dumps(asdict(message)) + "\n")

    def all(self) -> list[CapturedMessage]:
        with self._lock:
            return list(self._messages)

    def get(self, message_id: str) -> CapturedMessage | None:
        return next((m for m in self.all() if m.id == message_id), None)

    def clear(self) -> None:
        with self._lock:
            self._messages.clear()
            if self.journal is not None:
                self.journal.write_text("")
