"""The composition root: ``bootstrap(settings)`` builds every real dependency of the service, once.

Nothing here connects: the Mongo client connects on first use, the bus when the event workers start it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase
from servicekit.events import EventBus, EventWorkers
from servicekit.mongo import create_mongo_client

from users_service.adapters.applied_events import MongoAppliedEventLedger
from users_service.adapters.profiles import PROFILES, MongoProfileReader, MongoProfileUnitOfWork
from users_service.entrypoints.consumer import PROFILES_SUBSCRIPTION, profile_event_handler
from users_service.service_layer.dependencies import HandlerDependencies
from users_service.settings import UsersSettings

DEFAULT_DATABASE = "users"
_random = random.SystemRandom()


@dataclass(frozen=True)
class UsersDependencies:
    """Everything the app, its lifespan and the CLI use; kept as `app.state.deps`."""

    mongo: AsyncMongoClient[Any]
    profiles: MongoProfileReader
    events: EventWorkers
    handlers: HandlerDependencies

    @property
    def bus(self) -> EventBus:
        return self.events.bus


def utc_now() -> datetime:
    return datetime.now(UTC)


def database_of(client: AsyncMongoClient[Any]) -> AsyncDatabase[Any]:
    """The database named in MONGODB_URL's path (`users` when it names none)."""
    return client.get_default_database(default=DEFAULT_DATABASE)


def write_claim_lease(store_timeout_seconds: float) -> float:
    """A write claim must outlive the longest write it guards (one operation: at most the store timeout)."""
    return store_timeout_seconds + 1


def handler_dependencies(
    database: AsyncDatabase[Any], *, store_timeout_seconds: float, write_claims: bool = True
) -> HandlerDependencies:
    # Writers wait out a claim left by a crashed writer, so their budget must outlive the lease.
    claim_lease = write_claim_lease(store_timeout_seconds)
    return HandlerDependencies(
        profiles=MongoProfileReader(database),
        uow_factory=lambda: MongoProfileUnitOfWork(
            database, claim_lease_seconds=claim_lease, write_claims=write_claims
        ),
        applied_events=MongoAppliedEventLedger(database),
        clock=utc_now,
        random_unit=_random.random,
        write_budget_seconds=claim_lease + 2,
    )


def bootstrap(settings: UsersSettings) -> UsersDependencies:
    mongo = create_mongo_client(
        settings.mongodb_url.get_secret_value(), timeout_seconds=settings.mongodb_timeout_seconds
    )
    database = database_of(mongo)
    handlers = handler_dependencies(
        database,
        store_timeout_seconds=settings.mongodb_timeout_seconds,
        write_claims=settings.mongo_write_claims,
    )
    bus = EventBus(
        settings.amqp_url.get_secret_value(),
        service_name=settings.service_name,
        prefetch=settings.consumer_prefetch,
    )
    events = EventWorkers(
        bus, service_name=settings.service_name, grace_seconds=max(1.0, settings.shutdown_grace_seconds - 2)
    )
    # users.seller.* events are staged in the profile documents' outboxes (adapters/profiles.py). With write
    # claims on, the relay takes the profile writers' claims (same lease) before it removes published entries.
    events.add_mongo_outbox(
        [database[PROFILES]],
        full_scan_interval_seconds=settings.outbox_full_scan_interval_seconds,
        write_claims=settings.mongo_write_claims,
        claim_lease_seconds=write_claim_lease(settings.mongodb_timeout_seconds),
    )
    events.add_consumer(
        queue=PROFILES_SUBSCRIPTION.queue,
        routing_keys=PROFILES_SUBSCRIPTION.routing_keys,
        delivery_limit=PROFILES_SUBSCRIPTION.delivery_limit,
        prefetch=settings.consumer_prefetch,
        handler=profile_event_handler(handlers),
    )
    return UsersDependencies(
        mongo=mongo, profiles=MongoProfileReader(database), events=events, handlers=handlers
    )
