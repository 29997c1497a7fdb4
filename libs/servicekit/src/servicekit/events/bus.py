"""The connection to RabbitMQ: confirmed, persistent publishing with retries, and topology declaration."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import aio_pika
from aio_pika.abc import (
    AbstractExchange,
    AbstractRobustChannel,
    AbstractRobustConnection,
    AbstractRobustQueue,
)
from aio_pika.exceptions import CONNECTION_EXCEPTIONS, DeliveryError, PublishError
from aiormq.abc import DeliveredMessage

from servicekit.events.backoff import Backoff
from servicekit.events.batch_publish import write_publications
from servicekit.events.envelope import CONTENT_TYPE, EventEnvelope
from servicekit.events.errors import PublishFailed, PublishNacked, UnroutableEvent
from servicekit.events.subscriptions import SUBSCRIPTIONS, Subscription, declare_subscriptions
from servicekit.events.topology import (
    CORRELATION_ID_HEADER,
    DEAD_LETTER_EXCHANGE,
    EVENTS_EXCHANGE,
    dead_letter_queue_arguments,
    dead_letter_queue_name,
    work_queue_arguments,
)
from servicekit.logging import get_correlation_id
from servicekit.tracing import inject_trace_headers

logger = logging.getLogger(__name__)

# What a lost connection, a closing channel, a broker nack or a missed confirm look like from aio-pika: all
# worth retrying once the robust connection has reconnected.
RETRYABLE_PUBLISH_ERRORS: tuple[type[BaseException], ...] = (
    *CONNECTION_EXCEPTIONS,
    DeliveryError,
    PublishError,
    TimeoutError,
)

UnroutableListener = Callable[[str], None]


@dataclass(frozen=True)
class SerializedEvent:
    """An already serialised envelope and what its message carries besides (an outbox row, ready to go)."""

    body: bytes
    event_type: str
    event_id: str
    occurred_at: datetime | None = None
    producer: str | None = None
    correlation_id: str | None = None
    headers: Mapping[str, Any] | None = None


class EventBus:
    """One robust AMQP connection per service process, shared by its publisher and its consumers.

    Publishing uses a dedicated channel with publisher confirms (aio-pika's default, asserted in `connect`)
    and persistent messages; a publication only returns once the broker has taken responsibility for it.
    `connect` declares every queue of `subscriptions` (servicekit.events.subscriptions), so an event with a
    declared consumer lands in its queue even before that consumer ever started; publishing is mandatory,
    so an event no queue is bound for comes back and raises `UnroutableEvent` instead of vanishing.
    """

    def __init__(
        self,
        amqp_url: str,
        *,
        service_name: str,
        prefetch: int = 32,
        connect_timeout: float = 10,
        confirm_timeout: float = 10,
        publish_timeout: float = 30,
        reconnect_interval: float = 1.0,
        publish_backoff: Backoff | None = None,
        subscriptions: Sequence[Subscription] = SUBSCRIPTIONS,
    ) -> None:
        self._amqp_url = amqp_url
        self._subscriptions = tuple(subscriptions)
        self._unroutable_listeners: list[UnroutableListener] = []
        self.service_name = service_name
        self.prefetch = prefetch
        self._connect_timeout = connect_timeout
        self._confirm_timeout = confirm_timeout
        self._publish_timeout = publish_timeout
        self._reconnect_interval = reconnect_interval
        self._backoff = publish_backoff or Backoff(base_seconds=0.1, cap_seconds=2.0)
        self._connection: AbstractRobustConnection | None = None
        self._publish_channel: AbstractRobustChannel | None = None
        self._events_exchange: AbstractExchange | None = None
        self._reopen_lock = asyncio.Lock()

    @property
    def connect_timeout(self) -> float:
        """Seconds one connection attempt may take; shutdown waits this long for an attempt in flight."""
        return self._connect_timeout

    @property
    def is_connected(self) -> bool:
        """The robust connection is up right now (False while it reconnects); read by `amqp_check`."""
        connection = self._connection
        return connection is not None and not connection.is_closed and connection.connected.is_set()

    async def ping(self) -> None:
        """One round trip to the broker (open and close a channel); `amqp_check` awaits it with a timeout."""
        # Shielded for the same reason as `queue_depth`: a cancelled channel RPC closes the shared connection.
        await asyncio.shield(self._ping())

    async def _ping(self) -> None:
        channel = await self.connection.channel(publisher_confirms=False)
        await channel.close()

    @property
    def connection(self) -> AbstractRobustConnection:
        if self._connection is None:
            raise RuntimeError("EventBus.connect() has not been awaited")
        return self._connection

    async def connect(self) -> None:
        """Open the robust connection and the publishing channel, and declare the two shared exchanges."""
        if self._connection is not None:
            return
        connection = await aio_pika.connect_robust(
            self._amqp_url,
            timeout=self._connect_timeout,
            reconnect_interval=self._reconnect_interval,
            client_properties={"connection_name": f"{self.service_name} events"},
        )
        try:
            channel = await asyncio.wait_for(
                connection.channel(publisher_confirms=True), timeout=self._connect_timeout
            )
            if not isinstance(channel, AbstractRobustChannel) or not channel.publisher_confirms:
                raise RuntimeError("the publishing channel must be robust and have publisher confirms on")
            self._events_exchange = await declare_exchanges(channel, timeout=self._connect_timeout)
            await declare_subscriptions(connection, self._subscriptions, timeout=self._connect_timeout)
        except BaseException:
            await connection.close()
            raise
        self._connection = connection
        self._publish_channel = channel

    def add_unroutable_listener(self, listener: UnroutableListener) -> None:
        """Call `listener(event_type)` for every publication the broker returned as unroutable (metrics)."""
        self._unroutable_listeners.append(listener)

    async def close(self) -> None:
        connection, self._connection = self._connection, None
        self._publish_channel = None
        self._events_exchange = None
        if connection is not None and not connection.is_closed:
            await asyncio.wait_for(connection.close(), timeout=self._connect_timeout)

    async def open_channel(self, *, prefetch: int | None = None) -> AbstractRobustChannel:
        """A new robust channel with publisher confirms and an explicit prefetch (consumers own one each).

        Unroutable mandatory publications raise instead of vanishing, which the consumer relies on when
        it moves a message to a dead-letter queue.
        """
        channel = await asyncio.wait_for(
            self.connection.channel(publisher_confirms=True, on_return_raises=True),
            timeout=self._connect_timeout,
        )
        assert isinstance(channel, AbstractRobustChannel)
        await channel.set_qos(prefetch_count=prefetch or self.prefetch, timeout=self._connect_timeout)
        return channel

    async def publish(self, envelope: EventEnvelope) -> None:
        """Publish one event (routing key = event type); returns once the broker confirmed it.

        The current trace context and correlation id travel in the headers. Raises `PublishFailed` when no
        confirm arrived within the publish deadline, retrying with backoff across reconnections until then,
        and its subclass `UnroutableEvent` at once when no queue is bound for the event type.
        """
        headers: dict[str, Any] = {}
        inject_trace_headers(headers)
        correlation_id = envelope.correlation_id or get_correlation_id()
        if correlation_id:
            headers[CORRELATION_ID_HEADER] = correlation_id
        await self.publish_serialized(
            body=envelope.to_json_bytes(),
            event_type=envelope.type,
            event_id=str(envelope.id),
            occurred_at=envelope.occurred_at,
            producer=envelope.producer,
            correlation_id=correlation_id,
            headers=headers,
        )

    async def publish_serialized(
        self,
        *,
        body: bytes,
        event_type: str,
        event_id: str,
        occurred_at: datetime | None = None,
        producer: str | None = None,
        correlation_id: str | None = None,
        headers: Mapping[str, Any] | None = None,
    ) -> None:
        """Publish an already serialised envelope (outbox relays store the body and headers at staging)."""
        message = self._message(
            SerializedEvent(body, event_type, event_id, occurred_at, producer, correlation_id, headers)
        )
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._publish_timeout
        attempt = 0
        nacked = False
        while True:
            attempt += 1
            try:
                remaining = max(deadline - loop.time(), 0.001)
                exchange = await self._usable_exchange(within=min(self._confirm_timeout, remaining))
                remaining = max(deadline - loop.time(), 0.001)
                # mandatory: the broker returns a message no queue is bound for (the publishing channel
                # has on_return_raises off, so the return comes back as the result, not as an error that
                # would look like a retryable nack).
                result = await exchange.publish(
                    message,
                    routing_key=event_type,
                    mandatory=True,
                    timeout=min(self._confirm_timeout, remaining),
                )
            except RETRYABLE_PUBLISH_ERRORS as exc:
                if self._events_exchange is None:
                    raise PublishFailed("the event bus is not connected") from exc
                # A nack is the broker's answer about this event; the last attempt may still have timed out.
                nacked = nacked or isinstance(exc, DeliveryError)
                remaining = deadline - loop.time()
                if remaining <= 0:
                    error = PublishNacked if nacked else PublishFailed
                    raise error(
                        f"{event_type} {event_id} not confirmed after {attempt} attempts: {exc!r}"
                    ) from exc
                delay = min(self._backoff.delay(attempt), remaining)
                logger.warning(
                    "publish of %s %s failed (attempt %d, %r); retrying in %.2fs",
                    event_type,
                    event_id,
                    attempt,
                    exc,
                    delay,
                )
                await asyncio.sleep(delay)
                continue
            if isinstance(result, DeliveredMessage):
                self._report_unroutable(event_type, event_id)
            return

    async def publish_serialized_many(self, events: Sequence[SerializedEvent]) -> list[BaseException | None]:
        """Publish a batch in order, written to the broker at once; None per confirmed event, else its error.

        The batch goes out as one socket write with its confirms pipelined (servicekit.events.batch_publish):
        the same persistent, mandatory messages with the same properties as `publish_serialized`, on the
        same confirm channel. An event the broker returned as unroutable gets `UnroutableEvent` at once, as
        from `publish_serialized`. Every other event not confirmed (channel or connection lost, nack, no
        confirm within `confirm_timeout`) is published again on its own through `publish_serialized`, with
        its retries across reconnects and its deadline, so no event fails that publishing it alone would
        have got through; a republished event may reach the broker twice, which consumers absorb by id.
        Those republications run one after the other (`_republish_alone`), so only the event at fault fails.
        """
        if not events:
            return []
        messages = [self._message(event) for event in events]
        results: list[BaseException | None] = [None] * len(events)
        retry = list(range(len(events)))
        try:
            exchange = await self._usable_exchange(within=self._confirm_timeout)
            assert self._publish_channel is not None
            channel = await self._publish_channel.get_underlay_channel()
            confirmations = await write_publications(
                channel,
                exchange=exchange.name,
                publications=[
                    (message, event.event_type) for message, event in zip(messages, events, strict=True)
                ],
                timeout=self._confirm_timeout,
            )
        except Exception as exc:
            # Whatever stopped the batched write (a lost channel, a stuck writer, no connection at all), each
            # event then takes `publish_serialized`, which retries, reopens the channel or raises as before.
            logger.warning(
                "batched publish of %d events failed (%r); publishing them one by one", len(events), exc
            )
        else:
            await asyncio.wait(confirmations, timeout=self._confirm_timeout)
            retry = []
            for index, confirmation in enumerate(confirmations):
                if not confirmation.done():
                    confirmation.cancel()
                    retry.append(index)
                elif confirmation.cancelled() or confirmation.exception() is not None:
                    retry.append(index)
                elif isinstance(confirmation.result(), DeliveredMessage):
                    event = events[index]
                    try:
                        self._report_unroutable(event.event_type, event.event_id)
                    except UnroutableEvent as unroutable:
                        results[index] = unroutable
        if retry:
            await self._republish_alone(retry, messages, events, results)
        return results

    async def _republish_alone(
        self,
        indexes: Sequence[int],
        messages: Sequence[aio_pika.Message],
        events: Sequence[SerializedEvent],
        results: list[BaseException | None],
    ) -> None:
        """Publish the events at `indexes` one at a time, in order, each with `publish_serialized`'s retries.

        Not concurrently: a message the broker answers by closing the channel (PRECONDITION_FAILED, e.g. a
        `CC` header that is not an array) would close it under every publication in flight beside it, again
        on each of its retries, so the whole batch could fail and count toward parking, or none of it. Alone,
        only that message fails. Once one fails while the connection is down (an outage), the rest get the
        same error at once rather than each waiting out its own publish deadline.
        """
        for position, index in enumerate(indexes):
            try:
                await self._publish_message(messages[index], events[index])
            except Exception as exc:
                results[index] = exc
                if not isinstance(exc, UnroutableEvent | PublishNacked) and not self.is_connected:
                    for rest in indexes[position + 1 :]:
                        results[rest] = exc
                    return

    async def _publish_message(self, message: aio_pika.Message, event: SerializedEvent) -> None:
        await self.publish_serialized(
            body=message.body,
            event_type=event.event_type,
            event_id=event.event_id,
            occurred_at=event.occurred_at,
            producer=event.producer,
            correlation_id=event.correlation_id,
            headers=event.headers,
        )

    def _message(self, event: SerializedEvent) -> aio_pika.Message:
        return aio_pika.Message(
            body=event.body,
            content_type=CONTENT_TYPE,
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            message_id=event.event_id,
            type=event.event_type,
            timestamp=event.occurred_at,
            app_id=event.producer or self.service_name,
            correlation_id=event.correlation_id,
            headers=dict(event.headers or {}),
        )

    def _report_unroutable(self, event_type: str, event_id: str) -> None:
        # Retrying cannot help until a subscription binds this type: raise at once, so an outbox keeps the
        # event unpublished (and retries it later) instead of marking it delivered.
        logger.error(
            "event %s %s is unroutable: no queue is bound for it on %s (is its consumer missing from "
            "servicekit.events.subscriptions?)",
            event_type,
            event_id,
            EVENTS_EXCHANGE,
            extra={"event_type": event_type, "event_id": event_id},
        )
        for listener in self._unroutable_listeners:
            listener(event_type)
        raise UnroutableEvent(f"{event_type} {event_id} was returned unroutable by the broker")

    async def _usable_exchange(self, *, within: float) -> AbstractExchange:
        """The publishing exchange, on a fresh channel if the robust one did not come back after a reconnect.

        aio-pika restores robust channels itself, but when the broker drops the connection again while a
        channel is being reopened (a restarting node does that), that channel can stay closed for good;
        publishing must not depend on that restore succeeding.
        """
        channel, exchange = self._publish_channel, self._events_exchange
        if channel is None or exchange is None:
            raise RuntimeError("EventBus.connect() has not been awaited")
        if not channel.is_closed:
            return exchange
        async with self._reopen_lock:
            if self._publish_channel is not channel:  # another publisher already replaced it
                assert self._events_exchange is not None
                return self._events_exchange
            fresh = await asyncio.wait_for(self.connection.channel(publisher_confirms=True), timeout=within)
            assert isinstance(fresh, AbstractRobustChannel)
            try:
                exchange = await declare_exchanges(fresh, timeout=within)
            except BaseException:
                await _close_quietly(fresh)
                raise
            logger.info("publishing channel of %s replaced after a reconnect", self.service_name)
            self._publish_channel, self._events_exchange = fresh, exchange
        await _close_quietly(channel)
        return exchange

    async def declare_work_queue(
        self, queue: str, routing_keys: Sequence[str], delivery_limit: int = 5
    ) -> None:
        """Declare the quorum work queue `queue` bound to `routing_keys`, and its `<queue>.dlq`."""
        channel = await self.open_channel(prefetch=1)
        try:
            await declare_work_queue(
                channel, queue, routing_keys, delivery_limit=delivery_limit, timeout=self._connect_timeout
            )
        finally:
            await channel.close()

    async def queue_depth(self, queue: str) -> int:
        """Messages ready in `queue` (a passive declare; raises if the queue does not exist)."""
        # Shielded: a caller's timeout (readiness probe, metrics sampler) cancelling this mid-RPC would make
        # aiormq close the whole shared connection; the channel open/declare/close always runs to its end.
        return await asyncio.shield(self._queue_depth(queue))

    async def _queue_depth(self, queue: str) -> int:
        # A passive declare of a missing queue closes its channel, so it never uses a shared one.
        channel = await self.connection.channel(publisher_confirms=False)
        try:
            declared = await channel.declare_queue(queue, passive=True, timeout=self._connect_timeout)
            result = declared.declaration_result
            return int(result.message_count or 0)
        finally:
            if not channel.is_closed:
                await channel.close()


async def declare_exchanges(
    channel: aio_pika.abc.AbstractChannel,
    *,
    timeout: float,  # noqa: ASYNC109 - per AMQP call, not overall
) -> AbstractExchange:
    """Declare `gigstack.events` (topic) and `gigstack.dlx` (direct), both durable; return the first."""
    await channel.declare_exchange(
        DEAD_LETTER_EXCHANGE, aio_pika.ExchangeType.DIRECT, durable=True, timeout=timeout
    )
    return await channel.declare_exchange(
        EVENTS_EXCHANGE, aio_pika.ExchangeType.TOPIC, durable=True, timeout=timeout
    )


async def declare_work_queue(
    channel: aio_pika.abc.AbstractChannel,
    queue: str,
    routing_keys: Sequence[str],
    *,
    delivery_limit: int,
    timeout: float,  # noqa: ASYNC109 - applies to each AMQP call, not to the whole declaration
) -> AbstractRobustQueue:
    """Declare the work queue, its DLQ and all bindings on `channel`; return the work queue.

    Declared on the consumer's own robust channel, aio-pika re-declares all of it after a reconnect, so a
    broker that lost non-persisted state (or a fresh node) gets the topology back.
    """
    events = await declare_exchanges(channel, timeout=timeout)
    dead_letters = await channel.get_exchange(DEAD_LETTER_EXCHANGE, ensure=False)
    dlq = await channel.declare_queue(
        dead_letter_queue_name(queue), durable=True, arguments=dead_letter_queue_arguments(), timeout=timeout
    )
    await dlq.bind(dead_letters, routing_key=queue, timeout=timeout)
    work = await channel.declare_queue(
        queue, durable=True, arguments=work_queue_arguments(queue, delivery_limit), timeout=timeout
    )
    for routing_key in routing_keys:
        await work.bind(events, routing_key=routing_key, timeout=timeout)
    assert isinstance(work, AbstractRobustQueue)
    return work


async def _close_quietly(channel: aio_pika.abc.AbstractChannel) -> None:
    # Marks a robust channel as closed on purpose, so aio-pika stops trying to restore it.
    try:
        await asyncio.wait_for(channel.close(), timeout=5)
    except (*CONNECTION_EXCEPTIONS, TimeoutError) as exc:
        logger.debug("closing a dead channel failed: %r", exc)
