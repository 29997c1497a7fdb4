"""The composition root: ``bootstrap(settings)`` builds every real dependency of the service, once.

The only place adapters are chosen. Nothing here connects: MongoDB, OpenSearch and the object store on first
use, the bus when
the lifespan starts the event workers (the outbox relay, the registry-bound consumer and the search
projection, which consumes the service's own gig events).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from pymongo import AsyncMongoClient
from servicekit.events import EventBus, EventWorkers
from servicekit.locks import KeyedLocks
from servicekit.media import ObjectStore, S3ObjectStore
from servicekit.mongo import create_mongo_client
from servicekit.search import create_search_client

from gig_service.adapters.cover_images import StoredCoverImages
from gig_service.adapters.repository import GIGS_COLLECTION, ensure_gig_indexes
from gig_service.adapters.search_index import GigSearchIndex
from gig_service.adapters.search_port import GigSearch
from gig_service.adapters.unit_of_work import GigUnitOfWork
from gig_service.entrypoints.marketplace_consumers import (
    REVIEWS_SUBSCRIPTION,
    SELLERS_SUBSCRIPTION,
    review_handler,
    seller_handler,
)
from gig_service.entrypoints.projection import (
    PROJECTION_SUBSCRIPTION,
    projection_handler,
)
from gig_service.settings import GigSettings

if TYPE_CHECKING:
    from gig_service.adapters.search_elasticsearch import ElasticsearchGigIndex


@dataclass(frozen=True)
class GigDependencies:
    mongo: AsyncMongoClient[Any]
    search_client: Any  # the engine's own client (AsyncOpenSearch or AsyncElasticsearch): tools and tests
    search: GigSearch
    new_uow: Callable[[], GigUnitOfWork]
    events: EventWorkers
    media: ObjectStore
    covers: StoredCoverImages
    upload_expiry_seconds: int
    ensure_indexes: Callable[[], Awaitable[None]]

    @property
    def bus(self) -> EventBus:
        return self.events.bus


def _search_adapter(settings: GigSettings) -> GigSearchIndex | ElasticsearchGigIndex:
    url, timeout = settings.search_url.get_secret_value(), settings.search_timeout_seconds
    if settings.search_engine == "elasticsearch":
        # Imported only when chosen: the Elasticsearch client costs every other deployment ~13 MiB at import
        # (gig's budget is 120 MiB, docs/benchmarks.md).
        from gig_service.adapters.search_elasticsearch import (
            ElasticsearchGigIndex,
            create_elasticsearch_client,
        )

        return ElasticsearchGigIndex(
            create_elasticsearch_client(url, timeout_seconds=timeout), settings.search_index_alias
        )
    return GigSearchIndex(create_search_client(url, timeout_seconds=timeout), settings.search_index_alias)


def bootstrap(settings: GigSettings) -> GigDependencies:
    mongo = create_mongo_client(
        settings.mongodb_url.get_secret_value(), timeout_seconds=settings.mongodb_timeout_seconds
    )
    database = mongo.get_default_database()
    search = _search_adapter(settings)
    search_client = search.client
    bus = EventBus(
        settings.amqp_url.get_secret_value(),
        service_name=settings.service_name,
        prefetch=settings.consumer_prefetch,
    )
    events = EventWorkers(bus, service_name=settings.service_name)
    # With write claims on, the relay takes the gig writers' claims before it removes published entries.
    events.add_mongo_outbox(
        [database[GIGS_COLLECTION]],
        full_scan_interval_seconds=settings.outbox_full_scan_interval_seconds,
        write_claims=settings.mongo_write_claims,
    )
    events.add_consumer(
        queue=PROJECTION_SUBSCRIPTION.queue,
        routing_keys=PROJECTION_SUBSCRIPTION.routing_keys,
        handler=projection_handler(search),
        delivery_limit=PROJECTION_SUBSCRIPTION.delivery_limit,
    )
    claims = settings.mongo_write_claims
    media = S3ObjectStore(settings)

    def new_uow() -> GigUnitOfWork:
        return GigUnitOfWork(database, write_claims=claims)

    # One gig is written by one of this process's consumer deliveries at a time (service_layer.denormalised).
    gig_writes = KeyedLocks()
    for declared, handler in (
        (SELLERS_SUBSCRIPTION, seller_handler(new_uow, gig_writes)),
        (REVIEWS_SUBSCRIPTION, review_handler(new_uow, gig_writes)),
    ):
        events.add_consumer(
            queue=declared.queue,
            routing_keys=declared.routing_keys,
            handler=handler,
            delivery_limit=declared.delivery_limit,
        )
    return GigDependencies(
        mongo=mongo,
        search_client=search_client,
        search=search,
        new_uow=new_uow,
        events=events,
        media=media,
        covers=StoredCoverImages(media),
        upload_expiry_seconds=settings.object_store_upload_expiry_seconds,
        ensure_indexes=partial(ensure_gig_indexes, database[GIGS_COLLECTION]),
    )
