"""The consuming side of each path, run as its own process like the consuming service it stands for.

Prints `READY <cpu seconds>` once it consumes, then `DONE <handler calls> <cpu seconds>` when `--events`
distinct events were handled, and stops (gracefully) when its stdin closes.
Usage: `python -m bench.event_bus.consumer_worker raw|full --amqp-url ... [--database-url ...] ...`.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Sequence

import aio_pika
import uvloop
from aio_pika.abc import AbstractIncomingMessage
from aio_pika.exceptions import CONNECTION_EXCEPTIONS
from prometheus_client import CollectorRegistry
from servicekit.events import EventBus, EventConsumer, EventEnvelope
from servicekit.events.batch_consumer import BatchEventConsumer
from servicekit.events.bus import declare_work_queue
from servicekit.events.sql import claim_event, claim_events
from servicekit.metrics import ConsumerMetrics
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

AMQP_TIMEOUT = 30.0


class PerMessageAckConsumer(BatchEventConsumer):
    """`BatchEventConsumer` as it was before the session of 18:35 (ADR 0024 amendment): each message of a
    committed batch acked on its own (one write each), for the side-by-side `--ab-consumer`."""

    async def _ack_batch(self, messages: Sequence[AbstractIncomingMessage]) -> list[BaseException | None]:
        errors: list[BaseException | None] = []
        for message in messages:
            try:
                await message.ack()
            except CONNECTION_EXCEPTIONS as exc:
                errors.append(exc)
            else:
                errors.append(None)
        return errors


def _report(line: str) -> None:
    print(line, flush=True)


async def _wait_for_stdin_close() -> None:
    await asyncio.to_thread(sys.stdin.read)


async def consume_raw(args: argparse.Namespace) -> None:
    connection = await aio_pika.connect_robust(args.amqp_url, timeout=AMQP_TIMEOUT)
    channel = await connection.channel()
    await channel.set_qos(prefetch_count=args.prefetch)
    queue = await declare_work_queue(
        channel, args.queue, [args.routing_key], delivery_limit=5, timeout=AMQP_TIMEOUT
    )
    acked = 0

    async def on_message(message: AbstractIncomingMessage) -> None:
        nonlocal acked
        await message.ack()
        acked += 1
        if acked == args.events:
            _report(f"DONE {acked} {time.process_time():.3f}")

    await queue.consume(on_message)
    _report(f"READY {time.process_time():.3f}")
    await _wait_for_stdin_close()
    await connection.close()


async def consume_full(args: argparse.Namespace) -> None:
    engine: AsyncEngine = create_async_engine(
        args.database_url, pool_size=args.prefetch + 4, max_overflow=8, pool_timeout=30
    )
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    bus = EventBus(args.amqp_url, service_name="bench-consumer", prefetch=args.prefetch)
    await bus.connect()
    calls = 0
    claimed = 0

    async def claim(envelope: EventEnvelope) -> bool:
        if args.unit_of_work == "session":
            async with sessions() as session, session.begin():
                return await claim_event(session, args.consumer, envelope.id)
        async with engine.begin() as connection:
            return await claim_event(connection, args.consumer, envelope.id)

    async def handler(envelope: EventEnvelope) -> None:
        nonlocal calls, claimed
        calls += 1
        if await claim(envelope):
            claimed += 1
            if claimed == args.events:
                _report(f"DONE {calls} {time.process_time():.3f}")

    async def batch_handler(envelopes: Sequence[EventEnvelope]) -> None:
        # One transaction claims the whole batch; the consumer acks the messages after it committed.
        nonlocal calls, claimed
        calls += len(envelopes)
        ids = [envelope.id for envelope in envelopes]
        if args.unit_of_work == "session":
            async with sessions() as session, session.begin():
                fresh = await claim_events(session, args.consumer, ids)
        else:
            async with engine.begin() as connection:
                fresh = await claim_events(connection, args.consumer, ids)
        before, claimed = claimed, claimed + len(fresh)
        if before < args.events <= claimed:
            _report(f"DONE {calls} {time.process_time():.3f}")

    metrics = ConsumerMetrics(CollectorRegistry(), service="bench-consumer")
    consumer: EventConsumer
    if args.claims == "batch":
        batch_consumer = PerMessageAckConsumer if args.batch_acks == "per-message" else BatchEventConsumer
        consumer = batch_consumer(
            bus,
            queue=args.queue,
            routing_keys=[args.routing_key],
            batch_handler=batch_handler,
            metrics=metrics,
            prefetch=args.prefetch,
            max_batch=args.prefetch,
            linger_seconds=args.batch_linger_ms / 1000,
        )
    else:
        consumer = EventConsumer(
            bus,
            queue=args.queue,
            routing_keys=[args.routing_key],
            handler=handler,
            metrics=metrics,
            prefetch=args.prefetch,
        )
    await consumer.start()
    _report(f"READY {time.process_time():.3f}")
    await _wait_for_stdin_close()
    await consumer.stop(grace_seconds=10)
    await bus.close()
    await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("path", choices=["raw", "full"])
    parser.add_argument("--amqp-url", required=True)
    parser.add_argument("--database-url")
    parser.add_argument("--queue", required=True)
    parser.add_argument("--routing-key", required=True)
    parser.add_argument("--events", type=int, required=True)
    parser.add_argument("--prefetch", type=int, default=32)
    parser.add_argument("--consumer", default="bench")
    parser.add_argument("--unit-of-work", choices=["connection", "session"], default="connection")
    parser.add_argument("--claims", choices=["batch", "single"], default="batch")
    parser.add_argument("--batch-acks", choices=["together", "per-message"], default="together")
    parser.add_argument("--batch-linger-ms", type=float, default=2.0)
    parser.add_argument("--loop", choices=["asyncio", "uvloop"], default="asyncio")
    args = parser.parse_args()
    # The same event loop as the benchmark's own process (--loop).
    with asyncio.Runner(loop_factory=uvloop.new_event_loop if args.loop == "uvloop" else None) as runner:
        runner.run(consume_raw(args) if args.path == "raw" else consume_full(args))


if __name__ == "__main__":
    main()
