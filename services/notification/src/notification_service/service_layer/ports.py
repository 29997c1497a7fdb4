"""What the delivery use case needs from outside (implemented in ``adapters``, faked in unit tests)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol
from uuid import UUID

from notification_service.domain.model import OutgoingEmail, RenderedEmail


class EmailRenderer(Protocol):
    def render(self, template: str, fields: Mapping[str, Any]) -> RenderedEmail:
        """Render subject, text and HTML; raise ``UndeliverableEmailError`` if a field is missing."""
        ...


class EmailSender(Protocol):
    async def send(self, email: OutgoingEmail, *, on_accepted: Callable[[], Awaitable[None]]) -> None:
        """Return only once the SMTP server accepted the message; else raise a ``DeliveryError``.

        ``on_accepted`` is awaited as soon as the server answered 250 to DATA (before QUIT); once it ran, the
        send counts as done whatever happens to the connection afterwards.
        """
        ...

    async def probe(self) -> None:
        """Open a session and say NOOP; raise ``SmtpUnavailableError`` when the server cannot be used."""
        ...


class DeliveryLedger(Protocol):
    """Per-event delivery record: absent -> claimed (leased to one sender) -> sent."""

    async def is_sent(self, event_id: UUID) -> bool: ...

    async def claim(self, event_id: UUID) -> str | None:
        """Lease the event to this sender; returns a claim token, or None if it is claimed or already sent."""
        ...

    async def release(self, event_id: UUID, claim: str) -> None:
        """Give the lease back after a failed attempt (only if it is still ours)."""
        ...

    async def mark_sent(self, event_id: UUID) -> None: ...
