"""The bus side: the service's queue topology and the handler feeding email events to ``EmailDelivery``."""

from __future__ import annotations

from servicekit.events import (
    DuplicateEventError,
    EventEnvelope,
    EventHandler,
    PermanentEventError,
    subscription,
)

from notification_service.domain.errors import UndeliverableEmailError
from notification_service.service_layer.delivery import DeliveryOutcome, EmailDelivery

# Queue and bindings come from the system-wide declaration, which publishers apply too, so email events
# published before this consumer first started are waiting in the queue. Event types have four words
# (auth.email.<event>.v1), so the bindings use "#"; order.email.# and chat.email.# join with their templates.
EMAIL_SUBSCRIPTION = subscription("notification.email")
EMAIL_QUEUE = EMAIL_SUBSCRIPTION.queue
EMAIL_ROUTING_KEYS = EMAIL_SUBSCRIPTION.routing_keys


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
