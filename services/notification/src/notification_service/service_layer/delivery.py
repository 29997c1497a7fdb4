"""Deliver one email event: compose, render, claim in the ledger, send, record as sent.

Guarantees: an event is acknowledged only after the SMTP server accepted its email (the caller acks when
``deliver`` returns); an event recorded as sent is never sent again; a claim leases the event to one
sender, so concurrent duplicates wait instead of racing. The one window left is a crash between the
server's final 250 and the ledger write: the lease then expires and the redelivered event is sent again,
with the same Message-ID (we choose a rare duplicate over a lost email; see the service README).
"""

from __future__ import annotations

import asyncio
import enum
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from notification_service.domain.composition import email_request_from_event
from notification_service.domain.errors import (
    DeliveryDeferredError,
    SmtpConfigurationError,
    SmtpUnavailableError,
    UndeliverableEmailError,
)
from notification_service.domain.model import OutgoingEmail, message_id_for
from notification_service.service_layer.availability import SmtpAvailability
from notification_service.service_layer.ports import DeliveryLedger, EmailRenderer, EmailSender

logger = logging.getLogger(__name__)


class DeliveryOutcome(enum.Enum):
    SENT = "sent"
    DUPLICATE = "duplicate"


@dataclass(frozen=True)
class DeliveryPolicy:
    public_url: str
    message_id_domain: str
    # How long one message may wait (SMTP outage, a duplicate's lease) before it is handed back to the broker.
    wait_budget_seconds: float = 600.0
    # Attempts for message-specific 4xx answers before handing the message back (each hand-back costs one
    # broker delivery, and the queue's delivery limit eventually dead-letters a message that never goes).
    message_attempts: int = 3
    retry_backoff_seconds: float = 1.0
    claim_poll_seconds: float = 0.5
    ledger_write_attempts: int = 5


class EmailDelivery:
    def __init__(
        self,
        *,
        renderer: EmailRenderer,
        sender: EmailSender,
        ledger: DeliveryLedger,
        availability: SmtpAvailability,
        policy: DeliveryPolicy,
        max_concurrent_sends: int = 4,
    ) -> None:
        self._renderer = renderer
        self._sender = sender
        self._ledger = ledger
        self._availability = availability
        self._policy = policy
        self._send_slots = asyncio.Semaphore(max_concurrent_sends)
        self._stopping = asyncio.Event()

    def stop_waiting(self) -> None:
        """Shutdown: messages waiting for SMTP go back to the broker now instead of at the budget's end."""
        self._stopping.set()

    def compose(self, event_id: UUID, event_type: str, payload: Mapping[str, Any]) -> OutgoingEmail:
        """Raises ``UndeliverableEmailError`` for anything retrying cannot fix."""
        request = email_request_from_event(event_id, event_type, payload, public_url=self._policy.public_url)
        rendered = self._renderer.render(request.template, request.fields)
        return OutgoingEmail(
            event_id=event_id,
            message_id=message_id_for(event_id, self._policy.message_id_domain),
            to=request.to,
            subject=rendered.subject,
            text=rendered.text,
            html=rendered.html,
        )

    async def deliver(self, event_id: UUID, event_type: str, payload: Mapping[str, Any]) -> DeliveryOutcome:
        """Send the event's email once.

        Raises ``UndeliverableEmailError`` (dead-letter it) or ``DeliveryDeferredError`` (retry it later).
        """
        email = self.compose(event_id, event_type, payload)
        deadline = time.monotonic() + self._policy.wait_budget_seconds
        message_failures = 0
        ledger_failures = 0
        while True:
            await self._wait_for_smtp(deadline)
            try:
                outcome = await self._attempt(email)
            except SmtpUnavailableError as exc:
                # Not this message's fault (outage, 421, our own configuration): every sender waits on the
                # gate and the message is held, not retried on its own or dead-lettered.
                self._availability.report_unavailable(
                    exc.reason, misconfigured=isinstance(exc, SmtpConfigurationError)
                )
                continue
            except UndeliverableEmailError:
                raise
            except DeliveryDeferredError as exc:
                message_failures += 1
                if message_failures >= self._policy.message_attempts:
                    raise
                logger.info("email for event %s deferred (%s); retrying", event_id, exc.reason)
                await self._pause(self._policy.retry_backoff_seconds * message_failures, deadline, exc.reason)
                continue
            except Exception as exc:
                # The ledger (Redis) failed: like an SMTP outage this is not the message's fault, so wait
                # here within the budget instead of spending the queue's delivery limit on requeues.
                ledger_failures += 1
                logger.warning("delivery ledger unavailable for event %s: %r", event_id, exc)
                backoff = min(self._policy.retry_backoff_seconds * 2 ** (ledger_failures - 1), 5.0)
                await self._pause(backoff, deadline, f"delivery ledger unavailable ({type(exc).__name__})")
                continue
            if outcome is not None:
                return outcome
            # Another sender holds the lease (a concurrent duplicate, or a crashed one until it expires).
            await self._pause(self._policy.claim_poll_seconds, deadline, "claimed by another sender")

    async def _attempt(self, email: OutgoingEmail) -> DeliveryOutcome | None:
        """One claim + send; None when another sender holds the claim. Failures release the claim."""
        event_id = email.event_id
        # The claim is taken only once a connection slot is ours, so a lease covers an actual send and a
        # crash leaves as few claims behind as there were SMTP sessions.
        async with self._send_slots:
            claim = await self._ledger.claim(event_id)
            if claim is None:
                return DeliveryOutcome.DUPLICATE if await self._ledger.is_sent(event_id) else None
            # Shielded: a cancellation (handler timeout, shutdown after the grace period) must not land
            # between the server's 250 and the ledger write, or the redelivered event would be sent again.
            await asyncio.shield(self._send_and_record(email, claim))
        self._availability.report_available()
        return DeliveryOutcome.SENT

    async def _send_and_record(self, email: OutgoingEmail, claim: str) -> None:
        recorded = False

        async def record_sent() -> None:
            nonlocal recorded
            await self._record_sent(email.event_id)
            recorded = True

        try:
            # The ledger write runs right after the server's 250, before QUIT: the crash window between
            # "accepted" and "recorded" is one Redis round trip.
            await self._sender.send(email, on_accepted=record_sent)
        except Exception:
            if not recorded:
                await self._ledger.release(email.event_id, claim)
            raise
        if not recorded:
            await self._record_sent(email.event_id)

    async def _wait_for_smtp(self, deadline: float) -> None:
        # Short slices so a shutdown is noticed within a second while the gate stays closed.
        while not self._availability.is_available:
            remaining = deadline - time.monotonic()
            if self._stopping.is_set() or remaining <= 0:
                problem = self._availability.last_problem or "unknown"
                raise SmtpUnavailableError(f"SMTP unavailable, message handed back: {problem}")
            await self._availability.wait_until_available(min(1.0, remaining))

    async def _pause(self, seconds: float, deadline: float, reason: str) -> None:
        if self._stopping.is_set() or time.monotonic() + seconds > deadline:
            raise DeliveryDeferredError(f"wait budget exhausted: {reason}")
        await asyncio.sleep(seconds)

    async def _record_sent(self, event_id: UUID) -> None:
        # The email is out; a Redis hiccup now must not turn into a resend, so retry the write a few times and
        # otherwise log it loudly and still acknowledge (the claim lease remains as a guard for a while).
        for attempt in range(1, self._policy.ledger_write_attempts + 1):
            try:
                await self._ledger.mark_sent(event_id)
                return
            except Exception as exc:
                if attempt == self._policy.ledger_write_attempts:
                    logger.error("email for event %s sent but not recorded in the ledger: %r", event_id, exc)
                    return
                await asyncio.sleep(0.2 * attempt)
