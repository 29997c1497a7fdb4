"""``create_app()``: the gateway's FastAPI application (the public edge, so no internal-token check)."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from servicekit.health import redis_check
from servicekit.http import close_on_shutdown, create_service_app

from gateway_service.entrypoints import auth_routes
from gateway_service.entrypoints.body_limit import RequestSizeLimitMiddleware
from gateway_service.entrypoints.bootstrap import bootstrap
from gateway_service.entrypoints.errors import GATEWAY_ERRORS
from gateway_service.entrypoints.front_dispatch import GatewayApp
from gateway_service.entrypoints.proxy_routes import passthrough_router
from gateway_service.entrypoints.public_api import PublicApi, install_public_openapi, load_public_api
from gateway_service.entrypoints.realtime import SocketIOMount, heartbeat_hook
from gateway_service.settings import GatewaySettings

VERSION = "0.1.0"
_CORS_HEADERS = ["Authorization", "Content-Type", "X-Device-Id", "X-Correlation-ID"]


def create_app(settings: GatewaySettings | None = None, public_api: PublicApi | None = None) -> FastAPI:
    """Build the app; settings come from the environment when not given (uvicorn's ``--factory``).

    ``public_api`` defaults to the generated table in the package; tests pass their own.
    """
    settings = settings or GatewaySettings()  # filled from the environment
    deps = bootstrap(settings)
    public_api = public_api or load_public_api()
    # Operations with a handler of their own (sessions start and end there); the rest are passed through.
    handled_by_the_gateway = {
        operation_id for route in auth_routes.router.routes if (operation_id := _operation_id(route))
    }
    app = create_service_app(
        settings,
        title="Gigstack gateway",
        version=VERSION,
        routers=[auth_routes.router, passthrough_router(public_api, handled_by_the_gateway)],
        readiness=[redis_check(deps.redis)],
        lifespan_hooks=[
            close_on_shutdown(deps.links.aclose, deps.rate_limiter.aclose, deps.redis.aclose),
            *([deps.events.lifespan_hook] if deps.events is not None else []),
            heartbeat_hook(deps.realtime),
        ],
        require_internal_token=False,
        deps=deps,
        errors=GATEWAY_ERRORS,
        # Clients' trace headers are not trusted: every request starts a trace of the gateway's own.
        public_edge=True,
        app_class=GatewayApp,
    )
    assert isinstance(app, GatewayApp)
    # The proxied operations are answered before FastAPI's routing, through the same middleware
    # (entrypoints/front_dispatch.py, ADR 0024 amendment "gwasgi"); off, FastAPI answers them as before.
    app.front_dispatch_enabled = settings.front_dispatch
    install_public_openapi(app, public_api)
    # Middleware added last runs first: CORS answers preflights (and decorates 413s) before the size check.
    app.add_middleware(RequestSizeLimitMiddleware, max_bytes=settings.max_request_bytes)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_credentials=True,
        allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
        allow_headers=_CORS_HEADERS,
        expose_headers=["X-Correlation-ID", "Retry-After"],
        max_age=600,
    )
    # Added last, so it runs first: Socket.IO's path never reaches the HTTP middleware and routes.
    app.add_middleware(SocketIOMount, realtime=deps.realtime)
    return app


def _operation_id(route: object) -> str | None:
    operation_id = getattr(route, "operation_id", None)
    return operation_id if isinstance(operation_id, str) else None
