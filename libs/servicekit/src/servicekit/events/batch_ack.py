"""Acking the messages of a committed batch in one socket write per channel (`BatchEventConsumer`).

`IncomingMessage.ack()` queues one `Basic.Ack` frame for the connection's writer task and waits for it to be
written, so a batch of 32 costs 32 event-loop turns and 32 socket writes; py-spy put those writes at about a
quarter of the benchmark consumer's busy time (docs/benchmarks.md, "Event bus margin"). `ack_together`
writes one `Basic.Ack` per message — each for its own delivery tag, never `multiple`, so a message of
another batch still running on the same channel is not acked with it — as one payload, the way aiormq's
`basic_ack` writes one. It is called only after the batch's handler returned, i.e. after its claim
transaction committed, exactly where the per-message acks were.

Delivery tags are per channel: messages are grouped by the aiormq channel that delivered them, so after a
reconnect the messages of the old channel (closed, their tags void) fail alone and the broker redelivers
them to the claim, which recognises them. aiormq attributes outside its documented API used here:
`write_queue`, `number`, `create_future` (the same as `batch_publish`); the message's processed flag is
aio-pika's private `__processed`. tests/events/integration/test_batch_consumer.py checks one write per batch
and the flags, so an upgrade that changes them fails there.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from aio_pika.abc import AbstractIncomingMessage
from aio_pika.exceptions import CONNECTION_EXCEPTIONS, ChannelInvalidStateError
from aiormq.abc import ChannelFrame
from pamqp import commands as spec


async def ack_together(
    messages: Sequence[AbstractIncomingMessage],
    *,
    timeout: float,  # noqa: ASYNC109 - bounds the write
) -> list[BaseException | None]:
    """Ack each of `messages`, one write per delivering channel; per message None (written) or the error.

    A channel that is closed, or whose write fails, fails all its messages with the connection error; the
    broker requeues them itself (they were never acked), as when `message.ack()` fails.
    """
    results: list[BaseException | None] = [None] * len(messages)
    by_channel: dict[int, tuple[Any, list[int]]] = {}
    for index, message in enumerate(messages):
        if message.delivery_tag is None:  # consumed with no_ack: nothing to ack, as `ack()` would raise
            results[index] = TypeError("a message consumed with no_ack cannot be acked")
            continue
        try:
            channel = message.channel  # raises ChannelInvalidStateError once that channel has closed
        except CONNECTION_EXCEPTIONS as exc:
            results[index] = exc
            continue
        by_channel.setdefault(id(channel), (channel, []))[1].append(index)
    for channel, indexes in by_channel.values():
        error = await _write_acks(channel, [messages[i] for i in indexes], timeout)
        for i in indexes:
            results[i] = error
            if error is None:
                _mark_processed(messages[i])
    return results


async def _write_acks(
    channel: Any,
    messages: Sequence[AbstractIncomingMessage],
    timeout: float,  # noqa: ASYNC109
) -> BaseException | None:
    if channel.is_closed:
        return ChannelInvalidStateError(f"{channel!r} closed")
    frames = [spec.Basic.Ack(delivery_tag=message.delivery_tag or 0, multiple=False) for message in messages]
    drain: asyncio.Future[Any] = channel.create_future()
    try:
        async with asyncio.timeout(timeout):
            await channel.write_queue.put(
                ChannelFrame.marshall(frames=frames, channel_number=channel.number, drain_future=drain)
            )
            await drain
    except CONNECTION_EXCEPTIONS as exc:  # TimeoutError included (an OSError)
        drain.cancel()
        return exc
    return None


def _mark_processed(message: AbstractIncomingMessage) -> None:
    # What `IncomingMessage.ack()` records after writing its frame: a second ack or nack of the message
    # raises MessageProcessError instead of sending the broker an unknown delivery tag (a channel error).
    setattr(message, "_IncomingMessage__processed", True)  # noqa: B010 - name-mangled slot of aio-pika
    if not message.locked:
        message.lock()
