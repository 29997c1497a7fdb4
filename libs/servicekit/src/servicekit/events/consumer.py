"""Consuming a work queue: parse → handler → ack, requeue or dead-letter, with a graceful stop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import aio_pika
from aio_pika.abc import AbstractExchange, AbstractIncomingMessage, AbstractRobustChannel, AbstractRobustQueue
from aio_pika.exceptions import CONNECTION_EXCEPTIONS
from opentelemetry import trace

from servicekit.events.bus import EventBus, declare_work_queue
from servicekit.events.disposition import Action, Disposition, Outcome, attempt_number, decide
from servicekit.events.envelope import EventEnvelope
from servicekit.events.errors import MalformedEventError
from servicekit.events.topology import (
    CORRELATION_ID_HEADER,
    DEAD_LETTER_EXCHANGE,
    DELIVERY_COUNT_HEADER,
    ORIGINAL_QUEUE_HEADER,
    ORIGINAL_ROUTING_KEY_HEADER,
    REASON_HEADER,
)
from servicekit.logging import bind_correlation_id
from servicekit.metrics import ConsumerMetrics
from servicekit.tracing import extract_trace_context

logger = logging.getLogger(__name__)
tracer = trace.get_tracer("servicekit.events")

EventHandler = Callable[[EventEnvelope], Awaitable[None]]

UNKNOWN_EVENT_TYPE = "unknown"
# How often a message was handed back (HandBackEventError): visible in the queue, never a limit.
HANDED_BACK_HEADER = "x-gigstack-handed-back"


class EventConsumer:
    """Feeds one quorum work queue to one handler, at most `prefetch` messages at a time.

    Handlers must be idempotent (deliveries are at-least-once): claim the event id in the handler's own
    transaction (`claim_event` / `claim_event_mongo`) and raise `PermanentEventError` for what no retry
    can fix. See `servicekit.events.disposition` for the full ack/requeue/dead-letter table.
    """

    def __init__(
        self,
        bus: EventBus,
        *,
        queue: str,
        routing_keys: Sequence[str],
        handler: EventHandler,
        metrics: ConsumerMetrics,
        delivery_limit: int = 5,
        retry_delay_seconds: float = 0.5,
        prefetch: int | None = None,
        handler_timeout_seconds: float = 60.0,
        confirm_timeout_seconds: float = 10.0,
        depth_sample_interval_seconds: float = 15.0,
        dead_letter_redactor: Callable[[bytes], bytes] | None = None,
    ) -> None:
        if delivery_limit < 1:
            raise ValueError("delivery_limit must be at least 1")
        self._bus = bus
        self.queue_name = queue
        self._routing_keys = tuple(routing_keys)
        self._handler = handler
        self._metrics = metrics
        self._delivery_limit = delivery_limit
        self._retry_delay = retry_delay_seconds
        self._prefetch = prefetch
        self._handler_timeout = handler_timeout_seconds
        self._confirm_timeout = confirm_timeout_seconds
        self._depth_interval = depth_sample_interval_seconds
        # Dead letters are kept for days and read by people: secrets the handler needed once are blanked
        # in the copy (`servicekit.events.outbox_secrets.payload_redactor`).
        self._redact = dead_letter_redactor
        self._channel: AbstractRobustChannel | None = None
        self._queue: AbstractRobustQueue | None = None
        self._dead_letters: AbstractExchange | None = None
        self._consumer_tag: str | None = None
        self._in_flight: set[asyncio.Task[Any]] = set()
        self._depth_sampler: asyncio.Task[None] | None = None
        self._sampler_stopping = asyncio.Event()

    @property
    def in_flight(self) -> int:
        return len(self._in_flight)

    async def start(self) -> None:
        """Declare the queue topology on a dedicated channel and start consuming."""
        if self._channel is not None:
            return
        channel = await self._bus.open_channel(prefetch=self._prefetch)
        try:
            self._queue = await declare_work_queue(
                channel,
                self.queue_name,
                self._routing_keys,
                delivery_limit=self._delivery_limit,
                timeout=self._confirm_timeout,
            )
            self._dead_letters = await channel.get_exchange(DEAD_LETTER_EXCHANGE, ensure=False)
            self._channel = channel
            self._consumer_tag = await self._queue.consume(self._on_message, no_ack=False)
        except BaseException:
            self._channel = None
            await channel.close()
            raise
        self._sampler_stopping.clear()
        self._depth_sampler = asyncio.create_task(self._sample_depth(), name=f"queue-depth:{self.queue_name}")

    async def stop(self, grace_seconds: float = 20.0) -> None:
        """Stop taking messages, let in-flight handlers finish (up to `grace_seconds`), then close.

        Handlers still running after the grace period are cancelled; their messages were never acked, so
        the broker redelivers them to another consumer: nothing is lost, at worst handled twice.
        """
        channel, queue, tag = self._channel, self._queue, self._consumer_tag
        if channel is None:
            return
        self._consumer_tag = None
        await self._stop_depth_sampler()
        if queue is not None and tag is not None:
            try:
                await queue.cancel(tag, timeout=self._confirm_timeout)
            except CONNECTION_EXCEPTIONS as exc:
                logger.warning("cancelling consumer on %s failed: %r", self.queue_name, exc)
        # Messages delivered before the broker saw the cancel are in flight too and get handled normally.
        if self._in_flight:
            _done, pending = await asyncio.wait(set(self._in_flight), timeout=grace_seconds)
            if pending:
                logger.warning(
                    "%d handler(s) on %s still running after %.1fs; cancelled, messages get redelivered",
                    len(pending),
                    self.queue_name,
                    grace_seconds,
                )
                for task in pending:
                    task.cancel()
                await asyncio.wait(pending, timeout=self._confirm_timeout)
        self._channel = None
        self._queue = None
        if not channel.is_closed:
            try:
                await channel.close()
            except CONNECTION_EXCEPTIONS as exc:
                logger.warning("closing channel of %s failed: %r", self.queue_name, exc)

    async def _on_message(self, message: AbstractIncomingMessage) -> None:
        # aiormq runs this callback in a task it cancels when the channel closes (a broker restart), which
        # would interrupt a handler between its side effect and recording it (an email accepted by SMTP but
        # not yet in the ledger) and turn a broker blip into a duplicate. So the processing runs in a task of
        # our own that a channel close cannot cancel: it finishes, its ack fails on the dead channel, and the
        # broker redelivers the message to the idempotent handler, which recognises it. Only `stop()` cancels
        # these tasks, after the grace period.
        task = asyncio.create_task(self._process(message), name=f"handle:{self.queue_name}")
        self._in_flight.add(task)
        task.add_done_callback(self._forget_in_flight)
        await asyncio.shield(task)

    def _forget_in_flight(self, task: asyncio.Task[None]) -> None:
        self._in_flight.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("processing a message on %s failed", self.queue_name, exc_info=task.exception())

    async def _process(self, message: AbstractIncomingMessage) -> None:
        headers = dict(message.headers or {})
        attempt = attempt_number(headers)
        event_type = message.type or UNKNOWN_EVENT_TYPE
        error: BaseException | None
        try:
            envelope = EventEnvelope.from_json_bytes(message.body)
        except MalformedEventError as exc:
            error = exc
        else:
            event_type = envelope.type
            error = await self._run_handler(envelope, headers)
        disposition = decide(error, attempt=attempt, max_attempts=self._delivery_limit)
        if disposition.action is not Action.ACK:
            logger.warning(
                "event %s (%s) on %s attempt %d: %s (%s)",
                message.message_id,
                event_type,
                self.queue_name,
                attempt,
                disposition.action.value,
                disposition.reason,
            )
        outcome = await self._settle(message, disposition)
        self._metrics.record_outcome(queue=self.queue_name, event_type=event_type, outcome=outcome.value)

    async def _run_handler(self, envelope: EventEnvelope, headers: dict[str, Any]) -> BaseException | None:
        correlation_id = envelope.correlation_id or _text(headers.get(CORRELATION_ID_HEADER))
        parent = extract_trace_context(headers)
        with (
            bind_correlation_id(correlation_id),
            tracer.start_as_current_span(
                f"{self.queue_name} process",
                context=parent,
                kind=trace.SpanKind.CONSUMER,
                attributes={
                    "messaging.system": "rabbitmq",
                    "messaging.destination.name": self.queue_name,
                    "messaging.message.id": str(envelope.id),
                    "messaging.operation.type": "process",
                    "gigstack.event.type": envelope.type,
                },
            ) as span,
            self._metrics.time_handling(queue=self.queue_name, event_type=envelope.type),
        ):
            try:
                # asyncio.timeout rather than wait_for: no extra task per message on the hot path.
                async with asyncio.timeout(self._handler_timeout):
                    await self._handler(envelope)
            except Exception as exc:
                span.record_exception(exc)
                return exc
            return None

    async def _settle(self, message: AbstractIncomingMessage, disposition: Disposition) -> Outcome:
        try:
            if disposition.action is Action.ACK:
                await message.ack()
            elif disposition.action is Action.REQUEUE:
                # A short pause before requeueing so a briefly unavailable dependency is not hammered; the
                # quorum queue's delivery count bounds how often this happens.
                await asyncio.sleep(self._retry_delay)
                await message.nack(requeue=True)
            elif disposition.action is Action.REPUBLISH:
                await self._republish(message)
                await message.ack()
            else:
                await self._dead_letter(message, disposition.reason or "dead-lettered")
                await message.ack()
        except CONNECTION_EXCEPTIONS as exc:
            logger.warning("could not settle %s on %s: %r", message.message_id, self.queue_name, exc)
            # Give the message back so it does not hold a prefetch slot forever; when the channel itself is
            # gone this fails too, and the broker requeues the unacked message itself: it stays either way.
            with contextlib.suppress(*CONNECTION_EXCEPTIONS):
                await message.nack(requeue=True)
            return Outcome.FAILED
        return disposition.outcome

    async def _republish(self, message: AbstractIncomingMessage) -> None:
        """Put a fresh copy at the end of this queue (delivery count reset), then ack the original.

        A crash between the two leaves both copies: handlers are idempotent, so that is a duplicate at worst.
        """
        if self._channel is None:
            raise RuntimeError("consumer is not started")
        headers = {k: v for k, v in (message.headers or {}).items() if k != DELIVERY_COUNT_HEADER}
        previous = headers.get(HANDED_BACK_HEADER)
        headers[HANDED_BACK_HEADER] = (previous if isinstance(previous, int) else 0) + 1
        copy = aio_pika.Message(
            body=message.body,
            headers=headers,
            content_type=message.content_type,
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            message_id=message.message_id,
            type=message.type,
            timestamp=message.timestamp,
            app_id=message.app_id,
            correlation_id=message.correlation_id,
        )
        await self._channel.default_exchange.publish(
            copy, routing_key=self.queue_name, mandatory=True, timeout=self._confirm_timeout
        )

    async def _dead_letter(self, message: AbstractIncomingMessage, reason: str) -> None:
        """Copy the message to `<queue>.dlq` with the reason; returns only after the broker confirmed it."""
        if self._dead_letters is None:
            raise RuntimeError("consumer is not started")
        headers = dict(message.headers or {})
        headers[REASON_HEADER] = reason
        headers[ORIGINAL_ROUTING_KEY_HEADER] = message.routing_key or ""
        headers[ORIGINAL_QUEUE_HEADER] = self.queue_name
        body = self._redact(message.body) if self._redact is not None else message.body
        copy = aio_pika.Message(
            body=body,
            headers=headers,
            content_type=message.content_type,
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            message_id=message.message_id,
            type=message.type,
            timestamp=message.timestamp,
            app_id=message.app_id,
            correlation_id=message.correlation_id,
        )
        # mandatory + on_return_raises (set by EventBus.open_channel): a missing DLQ binding raises here,
        # and the original message is then left unacked instead of silently vanishing.
        await self._dead_letters.publish(
            copy, routing_key=self.queue_name, mandatory=True, timeout=self._confirm_timeout
        )

    async def _sample_depth(self) -> None:
        while not self._sampler_stopping.is_set():
            try:
                depth = await self._bus.queue_depth(self.queue_name)
            except (*CONNECTION_EXCEPTIONS, TimeoutError) as exc:
                logger.debug("sampling depth of %s failed: %r", self.queue_name, exc)
            else:
                self._metrics.set_queue_depth(queue=self.queue_name, messages_ready=depth)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._sampler_stopping.wait(), timeout=self._depth_interval)

    async def _stop_depth_sampler(self) -> None:
        # Signalled, not cancelled: cancelling it in the middle of its channel's open/close RPC makes aiormq
        # close the whole shared connection ("expected 'channel.open'"), taking in-flight handlers with it.
        sampler, self._depth_sampler = self._depth_sampler, None
        if sampler is None:
            return
        self._sampler_stopping.set()
        try:
            await asyncio.wait_for(asyncio.shield(sampler), timeout=self._confirm_timeout)
        except TimeoutError:
            sampler.cancel()


def _text(value: object) -> str | None:
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("utf-8", "replace")
    return str(value) if value is not None else None
