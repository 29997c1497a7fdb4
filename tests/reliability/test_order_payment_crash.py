"""The order process SIGKILLed between the payment provider's success and the order's state change.

A real `python -m order_service` process with the test-only fault injection `CRASH_AFTER_PROVIDER_SUCCESS`
(settings refuse it outside development/test) pays an order through `payments.devConfirm`: the durable local
provider commits the charge, then the process kills itself with SIGKILL before it touches the order. A new
process (without the fault) runs its scheduler, whose reconciliation asks the provider and repairs the order:
in progress, paid once, charged once, nothing refunded, one `order.order.placed` event for users' counters.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import aio_pika
import httpx
import pytest
from gigstack_testinfra.net import LOOPBACK, free_port
from gigstack_testinfra.object_store import ObjectStoreBucket
from gigstack_testinfra.processes import ServiceProcess
from order_service.adapters.migrations import upgrade_to_head
from servicekit.events import EventBus, EventEnvelope
from servicekit.security import InternalTokenIssuer
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

pytestmark = pytest.mark.slow

WEBHOOK_SECRET = "whsec_crash_test_" + "c" * 20
PRICE = 4_200


def order_process(
    database_url: str,
    amqp_url: str,
    public_pem: str,
    media: ObjectStoreBucket,
    log_dir: Path,
    *,
    crash: bool,
) -> ServiceProcess:
    port = free_port()
    return ServiceProcess(
        "order-crashing" if crash else "order",
        [sys.executable, "-m", "order_service"],
        {
            "ENVIRONMENT": "test",
            "HOST": LOOPBACK,
            "PORT": str(port),
            "LOG_LEVEL": "INFO",
            "INTERNAL_TOKEN_PUBLIC_KEY": public_pem,
            "DATABASE_URL": database_url,
            "AMQP_URL": amqp_url,
            "PAYMENT_PROVIDER": "local",
            "PAYMENT_WEBHOOK_SECRET": WEBHOOK_SECRET,
            # The crashing process must not reconcile by itself; the restarted one does, every half second.
            "SCHEDULER_INTERVAL_SECONDS": "3600" if crash else "0.5",
            "RECONCILE_AFTER_SECONDS": "0",
            "CRASH_AFTER_PROVIDER_SUCCESS": "true" if crash else "false",
            "SHUTDOWN_GRACE_SECONDS": "5",
            **media.settings_env(),  # delivery files' store (unused here, required by the settings)
        },
        port,
        log_dir / ("order-crashing.log" if crash else "order.log"),
    )


async def scalar(engine: AsyncEngine, sql: str, **params: Any) -> Any:
    async with engine.connect() as connection:
        return (await connection.execute(text(sql), params)).scalar()


async def wait_for(
    engine: AsyncEngine,
    sql: str,
    expected: Any,
    timeout: float = 30.0,  # noqa: ASYNC109 - a polling deadline
    **params: Any,
) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = await scalar(engine, sql, **params)
        if value == expected or time.monotonic() > deadline:
            return value
        await asyncio.sleep(0.2)


async def publish_gig(amqp_url: str, seller: str) -> str:
    """The gig service's event, through the broker: the order process replicates the price from it."""
    gig_id = str(uuid.uuid4())
    bus = EventBus(amqp_url, service_name="gig")
    await bus.connect()  # declares every subscribed queue, order.events included
    try:
        gig = {
            "id": gig_id,
            "seller_id": seller,
            "price": PRICE,
            "currency": "USD",
            "delivery_days": 3,
            "active": True,
            "deleted": False,
        }
        await bus.publish(
            EventEnvelope.new(type="gig.gig.created.v1", producer="gig", payload={"gig": gig, "version": 1})
        )
    finally:
        await bus.close()
    return gig_id


async def drain(amqp_url: str, queue: str) -> list[dict[str, Any]]:
    bodies: list[dict[str, Any]] = []
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel()
        declared = await channel.declare_queue(queue, passive=True)
        while (message := await declared.get(fail=False, no_ack=True)) is not None:
            bodies.append(json.loads(message.body))
    return bodies


async def test_reconciliation_repairs_an_order_whose_process_was_killed_after_the_provider_succeeded(
    postgres_url: str,
    amqp_url: str,
    internal_keypair: tuple[str, str],
    object_store_bucket: ObjectStoreBucket,
    tmp_path: Path,
) -> None:
    await upgrade_to_head(postgres_url)
    engine = create_async_engine(postgres_url)
    issuer = InternalTokenIssuer(internal_keypair[0])
    buyer, seller = str(uuid.uuid4()), str(uuid.uuid4())
    crashing = order_process(
        postgres_url, amqp_url, internal_keypair[1], object_store_bucket, tmp_path, crash=True
    )
    restarted = order_process(
        postgres_url, amqp_url, internal_keypair[1], object_store_bucket, tmp_path, crash=False
    )
    try:
        gig_id = await publish_gig(amqp_url, seller)
        crashing.start()
        await crashing.wait_ready(timeout=60)
        assert await wait_for(engine, "SELECT count(*) FROM gig_replicas WHERE gig_id = :g", 1, g=gig_id) == 1

        def auth(user: str) -> dict[str, str]:
            return {"Authorization": f"Bearer {issuer.issue('order', subject=user)}"}

        async with httpx.AsyncClient(base_url=crashing.base_url, timeout=30) as client:
            created = await client.post("/api/v1/orders", json={"gig_id": gig_id}, headers=auth(buyer))
            assert created.status_code == 201, created.text
            order_id = created.json()["order"]["id"]
            total = created.json()["order"]["total"]
            # The provider charges the card and commits; then the process dies before answering.
            with pytest.raises(httpx.TransportError):
                await client.post(
                    "/api/v1/payments/dev-confirm", json={"order_id": order_id}, headers=auth(buyer)
                )
        for _ in range(50):
            if crashing.returncode is not None:
                break
            await asyncio.sleep(0.1)
        assert crashing.returncode == -signal.SIGKILL, crashing.log_tail()

        # The crash window: the provider holds the charge, the order knows nothing of it.
        charged = "SELECT charges FROM local_provider_intents WHERE order_id = :o AND status = 'succeeded'"
        assert await scalar(engine, charged, o=order_id) == 1
        assert (
            await scalar(engine, "SELECT status FROM orders WHERE id = :o", o=order_id) == "awaiting_payment"
        )
        assert (
            await scalar(engine, "SELECT status FROM payments WHERE order_id = :o", o=order_id) != "succeeded"
        )

        restarted.start()
        await restarted.wait_ready(timeout=60)
        status_sql = "SELECT status FROM orders WHERE id = :o"
        assert await wait_for(engine, status_sql, "in_progress", o=order_id) == "in_progress"

        async with httpx.AsyncClient(base_url=restarted.base_url, timeout=30) as client:
            order = (await client.get(f"/api/v1/orders/{order_id}", headers=auth(buyer))).json()
            assert (order["status"], order["paid_amount"], order["refunded_amount"]) == (
                "in_progress",
                total,
                0,
            )
            # Paying again is refused: the order is no longer awaiting payment (no second charge).
            again = await client.post(
                "/api/v1/payments/dev-confirm", json={"order_id": order_id}, headers=auth(buyer)
            )
            assert again.status_code == 409, again.text
        paid = "SELECT count(*) FROM order_history WHERE order_id = :o AND action = 'paid'"
        assert await scalar(engine, paid, o=order_id) == 1
        assert (
            await scalar(
                engine, "SELECT count(*) FROM local_provider_intents WHERE order_id = :o", o=order_id
            )
            == 1
        )
        assert await scalar(engine, charged, o=order_id) == 1
        assert await scalar(engine, "SELECT count(*) FROM local_provider_refunds") == 0
        assert await scalar(engine, "SELECT count(*) FROM refund_jobs") == 0

        # users' counters come from order.order.placed (ongoing jobs +1) : exactly one, published once.
        unpublished = "SELECT count(*) FROM outbox_events WHERE published_at IS NULL"
        assert await wait_for(engine, unpublished, 0) == 0
        placed = [
            body
            for body in await drain(amqp_url, "users.profiles")
            if body["type"] == "order.order.placed.v1" and body["payload"]["order_id"] == order_id
        ]
        assert len(placed) == 1
        assert placed[0]["payload"]["seller_id"] == seller
    finally:
        for process in (crashing, restarted):
            if process.is_running():
                process.terminate(timeout=10)
        await engine.dispose()
