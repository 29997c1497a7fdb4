"""The composition root: ``bootstrap(settings)`` builds every real dependency of the service, once.

The only place adapters are chosen. Nothing here connects: MongoDB on first use, the bus when the lifespan
starts the event workers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase
from servicekit.events import EventBus, EventWorkers
from servicekit.media import ObjectStore, S3ObjectStore
from servicekit.mongo import create_mongo_client

from chat_service.adapters.directory import MongoDirectory
from chat_service.adapters.media import StoredChatFiles
from chat_service.adapters.repositories import CONVERSATIONS, MESSAGES, UNREAD_NOTICES
from chat_service.adapters.unit_of_work import ChatUnitOfWork
from chat_service.entrypoints.consumer import DIRECTORY_SUBSCRIPTION, directory_event_handler
from chat_service.service_layer.dependencies import HandlerDeps, UnreadEmailPolicy
from chat_service.settings import ChatSettings


@dataclass(frozen=True)
class ChatDependencies:
    mongo: AsyncMongoClient[Any]
    media: ObjectStore
    database: AsyncDatabase[Any]
    handlers: HandlerDeps
    events: EventWorkers
    unread_sweep_interval_seconds: float
    offer_expiry_sweep_interval_seconds: float

    @property
    def bus(self) -> EventBus:
        return self.events.bus


def handler_deps(database: AsyncDatabase[Any], settings: ChatSettings, media: ObjectStore) -> HandlerDeps:
    write_claims, lease = settings.mongo_write_claims, settings.mongo_claim_lease_seconds
    return HandlerDeps(
        new_uow=lambda: ChatUnitOfWork(database, write_claims=write_claims, claim_lease_seconds=lease),
        directory=MongoDirectory(database),
        media=StoredChatFiles(media),
        unread_emails=UnreadEmailPolicy(
            delay=timedelta(seconds=settings.unread_email_delay_seconds),
            period=timedelta(seconds=settings.unread_email_period_seconds),
        ),
    )


def bootstrap(settings: ChatSettings) -> ChatDependencies:
    mongo = create_mongo_client(
        settings.mongodb_url.get_secret_value(), timeout_seconds=settings.mongodb_timeout_seconds
    )
    database = mongo.get_default_database()
    bus = EventBus(
        settings.amqp_url.get_secret_value(),
        service_name=settings.service_name,
        prefetch=settings.consumer_prefetch,
    )
    media = S3ObjectStore(settings)
    handlers = handler_deps(database, settings, media)
    events = EventWorkers(bus, service_name=settings.service_name)
    # With write claims on, the relay takes the chat writers' claims before it removes published entries.
    events.add_mongo_outbox(
        [database[MESSAGES], database[UNREAD_NOTICES], database[CONVERSATIONS]],
        full_scan_interval_seconds=settings.outbox_full_scan_interval_seconds,
        write_claims=settings.mongo_write_claims,
        claim_lease_seconds=settings.mongo_claim_lease_seconds,
    )
    events.add_consumer(
        queue=DIRECTORY_SUBSCRIPTION.queue,
        routing_keys=DIRECTORY_SUBSCRIPTION.routing_keys,
        handler=directory_event_handler(handlers.directory),
    )
    return ChatDependencies(
        mongo=mongo,
        media=media,
        database=database,
        handlers=handlers,
        events=events,
        unread_sweep_interval_seconds=settings.unread_sweep_interval_seconds,
        offer_expiry_sweep_interval_seconds=settings.offer_expiry_sweep_interval_seconds,
    )
