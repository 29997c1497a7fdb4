"""``create_app``: the review service's FastAPI app around its one dependencies object."""

from __future__ import annotations

from fastapi import FastAPI
from servicekit.health import sql_check
from servicekit.http import close_on_shutdown, create_service_app

from review_service.entrypoints.bootstrap import bootstrap
from review_service.entrypoints.errors import REVIEW_ERRORS
from review_service.entrypoints.routes import router
from review_service.settings import ReviewSettings

VERSION = "0.1.0"


def create_app(settings: ReviewSettings | None = None) -> FastAPI:
    """Build the app; settings come from the environment unless given. Nothing connects before startup."""
    settings = settings or ReviewSettings()
    deps = bootstrap(settings)
    return create_service_app(
        settings,
        title="Gigstack review",
        version=VERSION,
        routers=[router],
        # Only the database gates readiness: with the outbox, reviews are written while the broker is away.
        readiness=[sql_check(deps.engine)],
        # Exited in reverse: the event workers stop before the engine is disposed.
        lifespan_hooks=[close_on_shutdown(deps.engine.dispose), deps.events.lifespan_hook],
        deps=deps,
        errors=REVIEW_ERRORS,
    )
