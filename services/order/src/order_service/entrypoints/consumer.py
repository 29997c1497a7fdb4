"""The service's work queue: parse -> command -> handler. Bindings come from services/registry.toml."""

from __future__ import annotations

import logging

from servicekit.events import EventEnvelope, EventHandler

logger = logging.getLogger(__name__)

QUEUE = "order.events"
# Keep equal to `consumes` of order in services/registry.toml.
ROUTING_KEYS: tuple[str, ...] = (
    "gig.gig.#",
    "chat.offer.#",
    "auth.account.created.v1",
    "review.review.#",
)


def event_handler() -> EventHandler:
    async def handle(envelope: EventEnvelope) -> None:
        # Turn the event into a command and run its handler here; raise PermanentEventError for events
        # that can never succeed (they go to the dead-letter queue with the reason).
        logger.info("event %s received", envelope.type)

    return handle
