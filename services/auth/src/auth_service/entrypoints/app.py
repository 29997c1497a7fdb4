"""``create_app``: the auth service's FastAPI application (used by uvicorn as a factory and by tests)."""

from __future__ import annotations

from fastapi import FastAPI
from servicekit.health import sql_check
from servicekit.http import close_on_shutdown, create_service_app

from auth_service.entrypoints.bootstrap import bootstrap
from auth_service.entrypoints.errors import AUTH_ERRORS
from auth_service.entrypoints.routes import router
from auth_service.service_layer.ports import PasswordHasher
from auth_service.settings import AuthSettings

VERSION = "0.1.0"


def create_app(settings: AuthSettings | None = None, *, hasher: PasswordHasher | None = None) -> FastAPI:
    """Build the app; settings come from the environment unless given. Nothing connects before startup."""
    settings = settings or AuthSettings()
    deps = bootstrap(settings, hasher=hasher)
    return create_service_app(
        settings,
        title="Gigstack auth",
        version=VERSION,
        routers=[router],
        # Only the database gates readiness: with the outbox, the API works while the broker is away.
        readiness=[sql_check(deps.engine)],
        # Exited in reverse: the relay stops (and the bus closes) before the engine is disposed.
        lifespan_hooks=[close_on_shutdown(deps.engine.dispose), deps.events.lifespan_hook],
        deps=deps,
        errors=AUTH_ERRORS,
    )
