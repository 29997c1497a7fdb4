"""In-memory stand-ins for the delivery use case's own ports (SMTP sender, ledger) — unit tests only."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable
from uuid import UUID

from notification_service.domain.errors import DeliveryError
from notification_service.domain.model import OutgoingEmail


class ScriptedSender:
    """Fails with the scripted errors in order, then accepts; ``probe_errors`` likewise for probes."""

    def __init__(
        self, errors: list[DeliveryError] | None = None, probe_errors: list[Exception] | None = None
    ):
        self.errors = list(errors or [])
        self.probe_errors = list(probe_errors or [])
        self.accepted: list[OutgoingEmail] = []
        self.attempts = 0
        self.probes = 0
        self.after_accept: Callable[[OutgoingEmail], None] = lambda email: None

    async def send(self, email: OutgoingEmail, *, on_accepted: Callable[[], Awaitable[None]]) -> None:
        self.attempts += 1
        await asyncio.sleep(0)
        if self.errors:
            raise self.errors.pop(0)
        self.accepted.append(email)
        await on_accepted()
        self.after_accept(email)

    async def probe(self) -> None:
        self.probes += 1
        if self.probe_errors:
            raise self.probe_errors.pop(0)


class InMemoryLedger:
    def __init__(self) -> None:
        self.states: dict[UUID, str] = {}
        self._tokens = itertools.count()
        self.fail_mark_sent = 0
        self.fail_claims = 0
        self.on_claim: Callable[[UUID], None] | None = None

    async def is_sent(self, event_id: UUID) -> bool:
        return self.states.get(event_id) == "sent"

    async def claim(self, event_id: UUID) -> str | None:
        if self.fail_claims:
            self.fail_claims -= 1
            raise ConnectionError("redis is restarting")
        if event_id in self.states:
            return None
        token = f"claimed:{next(self._tokens)}"
        self.states[event_id] = token
        return token

    async def release(self, event_id: UUID, claim: str) -> None:
        if self.states.get(event_id) == claim:
            del self.states[event_id]

    async def mark_sent(self, event_id: UUID) -> None:
        if self.fail_mark_sent:
            self.fail_mark_sent -= 1
            raise ConnectionError("redis went away")
        self.states[event_id] = "sent"
