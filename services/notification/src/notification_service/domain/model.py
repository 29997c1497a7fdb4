"""Value objects of an email on its way from an event to an SMTP server."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID


@dataclass(frozen=True)
class EmailRequest:
    """An event's request for one email: which template, to whom, with which fields."""

    event_id: UUID
    event_type: str
    template: str
    to: str
    fields: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RenderedEmail:
    """A template's output: the subject and both bodies."""

    subject: str
    text: str
    html: str


@dataclass(frozen=True)
class OutgoingEmail:
    """Everything the SMTP adapter needs; ``message_id`` comes from the event id (``message_id_for``)."""

    event_id: UUID
    message_id: str
    to: str
    subject: str
    text: str
    html: str


def message_id_for(event_id: UUID, domain: str) -> str:
    """Deterministic Message-ID: a re-sent event carries the same id, so mail clients can fold duplicates."""
    return f"<{event_id}@{domain}>"
