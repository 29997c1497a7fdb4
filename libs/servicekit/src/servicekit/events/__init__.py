"""Integration events: the envelope, the RabbitMQ bus and consumers, and the transactional outboxes.

Owns the event side of `docs/servicekit-api.md`: `EventEnvelope`, `EventBus` (robust connection, confirmed
persistent publishing), `EventConsumer` (quorum work queue + `<queue>.dlq`, ack/requeue/dead-letter taxonomy,
graceful stop), `EventWorkers` (connect with backoff, run relays and consumers from the lifespan), and
the outboxes in `servicekit.events.sql` and `servicekit.events.mongo`. Topology names are in
`servicekit.events.topology`; who consumes what is declared once, in `servicekit.events.subscriptions`.
Nothing here connects until `connect()`/`start()` is awaited.
"""

from servicekit.events.bus import EventBus
from servicekit.events.consumer import EventConsumer, EventHandler
from servicekit.events.envelope import EventEnvelope
from servicekit.events.errors import (
    DuplicateEventError,
    HandBackEventError,
    MalformedEventError,
    PermanentEventError,
    PublishFailed,
    UnroutableEvent,
)
from servicekit.events.subscriptions import SUBSCRIPTIONS, Subscription, subscription
from servicekit.events.workers import EventWorkers

__all__ = [
    "SUBSCRIPTIONS",
    "DuplicateEventError",
    "EventBus",
    "EventConsumer",
    "EventEnvelope",
    "EventHandler",
    "EventWorkers",
    "HandBackEventError",
    "MalformedEventError",
    "PermanentEventError",
    "PublishFailed",
    "Subscription",
    "UnroutableEvent",
    "subscription",
]
