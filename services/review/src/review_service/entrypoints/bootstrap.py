"""The composition root: ``bootstrap(settings)`` builds every real dependency of the service, once.

The only place adapters are chosen. Nothing here connects: the engine on first use, the bus when the
lifespan starts the event workers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from servicekit.events import EventBus, EventWorkers
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

from review_service.adapters.unit_of_work import SqlAlchemyUnitOfWork
from review_service.entrypoints.consumer import COMPLETED_ORDERS, DIRECTORY, account_handler, order_handler
from review_service.service_layer.ports import UnitOfWork
from review_service.settings import ReviewSettings

BROKER_CONNECT_TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True)
class ReviewDependencies:
    engine: AsyncEngine
    new_uow: Callable[[], UnitOfWork]
    events: EventWorkers

    @property
    def bus(self) -> EventBus:
        return self.events.bus


def create_engine(settings: ReviewSettings) -> AsyncEngine:
    """The PostgreSQL engine; it opens no connection until first used."""
    return create_async_engine(
        settings.database_url.get_secret_value(),
        pool_size=settings.database_pool_size,
        max_overflow=settings.database_pool_size,
        pool_timeout=settings.database_connect_timeout_seconds,
        pool_pre_ping=True,
        pool_recycle=1800,
        connect_args={
            "timeout": settings.database_connect_timeout_seconds,
            "command_timeout": settings.database_statement_timeout_seconds,
        },
    )


def new_uow_factory(engine: AsyncEngine) -> Callable[[], UnitOfWork]:
    session_factory = async_sessionmaker(engine, expire_on_commit=False)
    return lambda: SqlAlchemyUnitOfWork(session_factory)


def bootstrap(settings: ReviewSettings) -> ReviewDependencies:
    engine = create_engine(settings)
    new_uow = new_uow_factory(engine)
    bus = EventBus(
        settings.amqp_url.get_secret_value(),
        service_name=settings.service_name,
        prefetch=settings.consumer_prefetch,
        connect_timeout=BROKER_CONNECT_TIMEOUT_SECONDS,
    )
    events = EventWorkers(
        bus, service_name=settings.service_name, grace_seconds=settings.shutdown_grace_seconds
    )
    events.add_sql_outbox(engine)
    for declared, handler in (
        (COMPLETED_ORDERS, order_handler(new_uow)),
        (DIRECTORY, account_handler(new_uow)),
    ):
        events.add_consumer(
            queue=declared.queue,
            routing_keys=declared.routing_keys,
            handler=handler,
            delivery_limit=declared.delivery_limit,
        )
    return ReviewDependencies(engine=engine, new_uow=new_uow, events=events)
