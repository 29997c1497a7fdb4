"""The bus side: the service's queue topology and the handler feeding email events to ``EmailDelivery``."""

from __future__ import annotations

from servicekit.events import DuplicateEventError, EventEnvelope, EventHandler, PermanentEventError

from notification_service.domain.errors import UndeliverableEmailError
from notification_service.service_layer.delivery import DeliveryOutcome, EmailDelivery

EMAIL_QUEUE = "notification.email"
# Event types have four words (auth.email.<event>.v1), so "auth.email.*" (one word) would match none of
# them: "#" takes the event name and the version. order.email.# and chat.email.# join with their templates.
EMAIL_ROUTING_KEYS = ("auth.email.#",)


def email_event_handler(delivery: EmailDelivery) -> EventHandler:
    """Returning acks the message; ``PermanentEventError`` dead-letters it with the reason; anything else
    (``DeliveryDeferredError``) requeues it."""

    async def handle(envelope: EventEnvelope) -> None:
        try:
            outcome = await delivery.deliver(envelope.id, envelope.type, envelope.payload)
        except UndeliverableEmailError as exc:
            raise PermanentEventError(exc.reason) from exc
        if outcome is DeliveryOutcome.DUPLICATE:
            raise DuplicateEventError(f"event {envelope.id} was already emailed")

    return handle
