"""The composition root: ``bootstrap(settings)`` builds every real dependency of the service, once.

The only place adapters are chosen. Nothing here connects: MongoDB on first use, the bus when the lifespan
starts the event workers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pymongo import AsyncMongoClient
from servicekit.events import EventBus, EventWorkers
from servicekit.mongo import create_mongo_client

from order_service.adapters.repository import ITEMS_COLLECTION
from order_service.adapters.unit_of_work import OrderUnitOfWork
from order_service.entrypoints.consumer import QUEUE, ROUTING_KEYS, event_handler
from order_service.settings import OrderSettings


@dataclass(frozen=True)
class OrderDependencies:
    mongo: AsyncMongoClient[Any]
    new_uow: Callable[[], OrderUnitOfWork]
    events: EventWorkers

    @property
    def bus(self) -> EventBus:
        return self.events.bus


def bootstrap(settings: OrderSettings) -> OrderDependencies:
    mongo = create_mongo_client(
        settings.mongodb_url.get_secret_value(), timeout_seconds=settings.mongodb_timeout_seconds
    )
    database = mongo.get_default_database()
    bus = EventBus(
        settings.amqp_url.get_secret_value(),
        service_name=settings.service_name,
        prefetch=settings.consumer_prefetch,
    )
    events = EventWorkers(bus, service_name=settings.service_name)
    events.add_mongo_outbox([database[ITEMS_COLLECTION]])
    if ROUTING_KEYS:
        events.add_consumer(queue=QUEUE, routing_keys=ROUTING_KEYS, handler=event_handler())
    return OrderDependencies(mongo=mongo, new_uow=lambda: OrderUnitOfWork(database), events=events)
