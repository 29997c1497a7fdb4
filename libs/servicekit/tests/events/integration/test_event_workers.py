"""`EventWorkers` from a lifespan: an aggregate's staged event reaches a consumer; a missing broker holds
up neither startup nor shutdown."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from types import SimpleNamespace
from typing import Any, cast

import pytest
from fastapi import FastAPI
from prometheus_client import CollectorRegistry
from servicekit.events import EventBus, EventEnvelope, EventWorkers
from servicekit.mongo import MongoUnitOfWork, VersionedRepository, create_mongo_client

from .conftest import SERVICE, Eventually

pytestmark = pytest.mark.integration


class Counters(VersionedRepository[dict[str, Any]]):
    collection_name = "counters"

    def identity(self, aggregate: dict[str, Any]) -> Any:
        return aggregate["id"]

    def to_document(self, aggregate: dict[str, Any]) -> dict[str, Any]:
        return {"value": aggregate["value"]}

    def from_document(self, document: Mapping[str, Any]) -> dict[str, Any]:
        return {"id": document["_id"], "value": document["value"]}


def _app(registry: CollectorRegistry) -> FastAPI:
    # The hook reads only the app's metrics registry.
    return cast(FastAPI, SimpleNamespace(state=SimpleNamespace(metrics_registry=registry)))


async def test_a_staged_event_is_relayed_and_consumed_then_everything_stops(
    amqp_url: str, mongodb_url: str, metrics_registry: CollectorRegistry, eventually: Eventually
) -> None:
    client = create_mongo_client(mongodb_url, timeout_seconds=10)
    database = client.get_default_database()
    received: list[EventEnvelope] = []
    released: list[str] = []

    async def handler(event: EventEnvelope) -> None:
        received.append(event)

    bus = EventBus(amqp_url, service_name=SERVICE, connect_timeout=10)
    workers = (
        EventWorkers(bus, service_name=SERVICE, grace_seconds=2)
        .add_mongo_outbox([database["counters"]], poll_interval=0.05)
        .add_consumer(
            queue="servicekit-tests.counters",
            routing_keys=["counter.#"],
            handler=handler,
            before_stop=lambda: released.append("released"),
        )
    )
    try:
        async with workers.lifespan_hook(_app(metrics_registry)):
            await eventually(lambda: bool(workers.consumers) and bus.is_connected, what="bus connected")
            async with MongoUnitOfWork(database) as uow:
                counters = Counters(uow)
                created = EventEnvelope.new(
                    type="counter.counter.created.v1", producer=SERVICE, payload={"id": "c1"}
                )
                counters.add({"id": "c1", "value": 1}, created)
                await uow.commit()
            await eventually(lambda: len(received) == 1, within=30, what="event consumed")
        assert received[0].type == "counter.counter.created.v1"
        assert released == ["released"]
        assert not bus.is_connected
        stored = await database["counters"].find_one({"_id": "c1"})
        assert stored is not None
        assert stored.get("_outbox") == []
    finally:
        await client.close()


async def test_an_unreachable_broker_holds_up_neither_startup_nor_shutdown(
    metrics_registry: CollectorRegistry,
) -> None:
    bus = EventBus("amqp://guest:guest@127.0.0.1:9/", service_name=SERVICE, connect_timeout=1)
    workers = EventWorkers(bus, service_name=SERVICE).add_consumer(
        queue="servicekit-tests.never", routing_keys=["never.#"], handler=lambda _: asyncio.sleep(0)
    )
    started = time.monotonic()
    async with workers.lifespan_hook(_app(metrics_registry)):
        assert time.monotonic() - started < 0.5
        await asyncio.sleep(1.5)  # a few failed attempts, backing off
        assert not bus.is_connected
    assert time.monotonic() - started < 5
