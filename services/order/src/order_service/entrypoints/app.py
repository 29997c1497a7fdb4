"""``create_app``: the order service's FastAPI app around its one dependencies object."""

from __future__ import annotations

from fastapi import FastAPI
from servicekit.health import amqp_check, mongo_check
from servicekit.http import close_on_shutdown, create_service_app

from order_service.entrypoints.bootstrap import bootstrap
from order_service.entrypoints.errors import ORDER_ERRORS
from order_service.entrypoints.routes import router
from order_service.settings import OrderSettings

VERSION = "0.1.0"


def create_app(settings: OrderSettings | None = None) -> FastAPI:
    """Build the app; settings come from the environment unless given. Nothing connects before startup."""
    settings = settings or OrderSettings()
    deps = bootstrap(settings)
    return create_service_app(
        settings,
        title="Gigstack order",
        version=VERSION,
        routers=[router],
        readiness=[mongo_check(deps.mongo), amqp_check(deps.bus)],
        # Exited in reverse: the event workers stop before the MongoDB client closes.
        lifespan_hooks=[close_on_shutdown(deps.mongo.close), deps.events.lifespan_hook],
        deps=deps,
        errors=ORDER_ERRORS,
    )
