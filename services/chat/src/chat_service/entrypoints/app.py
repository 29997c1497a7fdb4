"""``create_app``: the chat service's FastAPI app around its one dependencies object."""

from __future__ import annotations

from fastapi import FastAPI
from servicekit.health import amqp_check, mongo_check
from servicekit.http import close_on_shutdown, create_service_app

from chat_service.entrypoints.bootstrap import bootstrap
from chat_service.entrypoints.errors import CHAT_ERRORS
from chat_service.entrypoints.lifespan import background_hook
from chat_service.entrypoints.routes import router
from chat_service.settings import ChatSettings

VERSION = "0.1.0"


def create_app(settings: ChatSettings | None = None) -> FastAPI:
    """Build the app; settings come from the environment unless given. Nothing connects before startup."""
    settings = settings or ChatSettings()
    deps = bootstrap(settings)
    return create_service_app(
        settings,
        title="Gigstack chat",
        version=VERSION,
        routers=[router],
        readiness=[mongo_check(deps.mongo), amqp_check(deps.bus)],
        # Exited in reverse: the sweep and the event workers stop before the MongoDB client closes.
        lifespan_hooks=[
            close_on_shutdown(deps.mongo.close, deps.media.close),
            deps.events.lifespan_hook,
            background_hook(deps),
        ],
        deps=deps,
        errors=CHAT_ERRORS,
    )
