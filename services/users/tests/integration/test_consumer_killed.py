"""A users process SIGKILLed in the middle of a stream of events: counters are exact once a new one ran."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import pytest
from gigstack_testinfra.net import free_port
from gigstack_testinfra.processes import ServiceProcess
from users_harness import account_created, eventually, new_id, order_event, publisher, store

pytestmark = [pytest.mark.integration, pytest.mark.slow]

PAIRS = 4
ORDERS_PER_PAIR = 30


def _service(env: dict[str, str], tmp_path: Path, name: str) -> ServiceProcess:
    port = free_port()
    return ServiceProcess(
        name,
        [sys.executable, "-m", "users_service"],
        env | {"PORT": str(port), "HOST": "127.0.0.1"},
        port,
        tmp_path / f"{name}.log",
    )


async def test_counters_are_exact_after_the_consumer_is_killed_mid_stream(
    mongodb_url: str, amqp_url: str, internal_keypair: tuple[str, str], tmp_path: Path
) -> None:
    pairs = [(new_id(), new_id()) for _ in range(PAIRS)]
    events = []
    for index, (buyer, seller) in enumerate(pairs):
        events += [account_created(buyer, f"buyer{index}"), account_created(seller, f"seller{index}")]
        for n in range(ORDERS_PER_PAIR):
            events += [
                order_event("placed", f"{index}-{n}", buyer, seller),
                order_event("completed", f"{index}-{n}", buyer, seller, earnings=100),
            ]
    async with publisher(amqp_url) as bus:
        for event in events:
            await bus.publish(event)
        for event in events[::3]:  # and some redeliveries from an at-least-once relay
            await bus.publish(event)

    env = {
        "ENVIRONMENT": "test",
        "MONGODB_URL": mongodb_url,
        "AMQP_URL": amqp_url,
        "INTERNAL_TOKEN_PUBLIC_KEY": internal_keypair[1],
        "CONSUMER_PREFETCH": "16",
    }
    async with store(mongodb_url) as database:
        ledger = database["applied_events"]
        first = _service(env, tmp_path, "users-first")
        first.start()
        try:

            async def some_applied() -> bool:
                return bool(await ledger.count_documents({}) >= 40)

            await eventually(some_applied, within=90, what="the first process to apply some events")
            first.kill()  # SIGKILL: handlers in flight, acks unsent, ledger writes half done
        finally:
            if first.is_running():
                first.kill()
        applied_when_killed = await ledger.count_documents({})
        expected_applied = PAIRS * ORDERS_PER_PAIR * 3  # placed: buyer + seller; completed: seller
        assert applied_when_killed < expected_applied, "the stream had already finished; kill earlier"

        second = _service(env, tmp_path, "users-second")
        second.start()
        try:

            async def all_applied() -> bool:
                return bool(await ledger.count_documents({}) == expected_applied)

            await eventually(all_applied, within=180, what="every event applied after the restart")
            await asyncio.sleep(1.0)  # let stragglers (redeliveries) land: they must change nothing
            await _assert_exact(database, pairs)
        finally:
            second.terminate(timeout=30)


async def _assert_exact(database: Any, pairs: list[tuple[str, str]]) -> None:
    for index, (buyer, seller) in enumerate(pairs):
        buyer_doc = await database["profiles"].find_one({"_id": buyer})
        seller_doc = await database["profiles"].find_one({"_id": seller})
        assert buyer_doc["username"] == f"buyer{index}"
        assert buyer_doc["counters"]["purchased_gigs"] == ORDERS_PER_PAIR
        assert seller_doc["counters"]["ongoing_jobs"] == 0
        assert seller_doc["counters"]["completed_jobs"] == ORDERS_PER_PAIR
        assert seller_doc["counters"]["earnings_minor"] == {"USD": 100 * ORDERS_PER_PAIR}
