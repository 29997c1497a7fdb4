"""``create_app``: the auth service's FastAPI application (used by uvicorn as a factory and by tests)."""

from __future__ import annotations

from fastapi import FastAPI
from servicekit.events import EventBus
from servicekit.health import sql_check
from servicekit.http import create_service_app

from auth_service.entrypoints.bootstrap import build_handler_dependencies, create_engine
from auth_service.entrypoints.errors import install_auth_error_handler
from auth_service.entrypoints.lifespan import database_hook, outbox_relay_hook
from auth_service.entrypoints.routes import router
from auth_service.service_layer.ports import PasswordHasher
from auth_service.settings import AuthSettings

VERSION = "0.1.0"
BROKER_CONNECT_TIMEOUT_SECONDS = 10.0


def create_app(settings: AuthSettings | None = None, *, hasher: PasswordHasher | None = None) -> FastAPI:
    """Build the app; settings come from the environment unless given. Nothing connects before startup."""
    settings = settings or AuthSettings()
    engine = create_engine(settings)
    bus = EventBus(
        settings.amqp_url.get_secret_value(),
        service_name=settings.service_name,
        connect_timeout=BROKER_CONNECT_TIMEOUT_SECONDS,
    )
    app = create_service_app(
        settings,
        title="Gigstack auth",
        version=VERSION,
        routers=[router],
        # Only the database gates readiness: with the outbox, the API works while the broker is away.
        readiness=[sql_check(engine)],
        lifespan_hooks=[
            database_hook(engine),
            outbox_relay_hook(
                engine,
                bus,
                service_name=settings.service_name,
                connect_timeout_seconds=BROKER_CONNECT_TIMEOUT_SECONDS,
                stop_timeout_seconds=min(10.0, settings.shutdown_grace_seconds),
            ),
        ],
    )
    install_auth_error_handler(app)
    app.state.engine = engine
    app.state.event_bus = bus
    app.state.handler_dependencies = build_handler_dependencies(settings, engine, hasher=hasher)
    return app
