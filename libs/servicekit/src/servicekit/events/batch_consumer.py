"""Consuming a work queue in batches: the messages that arrived together share one handler call.

A handler that claims each event in a transaction of its own pays BEGIN, INSERT and COMMIT (three round
trips, plus the driver's work) per event; with `BatchEventConsumer` the handler gets every message that
arrived while the previous batch was running and claims them all in one transaction (`claim_events`), so
that cost is paid once per batch (ADR 0024). A batch starts `linger_seconds` (default 2 ms) after the
first message that found a free slot, so the messages of one burst (an outbox relay publishes a batch in one
write) share a batch instead of the first one or two each paying a transaction alone; a full batch
(`max_batch` waiting) starts at once, and a lone message is still a batch of one.

The guarantees are those of `EventConsumer`: every message of a batch is acked only after the handler
returned (its transaction committed); if the batch handler raises, each message of the batch is handled
again on its own, through the per-event path with the full ack / requeue / dead-letter taxonomy
(`servicekit.events.disposition`), so one poison message neither fails its neighbours nor uses up their
delivery attempts. The handler must therefore be idempotent across the two calls, which claiming gives it.
The acks of a committed batch go out in one socket write (`servicekit.events.batch_ack`), one `Basic.Ack`
per message and never `multiple`, so nothing of a batch still running is acked with it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from aio_pika.abc import AbstractIncomingMessage
from opentelemetry import trace

from servicekit.events.batch_ack import ack_together
from servicekit.events.bus import EventBus
from servicekit.events.consumer import EventConsumer
from servicekit.events.disposition import Outcome
from servicekit.events.envelope import EventEnvelope
from servicekit.events.errors import MalformedEventError
from servicekit.metrics import ConsumerMetrics
from servicekit.tracing import extract_trace_context

logger = logging.getLogger(__name__)
tracer = trace.get_tracer("servicekit.events")

BatchEventHandler = Callable[[Sequence[EventEnvelope]], Awaitable[None]]

BATCH_EVENT_TYPE = "batch"


class BatchEventConsumer(EventConsumer):
    """Feeds one quorum work queue to `batch_handler`, in batches of up to `max_batch` messages.

    At most `concurrent_batches` batches run at a time; messages delivered meanwhile (the broker sends up to
    `prefetch` unacked ones) wait for the next batch. Each batch gets one consumer span with a link to the
    producing trace of every event, and the handling-time histogram gets one observation per batch under
    the event type `batch`; outcomes are still counted per message.
    """

    def __init__(
        self,
        bus: EventBus,
        *,
        queue: str,
        routing_keys: Sequence[str],
        batch_handler: BatchEventHandler,
        metrics: ConsumerMetrics,
        max_batch: int = 100,
        concurrent_batches: int = 2,
        linger_seconds: float = 0.002,
        **options: Any,
    ) -> None:
        if max_batch < 1 or concurrent_batches < 1:
            raise ValueError("max_batch and concurrent_batches must be at least 1")
        if linger_seconds < 0:
            raise ValueError("linger_seconds must not be negative")

        async def one_event(envelope: EventEnvelope) -> None:
            await batch_handler((envelope,))

        super().__init__(
            bus, queue=queue, routing_keys=routing_keys, handler=one_event, metrics=metrics, **options
        )
        self._batch_handler = batch_handler
        self._max_batch = max_batch
        self._concurrent_batches = concurrent_batches
        self._waiting: list[AbstractIncomingMessage] = []
        self._running_batches = 0
        self._stopping = False
        self._linger = linger_seconds
        self._linger_timer: asyncio.TimerHandle | None = None

    async def _on_message(self, message: AbstractIncomingMessage) -> None:
        # Batches run in tasks of our own (tracked in `_in_flight`, so `stop()` waits for them) for the
        # reason `EventConsumer._on_message` gives: a channel close must not cancel a handler half-way.
        self._waiting.append(message)
        if len(self._waiting) >= self._max_batch or self._linger == 0:
            self._start_batches()
        elif self._linger_timer is None and self._running_batches < self._concurrent_batches:
            # Let the rest of the burst this message came with arrive (one relay write of up to 100 events
            # reaches us as deliveries over several loop turns) before a batch is cut.
            self._linger_timer = asyncio.get_running_loop().call_later(self._linger, self._linger_over)

    def _linger_over(self) -> None:
        self._linger_timer = None
        self._start_batches()

    async def start(self) -> None:
        self._stopping = False
        await super().start()

    def _start_batches(self) -> None:
        if self._linger_timer is not None:
            self._linger_timer.cancel()
            self._linger_timer = None
        while not self._stopping and self._waiting and self._running_batches < self._concurrent_batches:
            batch, self._waiting = self._waiting[: self._max_batch], self._waiting[self._max_batch :]
            self._running_batches += 1
            task = asyncio.create_task(self._process_batch(batch), name=f"handle-batch:{self.queue_name}")
            self._in_flight.add(task)
            task.add_done_callback(self._batch_done)

    def _batch_done(self, task: asyncio.Task[None]) -> None:
        self._running_batches -= 1
        self._forget_in_flight(task)
        self._start_batches()

    async def stop(self, grace_seconds: float = 20.0) -> None:
        # No batch starts once stopping: messages still waiting were never handed to a handler nor acked,
        # so closing the channel gives them back to the broker, which redelivers them.
        self._stopping = True
        if self._linger_timer is not None:
            self._linger_timer.cancel()
            self._linger_timer = None
        await super().stop(grace_seconds)
        self._waiting.clear()

    async def _process_batch(self, messages: Sequence[AbstractIncomingMessage]) -> None:
        envelopes: list[EventEnvelope] = []
        parsed: list[AbstractIncomingMessage] = []
        for message in messages:
            try:
                envelopes.append(EventEnvelope.from_json_bytes(message.body))
            except MalformedEventError:
                await self._process(message)  # dead-lettered with the reason, as on the per-event path
                continue
            parsed.append(message)
        if len(parsed) == 1:
            await self._process(parsed[0])
            return
        if not parsed:
            return
        error = await self._run_batch_handler(envelopes, parsed)
        if error is not None:
            logger.warning(
                "batch of %d on %s failed (%r); handling each event on its own",
                len(parsed),
                self.queue_name,
                error,
            )
            for message in parsed:
                await self._process(message)
            return
        # Only now, the batch's transaction committed: a crash before this point leaves every message
        # unacked, and the broker redelivers them to the claim, which recognises them.
        errors = await self._ack_batch(parsed)
        for message, envelope, ack_error in zip(parsed, envelopes, errors, strict=True):
            outcome = Outcome.PROCESSED
            if ack_error is not None:
                # The channel is gone: the broker requeues the unacked message and the claim recognises it.
                logger.warning("could not ack %s on %s: %r", message.message_id, self.queue_name, ack_error)
                outcome = Outcome.FAILED
            self._metrics.record_outcome(
                queue=self.queue_name, event_type=envelope.type, outcome=outcome.value
            )

    async def _ack_batch(self, messages: Sequence[AbstractIncomingMessage]) -> list[BaseException | None]:
        """Ack the messages of a committed batch in one write per channel; per message None or the error."""
        return await ack_together(messages, timeout=self._confirm_timeout)

    async def _run_batch_handler(
        self, envelopes: Sequence[EventEnvelope], messages: Sequence[AbstractIncomingMessage]
    ) -> BaseException | None:
        links = []
        for message in messages:
            parent = extract_trace_context(dict(message.headers or {}))
            context = trace.get_current_span(parent).get_span_context()
            if context.is_valid:
                links.append(trace.Link(context))
        with (
            tracer.start_as_current_span(
                f"{self.queue_name} process",
                kind=trace.SpanKind.CONSUMER,
                links=links,
                attributes={
                    "messaging.system": "rabbitmq",
                    "messaging.destination.name": self.queue_name,
                    "messaging.operation.type": "process",
                    "messaging.batch.message_count": len(envelopes),
                },
            ) as span,
            self._metrics.time_handling(queue=self.queue_name, event_type=BATCH_EVENT_TYPE),
        ):
            try:
                async with asyncio.timeout(self._handler_timeout):
                    await self._batch_handler(envelopes)
            except Exception as exc:
                span.record_exception(exc)
                return exc
            return None
