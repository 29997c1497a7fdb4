"""``create_app``: the users service's FastAPI app (used by uvicorn as a factory and by tests)."""

from __future__ import annotations

from fastapi import FastAPI
from servicekit.health import amqp_check, mongo_check
from servicekit.http import create_service_app

from users_service import __version__
from users_service.entrypoints.bootstrap import bootstrap
from users_service.entrypoints.errors import install_users_error_handlers
from users_service.entrypoints.lifespan import profile_consumer_hook
from users_service.entrypoints.routes import buyers, sellers
from users_service.settings import UsersSettings


def create_app(settings: UsersSettings | None = None) -> FastAPI:
    """Build the app; settings come from the environment unless given. Nothing connects before startup."""
    settings = settings or UsersSettings()
    deps = bootstrap(settings)
    app = create_service_app(
        settings,
        title="Gigstack users",
        version=__version__,
        routers=[sellers, buyers],
        # Both gate readiness: without the broker, profiles and counters silently fall behind.
        readiness=[mongo_check(deps.mongo), amqp_check(deps.bus)],
        lifespan_hooks=[profile_consumer_hook(deps)],
    )
    install_users_error_handlers(app)
    app.state.deps = deps
    return app
