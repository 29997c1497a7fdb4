"""RabbitMQ fixtures: per-test vhosts; a durable quorum queue message survives a SIGKILL of the node."""

from __future__ import annotations

import asyncio
from urllib.parse import unquote, urlsplit

import aio_pika
import httpx
import pytest
from gigstack_testinfra.backends import BrokerControl

pytestmark = pytest.mark.integration

_seen_vhosts: set[str] = set()


@pytest.mark.parametrize("run", [1, 2])
async def test_each_test_gets_its_own_vhost(amqp_url: str, rabbitmq_server: BrokerControl, run: int) -> None:
    vhost = unquote(urlsplit(amqp_url).path.lstrip("/"))
    assert vhost not in _seen_vhosts
    _seen_vhosts.add(vhost)
    endpoint = rabbitmq_server.endpoint
    async with httpx.AsyncClient(
        base_url=endpoint.management_url, auth=(endpoint.user, endpoint.password), timeout=10
    ) as admin:
        queues = (await admin.get(f"/api/queues/{vhost}")).json()
    assert queues == []

    connection = await aio_pika.connect(amqp_url, timeout=10)
    async with connection:
        channel = await connection.channel()
        queue = await channel.declare_queue("marker", durable=True)
        await channel.default_exchange.publish(aio_pika.Message(body=str(run).encode()), routing_key="marker")
        message = await queue.get(timeout=10)
        assert message is not None
        await message.ack()
        assert message.body == str(run).encode()


@pytest.mark.slow
async def test_quorum_queue_message_survives_broker_kill(
    amqp_url: str, rabbitmq_server: BrokerControl
) -> None:
    connection = await aio_pika.connect(amqp_url, timeout=10)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        await channel.declare_queue("durable.work", durable=True, arguments={"x-queue-type": "quorum"})
        # RabbitMQ 3.10 (ra 2.0) registers a new quorum queue's Raft member in a dets table it saves lazily; a
        # SIGKILL within ~1 s of declaring loses that registration and the queue comes back empty and
        # leaderless. Real queues exist long before a crash, so give the registration time to land.
        await asyncio.sleep(2)
        await channel.default_exchange.publish(
            aio_pika.Message(body=b"survivor", delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
            routing_key="durable.work",
        )

    rabbitmq_server.kill()
    with pytest.raises((OSError, aio_pika.exceptions.AMQPConnectionError)):  # really down
        await aio_pika.connect(amqp_url, timeout=3)
    rabbitmq_server.start()

    connection = await aio_pika.connect(amqp_url, timeout=10)
    async with connection:
        channel = await connection.channel()
        queue = await channel.declare_queue("durable.work", passive=True)
        message = await queue.get(timeout=10, fail=False)
        # Quorum queues may need a moment after restart to elect their (single) leader.
        for _ in range(50):
            if message is not None:
                break
            await asyncio.sleep(0.2)
            message = await queue.get(timeout=10, fail=False)
        assert message is not None
        assert message.body == b"survivor"
        await message.ack()
