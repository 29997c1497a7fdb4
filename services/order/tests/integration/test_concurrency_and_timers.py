"""Of two concurrent transitions exactly one wins; timers are rows, so they fire after a restart."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace
from datetime import timedelta

import pytest
from conftest import OrderApi, running_order_api
from order_service.entrypoints.scheduler import tick
from order_service.settings import OrderSettings
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError


def new_user() -> str:
    return str(uuid.uuid4())


async def test_of_two_concurrent_transitions_exactly_one_wins(order_api: OrderApi) -> None:
    for _ in range(5):
        buyer, seller = new_user(), new_user()
        order = await order_api.paid_order(buyer, seller)
        base = f"/api/v1/orders/{order['id']}"
        deliver = order_api.call("POST", f"{base}/delivery", seller, {"message": "done", "version": 2})
        cancel = order_api.call("POST", f"{base}/cancel", seller, {"reason": "no", "version": 2})
        results = await asyncio.gather(deliver, cancel)
        statuses = sorted(r.status_code for r in results)
        assert statuses == [200, 409], [r.text for r in results]
        final = (await order_api.call("GET", base, buyer)).json()
        assert final["version"] == 3
        history = await order_api.scalar(
            "SELECT count(*) FROM order_history WHERE order_id = :id", id=order["id"]
        )
        assert history == 3  # created, paid, and the one winner


async def test_a_stale_version_is_refused(order_api: OrderApi) -> None:
    buyer, seller = new_user(), new_user()
    order = await order_api.paid_order(buyer, seller)
    response = await order_api.call(
        "POST", f"/api/v1/orders/{order['id']}/extension", seller, {"days": 1, "reason": "x", "version": 1}
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"


async def test_history_is_append_only(order_api: OrderApi) -> None:
    buyer, seller = new_user(), new_user()
    await order_api.order_from_gig(buyer, await order_api.add_gig(seller))
    for statement in ("UPDATE order_history SET action = 'x'", "DELETE FROM order_history"):
        async with order_api.engine.connect() as connection:
            with pytest.raises(DBAPIError, match="append-only"):
                await connection.execute(text(statement))


async def test_expiry_timers_fire_after_a_restart(
    order_settings: OrderSettings, internal_keypair: tuple[str, str]
) -> None:
    settings = order_settings.model_copy(update={"payment_window_seconds": 1})
    buyer, seller = new_user(), new_user()
    async with running_order_api(settings, internal_keypair) as first:
        created = [await first.order_from_gig(buyer, await first.add_gig(seller)) for _ in range(3)]
    # The process is gone; its timers were rows. A new one, with its own scheduler loop, expires them.
    await asyncio.sleep(1.2)
    looping = settings.model_copy(update={"scheduler_interval_seconds": 0.2})
    async with running_order_api(looping, internal_keypair) as second:
        for _ in range(50):
            expired = await second.scalar("SELECT count(*) FROM orders WHERE status = 'expired'")
            if expired == 3:
                break
            await asyncio.sleep(0.2)
        assert expired == 3
        for order in created:
            response = await second.call("GET", f"/api/v1/orders/{order['order']['id']}", buyer)
            assert response.json()["status"] == "expired"
        # A second tick finds nothing left: each timer fired once.
        later = replace(second.deps.handlers, clock=lambda: second.deps.handlers.clock() + timedelta(days=1))
        assert (await tick(later))["expired"] == 0
        assert len(await second.outbox("order.order.expired")) == 3
