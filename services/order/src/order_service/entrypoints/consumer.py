"""The service's work queue: gig prices, accepted offers, the directory and review fields (replicas).

Bindings come from servicekit.events.subscriptions (= `consumes` of order in services/registry.toml).
"""

from __future__ import annotations

import logging

from servicekit.events import EventEnvelope, EventHandler, PermanentEventError

from order_service.domain.errors import InvalidOrderRequest
from order_service.service_layer.dependencies import HandlerDependencies
from order_service.service_layer.replication import apply_event

logger = logging.getLogger(__name__)

QUEUE = "order.events"


def event_handler(deps: HandlerDependencies) -> EventHandler:
    async def handle(envelope: EventEnvelope) -> None:
        try:
            applied = await apply_event(envelope.id, envelope.type, envelope.payload, deps)
        except InvalidOrderRequest as error:
            raise PermanentEventError(str(error)) from error
        if not applied:
            logger.info("event %s already applied", envelope.id)

    return handle
