"""``create_app``: the order service's FastAPI app around its one dependencies object."""

from __future__ import annotations

from fastapi import FastAPI
from servicekit.health import sql_check
from servicekit.http import close_on_shutdown, create_service_app
from servicekit.metrics import get_app_registry

from order_service.entrypoints.bootstrap import bootstrap
from order_service.entrypoints.errors import ORDER_ERRORS
from order_service.entrypoints.routes import payments_router, router
from order_service.service_layer.ports import PaymentProvider
from order_service.settings import OrderSettings

VERSION = "0.1.0"


def create_app(settings: OrderSettings | None = None, *, provider: PaymentProvider | None = None) -> FastAPI:
    """Build the app; settings come from the environment unless given. Nothing connects before startup."""
    settings = settings or OrderSettings()
    deps = bootstrap(settings, provider=provider)
    app = create_service_app(
        settings,
        title="Gigstack order",
        version=VERSION,
        routers=[router, payments_router],
        # Only the database gates readiness: with the outbox, the API works while the broker is away.
        readiness=[sql_check(deps.engine)],
        # Exited in reverse: the scheduler and event workers stop before the engine is disposed.
        lifespan_hooks=[
            close_on_shutdown(deps.engine.dispose),
            close_on_shutdown(deps.media.close),
            deps.events.lifespan_hook,
            deps.scheduler.lifespan_hook,
        ],
        deps=deps,
        errors=ORDER_ERRORS,
    )
    deps.alarms.bind(get_app_registry(app))
    return app
