"""``create_app``: the gig service's FastAPI app around its one dependencies object."""

from __future__ import annotations

from fastapi import FastAPI
from servicekit.health import amqp_check, mongo_check
from servicekit.http import close_on_shutdown, create_service_app, retry_in_background

from gig_service.entrypoints import routes_media, routes_read, routes_write
from gig_service.entrypoints.bootstrap import bootstrap
from gig_service.entrypoints.errors import GIG_ERRORS
from gig_service.settings import GigSettings

VERSION = "0.1.0"


def create_app(settings: GigSettings | None = None) -> FastAPI:
    """Build the app; settings come from the environment unless given. Nothing connects before startup."""
    settings = settings or GigSettings()
    deps = bootstrap(settings)
    return create_service_app(
        settings,
        title="Gigstack gig",
        version=VERSION,
        routers=[routes_read.router, routes_write.router, routes_media.router],
        readiness=[mongo_check(deps.mongo), amqp_check(deps.bus)],
        # Exited in reverse: the event workers stop before the clients close.
        lifespan_hooks=[
            close_on_shutdown(deps.mongo.close),
            close_on_shutdown(deps.search.close),
            close_on_shutdown(deps.media.close),
            deps.events.lifespan_hook,
            # The first gig of a new deployment then waits only for a refresh to be searchable, not for
            # the index's creation and shard allocation too; readiness does not wait for it.
            retry_in_background(deps.search.ensure, name="search index"),
            retry_in_background(deps.ensure_indexes, name="gig indexes"),
        ],
        deps=deps,
        errors=GIG_ERRORS,
    )
