"""``create_app``: the users service's FastAPI app (used by uvicorn as a factory and by tests)."""

from __future__ import annotations

from fastapi import FastAPI
from servicekit.health import amqp_check, mongo_check
from servicekit.http import close_on_shutdown, create_service_app, retry_in_background

from users_service import __version__
from users_service.entrypoints.bootstrap import bootstrap
from users_service.entrypoints.errors import USERS_ERRORS
from users_service.entrypoints.routes import buyers, sellers
from users_service.settings import UsersSettings


def create_app(settings: UsersSettings | None = None) -> FastAPI:
    """Build the app; settings come from the environment unless given. Nothing connects before startup."""
    settings = settings or UsersSettings()
    deps = bootstrap(settings)
    return create_service_app(
        settings,
        title="Gigstack users",
        version=__version__,
        routers=[sellers, buyers],
        # Both gate readiness: without the broker, new profiles and counters silently fall behind.
        readiness=[mongo_check(deps.mongo), amqp_check(deps.bus)],
        # Entered in order, left in reverse: the client closes after the consumer has drained.
        lifespan_hooks=[
            close_on_shutdown(deps.mongo.close),
            retry_in_background(deps.profiles.ensure_indexes, name="profile indexes"),
            deps.events.lifespan_hook,
        ],
        deps=deps,
        errors=USERS_ERRORS,
    )
