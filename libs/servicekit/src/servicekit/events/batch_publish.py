"""Several publications on one confirm channel in a single socket write (the outbox relays' batches).

aio-pika publishes one message per call: the channel lock is taken, the frames are queued for the
connection's writer task, and the call waits for that task to write them before the next message may take
the lock, so a relay batch of 100 costs 100 event-loop turns and 100 socket writes. py-spy put those writes
at a quarter of the staging benchmark's producer (docs/benchmarks.md, "Event bus, staged path").
`write_publications` frames a whole batch the way aiormq's `Channel.basic_publish` frames one message and
hands it to the writer as one payload: one lock, one turn, one write.

The confirm bookkeeping is aiormq's own, filled in exactly as `basic_publish` fills it, so aiormq's reader
settles the returned futures as it settles its own: `Basic.Ack` (single or `multiple`), a nack as
`DeliveryError`, a mandatory message returned as unroutable as the `DeliveredMessage`, and a closing
channel or connection as the close error (its future store rejects every pending future). This touches
aiormq attributes that are not part of its documented API (`lock`, `delivery_tag`, `confirmations`,
`message_id_delivery_tag`, `write_queue`, `_split_body`); the version is pinned in uv.lock, and
tests/events/integration/test_batch_publish.py fails if any of them changes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import aio_pika
from aiormq.abc import ChannelFrame
from pamqp import commands as spec
from pamqp.header import ContentHeader


async def write_publications(
    channel: Any,
    *,
    exchange: str,
    publications: Sequence[tuple[aio_pika.Message, str]],
    timeout: float,  # noqa: ASYNC109 - bounds the write, not the confirms
) -> list[asyncio.Future[Any]]:
    """Write `(message, routing_key)` pairs, in order and mandatory, on the aiormq confirm `channel`.

    Returns one confirmation future per publication, in the same order; nothing is awaited beyond the
    write. If the write fails before the frames were queued, the delivery tags are given back and nothing
    was sent, as `basic_publish` does.
    """
    if not channel.publisher_confirms:
        raise RuntimeError("batched publishing needs a channel with publisher confirms")
    futures: list[asyncio.Future[Any]] = []
    async with asyncio.timeout(timeout), channel.lock:
        first_tag = channel.delivery_tag + 1
        frames: list[Any] = []
        registered: list[tuple[int, str]] = []
        sent = False
        drain: asyncio.Future[Any] | None = None
        try:
            for message, routing_key in publications:
                properties = message.properties
                message_id = properties.message_id
                if not message_id:
                    raise ValueError(
                        "every batched publication needs a message id (returns are matched by it)"
                    )
                channel.delivery_tag += 1
                tag = channel.delivery_tag
                confirmation = channel.create_future()
                channel.confirmations[tag] = confirmation
                channel.message_id_delivery_tag[message_id] = tag
                confirmation.add_done_callback(_forget_message_id(channel, message_id, tag))
                registered.append((tag, message_id))
                futures.append(confirmation)
                frames.append(spec.Basic.Publish(exchange=exchange, routing_key=routing_key, mandatory=True))
                frames.append(ContentHeader(properties=properties, body_size=len(message.body)))
                frames.extend(channel._split_body(message.body))
            drain = channel.create_future()
            await channel.write_queue.put(
                ChannelFrame.marshall(frames=frames, channel_number=channel.number, drain_future=drain)
            )
            sent = True
            await drain
        except BaseException:
            if not sent:
                # The broker has seen none of it: give the sequence numbers back while holding the lock.
                channel.delivery_tag = first_tag - 1
                for tag, message_id in registered:
                    channel.confirmations.pop(tag, None)
                    if channel.message_id_delivery_tag.get(message_id) == tag:
                        channel.message_id_delivery_tag.pop(message_id)
                for confirmation in futures:
                    confirmation.cancel()
            if drain is not None:
                drain.cancel()
            raise
    return futures


def _forget_message_id(channel: Any, message_id: str, tag: int) -> Any:
    def forget(_: asyncio.Future[Any]) -> None:
        if channel.message_id_delivery_tag.get(message_id) == tag:
            channel.message_id_delivery_tag.pop(message_id)

    return forget
