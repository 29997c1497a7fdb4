"""The composition root: ``bootstrap(settings)`` builds every real dependency of the service, once.

Nothing here connects: the engine opens connections on first use, the bus when the lifespan starts it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from servicekit.events import EventBus, EventWorkers
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

from auth_service.adapters.hashing import Argon2idPasswordHasher, Pbkdf2OtpHasher
from auth_service.adapters.token_generation import SecretsTokenGenerator
from auth_service.adapters.unit_of_work import SqlAlchemyUnitOfWork
from auth_service.service_layer.dependencies import HandlerDependencies, TokenLifetimes
from auth_service.service_layer.ports import PasswordHasher
from auth_service.settings import AuthSettings

LOCK_WAIT_TIMEOUT_SECONDS = 10
BROKER_CONNECT_TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True)
class AuthDependencies:
    engine: AsyncEngine
    # The outbox relay: auth only publishes, and its API keeps working while the broker is away.
    events: EventWorkers
    handlers: HandlerDependencies


def bootstrap(settings: AuthSettings, *, hasher: PasswordHasher | None = None) -> AuthDependencies:
    """``hasher`` lets tests trade argon2id's cost for speed; everything else comes from ``settings``."""
    engine = create_engine(settings)
    bus = EventBus(
        settings.amqp_url.get_secret_value(),
        service_name=settings.service_name,
        connect_timeout=BROKER_CONNECT_TIMEOUT_SECONDS,
    )
    events = EventWorkers(
        bus, service_name=settings.service_name, grace_seconds=settings.shutdown_grace_seconds
    ).add_sql_outbox(engine, scrub_secrets=settings.outbox_scrub_secrets)
    session_factory = async_sessionmaker(engine, expire_on_commit=False)
    if settings.hashing_cost == "fast-for-tests":
        password_hasher = Argon2idPasswordHasher.fast_for_tests()
    else:
        password_hasher = Argon2idPasswordHasher(memory_budget_kib=settings.hashing_memory_budget_mib * 1024)
    handlers = HandlerDependencies(
        uow_factory=lambda: SqlAlchemyUnitOfWork(session_factory),
        hasher=hasher or password_hasher,
        otp_hasher=Pbkdf2OtpHasher(legacy=password_hasher),
        secrets=SecretsTokenGenerator(),
        clock=utc_now,
        lifetimes=TokenLifetimes(
            otp=settings.otp_ttl,
            email_verification=settings.verification_token_ttl,
            password_reset=settings.reset_token_ttl,
        ),
    )
    return AuthDependencies(engine=engine, events=events, handlers=handlers)


def utc_now() -> datetime:
    return datetime.now(UTC)


def create_engine(settings: AuthSettings) -> AsyncEngine:
    """The MariaDB engine; it opens no connection until first used."""
    return create_async_engine(
        settings.database_url.get_secret_value(),
        pool_size=settings.database_pool_size,
        max_overflow=settings.database_pool_size,
        pool_timeout=settings.database_connect_timeout_seconds,
        # MariaDB drops idle connections after wait_timeout; check before use and recycle well before.
        pool_pre_ping=True,
        pool_recycle=1800,
        # READ COMMITTED, not InnoDB's default REPEATABLE READ: under REPEATABLE READ every locking read or
        # UPDATE/DELETE through a non-unique index (revoking an account's earlier tokens) or a missing unique
        # key (replacing an OTP challenge) also locks the gap around it. Accounts whose keys share a gap then
        # block each other's inserts into it and deadlock (measured: ~1% of concurrent forgot-password and
        # sign-up requests for distinct accounts). READ COMMITTED locks only the rows found; what must be
        # serialised per account is, by the account row lock (see AccountRepository.get_for_update).
        isolation_level="READ COMMITTED",
        connect_args={
            "connect_timeout": settings.database_connect_timeout_seconds,
            # A server that stops answering mid-query fails the query (503) instead of pinning the connection.
            "read_timeout": settings.database_read_timeout_seconds,
            # Bound row-lock waits (OTP and token rows are locked FOR UPDATE) well below the request
            # timeouts upstream; works on MariaDB and MySQL alike.
            "init_command": f"SET SESSION innodb_lock_wait_timeout = {LOCK_WAIT_TIMEOUT_SECONDS}",
        },
    )
