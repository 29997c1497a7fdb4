"""The composition root: builds the store client, the bus and the handler dependencies; connects nothing."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase
from servicekit.events import EventBus

from users_service.adapters.applied_events import MongoAppliedEventLedger
from users_service.adapters.profiles import MongoProfileRepository
from users_service.service_layer.dependencies import HandlerDependencies
from users_service.settings import UsersSettings

DEFAULT_DATABASE = "users"
_random = random.SystemRandom()


@dataclass(frozen=True)
class UsersDependencies:
    """Everything `create_app`, the lifespan and the CLI use; one object on `app.state.deps`."""

    settings: UsersSettings
    mongo: AsyncMongoClient[Any]
    profiles: MongoProfileRepository
    bus: EventBus
    handlers: HandlerDependencies


def utc_now() -> datetime:
    return datetime.now(UTC)


def create_mongo_client(url: str, *, timeout_seconds: float) -> AsyncMongoClient[Any]:
    """Lazy (connects on first use); every operation is bounded by `timeout_seconds`."""
    timeout_ms = int(timeout_seconds * 1000)
    return AsyncMongoClient(
        url,
        tz_aware=True,
        connect=False,
        serverSelectionTimeoutMS=timeout_ms,
        connectTimeoutMS=timeout_ms,
        timeoutMS=timeout_ms,
    )


def database_of(client: AsyncMongoClient[Any]) -> AsyncDatabase[Any]:
    return client.get_default_database(default=DEFAULT_DATABASE)


def bootstrap(settings: UsersSettings) -> UsersDependencies:
    mongo = create_mongo_client(
        settings.mongodb_url.get_secret_value(), timeout_seconds=settings.mongodb_timeout_seconds
    )
    database = database_of(mongo)
    profiles = MongoProfileRepository(database)
    bus = EventBus(
        settings.amqp_url.get_secret_value(),
        service_name=settings.service_name,
        prefetch=settings.consumer_prefetch,
    )
    handlers = HandlerDependencies(
        profiles=profiles,
        applied_events=MongoAppliedEventLedger(database),
        clock=utc_now,
        random_unit=_random.random,
    )
    return UsersDependencies(settings=settings, mongo=mongo, profiles=profiles, bus=bus, handlers=handlers)
