"""The bus side: the service's queue topology and the handler feeding email events to ``EmailDelivery``."""

from __future__ import annotations

from servicekit.events import (
    DuplicateEventError,
    EventEnvelope,
    EventHandler,
    HandBackEventError,
    PermanentEventError,
    subscription,
)

from notification_service.domain.errors import SmtpUnavailableError, UndeliverableEmailError
from notification_service.service_layer.delivery import DeliveryOutcome, EmailDelivery

# Queue and bindings come from the system-wide declaration, which publishers apply too, so email events
# published before this consumer first started are waiting in the queue. Event types have four words
# (auth.email.<event>.v1), so the bindings use "#"; order.email.# and chat.email.# join with their templates.
EMAIL_SUBSCRIPTION = subscription("notification.email")
EMAIL_QUEUE = EMAIL_SUBSCRIPTION.queue
EMAIL_ROUTING_KEYS = EMAIL_SUBSCRIPTION.routing_keys


def email_event_handler(delivery: EmailDelivery) -> EventHandler:
    """Returning acks the message; ``PermanentEventError`` dead-letters it with the reason;
    ``HandBackEventError`` (SMTP unavailable or refusing our configuration for the whole wait budget) puts a
    fresh copy at the end of the queue without spending the delivery limit; anything else
    (``DeliveryDeferredError``: this message's own 4xx, the ledger) requeues it against the limit."""

    async def handle(envelope: EventEnvelope) -> None:
        try:
            outcome = await delivery.deliver(envelope.id, envelope.type, envelope.payload)
        except UndeliverableEmailError as exc:
            raise PermanentEventError(exc.reason) from exc
        except SmtpUnavailableError as exc:
            # Not this message's fault, and it already waited (the availability gate): however long the
            # outage, it must not be dead-lettered for it.
            raise HandBackEventError(exc.reason) from exc
        if outcome is DeliveryOutcome.DUPLICATE:
            raise DuplicateEventError(f"event {envelope.id} was already emailed")

    return handle
