"""The one declaration of who consumes which events: every work queue of every service and its bindings.

RabbitMQ drops a message that no queue is bound for, and a queue only exists once something declared it.
If only consumers declared their queues, an event published before its consumer's first start (a new
service, a consumer deployed after its producer) would be lost. So this list is applied by every publisher
when its bus connects (`EventBus.connect`) and can be applied at deploy time
(`AMQP_URL=... python -m servicekit.events.subscriptions`), not only by the consumer itself: each queue and
binding exists as soon as any participant has connected once. Names follow docs/contracts.md (Events).

Adding a consumer means adding its `Subscription` here, in the same change as its code.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass

import aio_pika
from aio_pika.abc import AbstractConnection
from aiormq.exceptions import ChannelPreconditionFailed

from servicekit.events.topology import (
    DEAD_LETTER_EXCHANGE,
    EVENTS_EXCHANGE,
    dead_letter_queue_arguments,
    dead_letter_queue_name,
    work_queue_arguments,
)

logger = logging.getLogger(__name__)

DEFAULT_DELIVERY_LIMIT = 5


@dataclass(frozen=True)
class Subscription:
    """A consumer's quorum work queue and the routing-key patterns bound to it on `gigstack.events`."""

    queue: str
    routing_keys: tuple[str, ...]
    delivery_limit: int = DEFAULT_DELIVERY_LIMIT

    def __post_init__(self) -> None:
        if not self.routing_keys:
            raise ValueError(f"subscription {self.queue} binds no routing key")
        if self.delivery_limit < 1:
            raise ValueError("delivery_limit must be at least 1")


# Event types have four words (`<service>.<aggregate>.<event>.v<major>`): `#` after the fixed words.
SUBSCRIPTIONS: tuple[Subscription, ...] = (
    Subscription("notification.email", ("auth.email.#", "review.email.#", "order.email.#", "chat.email.#")),
    Subscription(
        "users.profiles",
        (
            "auth.account.created.v1",
            "order.order.placed.v1",
            "order.order.completed.v1",
            "order.order.cancelled.v1",
            "gig.gig.created.v1",
            "gig.gig.deleted.v1",
            "review.review.created.v1",
        ),
    ),
    # The gig service's search read model; a generous limit because the search engine may be down for a while.
    Subscription("gig.search-projection", ("gig.gig.#",), delivery_limit=20),
    # The review service's replica of paid orders (their parties decide who may review; reviews are allowed on
    # completed ones only) and its directory of usernames and emails for the review_received email
    # (docs/adr/0021-review-service.md).
    Subscription("review.completed-orders", ("order.order.placed.v1", "order.order.completed.v1")),
    Subscription("review.directory", ("auth.account.created.v1",)),
    # The order service's replicas (gig prices, accepted offers, the directory) and the orders' review fields.
    Subscription("order.events", ("gig.gig.#", "chat.offer.#", "auth.account.created.v1", "review.review.#")),
    # chat's directory replica (user id -> username, email) for conversationWith and recipient emails.
    Subscription("chat.directory", ("auth.account.created.v1",)),
    # Seller summaries and buyers' ratings the gig service copies into gigs (and so into search).
    Subscription("gig.sellers", ("users.seller.created.v1", "users.seller.updated.v1")),
    Subscription("gig.reviews", ("review.review.created.v1",)),
    # The gateway's realtime pushes: one queue shared by its replicas; the Socket.IO Redis manager fans each
    # push out to the replica holding the user's sockets (docs/adr/0019).
    Subscription(
        "gateway.realtime",
        (
            "chat.message.#",
            "chat.offer.#",
            "order.order.#",
            "order.extension.#",
            "order.notification.created.v1",
        ),
    ),
)


def subscription(queue: str, subscriptions: Sequence[Subscription] = SUBSCRIPTIONS) -> Subscription:
    """The declared subscription of `queue`; a consumer takes its queue and bindings from here."""
    for candidate in subscriptions:
        if candidate.queue == queue:
            return candidate
    raise KeyError(f"no subscription declares queue {queue!r} (servicekit.events.subscriptions)")


async def declare_subscriptions(
    connection: AbstractConnection,
    subscriptions: Sequence[Subscription] = SUBSCRIPTIONS,
    *,
    timeout: float,  # noqa: ASYNC109 - per AMQP call, not overall
) -> None:
    """Declare the exchanges, each work queue, its DLQ and its bindings; idempotent.

    Each queue is declared on a short-lived channel of its own: a queue that already exists with other
    arguments (a consumer configured with another delivery limit) makes the broker close that channel with
    PRECONDITION_FAILED. The existing queue is kept as it is and only the bindings are added, which is all a
    publisher needs for its events to land there.
    """
    for declared in subscriptions:
        try:
            await _declare_on_fresh_channel(connection, declared, timeout=timeout, with_arguments=True)
        except ChannelPreconditionFailed as exc:
            logger.info("queue %s exists with other arguments (%s); binding only", declared.queue, exc)
            await _declare_on_fresh_channel(connection, declared, timeout=timeout, with_arguments=False)


async def _declare_on_fresh_channel(
    connection: AbstractConnection,
    declared: Subscription,
    *,
    timeout: float,  # noqa: ASYNC109 - per AMQP call
    with_arguments: bool,
) -> None:
    channel = await asyncio.wait_for(connection.channel(publisher_confirms=False), timeout=timeout)
    try:
        dead_letters = await channel.declare_exchange(
            DEAD_LETTER_EXCHANGE, aio_pika.ExchangeType.DIRECT, durable=True, timeout=timeout
        )
        events = await channel.declare_exchange(
            EVENTS_EXCHANGE, aio_pika.ExchangeType.TOPIC, durable=True, timeout=timeout
        )
        dlq_name = dead_letter_queue_name(declared.queue)
        if with_arguments:
            dlq = await channel.declare_queue(
                dlq_name, durable=True, arguments=dead_letter_queue_arguments(), timeout=timeout
            )
            work = await channel.declare_queue(
                declared.queue,
                durable=True,
                arguments=work_queue_arguments(declared.queue, declared.delivery_limit),
                timeout=timeout,
            )
        else:
            dlq = await channel.declare_queue(dlq_name, passive=True, timeout=timeout)
            work = await channel.declare_queue(declared.queue, passive=True, timeout=timeout)
        await dlq.bind(dead_letters, routing_key=declared.queue, timeout=timeout)
        for routing_key in declared.routing_keys:
            await work.bind(events, routing_key=routing_key, timeout=timeout)
    finally:
        if not channel.is_closed:
            await channel.close()


async def _declare_all(amqp_url: str, timeout: float) -> None:  # noqa: ASYNC109 - per AMQP call
    connection = await aio_pika.connect(amqp_url, timeout=timeout)
    async with connection:
        await declare_subscriptions(connection, timeout=timeout)


def main() -> None:
    """Deploy-time step: `AMQP_URL=... python -m servicekit.events.subscriptions` declares every queue.

    The URL comes from the environment, never the command line, where it would show in process lists.
    """
    amqp_url = os.environ.get("AMQP_URL")
    if not amqp_url:
        sys.exit("AMQP_URL is not set")
    asyncio.run(_declare_all(amqp_url, timeout=10.0))
    print(f"declared {len(SUBSCRIPTIONS)} subscriptions", file=sys.stderr)


if __name__ == "__main__":
    main()
