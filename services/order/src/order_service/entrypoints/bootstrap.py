"""The composition root: ``bootstrap(settings)`` builds every real dependency of the service, once.

The only place adapters are chosen (the payment provider among them). Nothing here connects: the engine
opens connections on first use, the bus when the lifespan starts the event workers.
"""

from __future__ import annotations

import logging
import os
import signal
from dataclasses import dataclass
from datetime import UTC, datetime

from servicekit.events import EventBus, EventWorkers, subscription
from servicekit.media import ObjectStore, S3ObjectStore
from servicekit.tracing import instrument_httpx
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

from order_service.adapters.delivery_files import MediaDeliveryFiles
from order_service.adapters.local_provider import LocalPaymentProvider
from order_service.adapters.unit_of_work import SqlUnitOfWork
from order_service.entrypoints.alarms import PaymentAlarms
from order_service.entrypoints.consumer import QUEUE, event_handler
from order_service.entrypoints.scheduler import Scheduler
from order_service.service_layer.dependencies import HandlerDependencies
from order_service.service_layer.ports import PaymentProvider
from order_service.settings import OrderSettings

BROKER_CONNECT_TIMEOUT_SECONDS = 10.0

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class OrderDependencies:
    engine: AsyncEngine
    events: EventWorkers
    handlers: HandlerDependencies
    scheduler: Scheduler
    provider: PaymentProvider
    alarms: PaymentAlarms
    media: ObjectStore

    @property
    def bus(self) -> EventBus:
        return self.events.bus


def utc_now() -> datetime:
    return datetime.now(UTC)


def create_engine(settings: OrderSettings) -> AsyncEngine:
    return create_async_engine(
        settings.database_url.get_secret_value(),
        pool_size=settings.database_pool_size,
        max_overflow=settings.database_pool_size,
        pool_timeout=settings.database_connect_timeout_seconds,
        pool_pre_ping=True,
        # READ COMMITTED (PostgreSQL's default, stated): the conditional version UPDATE re-checks the row
        # after a concurrent writer commits, which is what makes exactly one of two transitions win.
        isolation_level="READ COMMITTED",
        connect_args={
            "timeout": settings.database_connect_timeout_seconds,
            "server_settings": {"statement_timeout": str(settings.database_statement_timeout_ms)},
        },
    )


def create_provider(settings: OrderSettings, engine: AsyncEngine) -> PaymentProvider:
    secret = settings.payment_webhook_secret.get_secret_value()
    if settings.payment_provider == "stripe":
        # Imported only when chosen: the SDK is ~7 MiB of an idle process's RSS (docs/benchmarks.md).
        from order_service.adapters.stripe_provider import StripePaymentProvider

        # The Stripe client calls out through httpx: a client span for each call, as before servicekit
        # stopped instrumenting httpx in every process (ADR 0024, startup second pass).
        instrument_httpx()
        assert settings.stripe_secret_key is not None  # settings validation
        return StripePaymentProvider(
            secret_key=settings.stripe_secret_key.get_secret_value(),
            webhook_secret=secret,
            api_base=settings.stripe_api_base,
            timeout_seconds=settings.payment_timeout_seconds,
        )
    # The local provider's state is its own tables in this database (durable across crashes, ADR 0020).
    return LocalPaymentProvider(secret, engine)


def _crash_now() -> None:
    """SIGKILL: no shutdown hook, no rollback message, no flush; exactly what a crashed node does."""
    logger.warning("test fault injection: SIGKILL after the provider's success")
    os.kill(os.getpid(), signal.SIGKILL)


def bootstrap(settings: OrderSettings, *, provider: PaymentProvider | None = None) -> OrderDependencies:
    """``provider`` lets tests substitute the payment provider (Stripe against stripe-mock, ...)."""
    engine = create_engine(settings)
    provider = provider or create_provider(settings, engine)
    session_factory = async_sessionmaker(engine, expire_on_commit=False)
    alarms = PaymentAlarms()
    media = S3ObjectStore(settings)
    confirmer = (
        provider if isinstance(provider, LocalPaymentProvider) and settings.dev_confirm_allowed else None
    )
    handlers = HandlerDependencies(
        new_uow=lambda: SqlUnitOfWork(session_factory, provider.name),
        provider=provider,
        delivery_files=MediaDeliveryFiles(media),
        clock=utc_now,
        payment_window=settings.payment_window,
        dev_confirmer=confirmer,
        reconcile_after=settings.reconcile_after,
        after_provider_success=_crash_now if settings.crash_after_provider_success else None,
        alarm=alarms,
    )
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
    declared = subscription(QUEUE)
    events.add_consumer(
        queue=declared.queue,
        routing_keys=declared.routing_keys,
        handler=event_handler(handlers),
        delivery_limit=declared.delivery_limit,
    )
    scheduler = Scheduler(handlers, settings.scheduler_interval_seconds)
    return OrderDependencies(
        engine=engine,
        events=events,
        handlers=handlers,
        scheduler=scheduler,
        provider=provider,
        alarms=alarms,
        media=media,
    )
