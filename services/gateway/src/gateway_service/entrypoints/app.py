"""``create_app()``: the gateway's FastAPI application (the public edge, so no internal-token check)."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from servicekit.health import redis_check
from servicekit.http import close_on_shutdown, create_service_app

from gateway_service.entrypoints import auth_routes, proxy_routes
from gateway_service.entrypoints.body_limit import RequestSizeLimitMiddleware
from gateway_service.entrypoints.bootstrap import bootstrap
from gateway_service.entrypoints.errors import GATEWAY_ERRORS
from gateway_service.settings import GatewaySettings

VERSION = "0.1.0"
_CORS_HEADERS = ["Authorization", "Content-Type", "X-Device-Id", "X-Correlation-ID"]


def create_app(settings: GatewaySettings | None = None) -> FastAPI:
    """Build the app; settings come from the environment when not given (uvicorn's ``--factory``)."""
    settings = settings or GatewaySettings()  # filled from the environment
    deps = bootstrap(settings)
    app = create_service_app(
        settings,
        title="Gigstack gateway",
        version=VERSION,
        # The auth router comes first so its explicit routes win over the generic proxy pattern.
        routers=[auth_routes.router, proxy_routes.router],
        readiness=[redis_check(deps.redis)],
        lifespan_hooks=[close_on_shutdown(deps.pools.aclose, deps.redis.aclose)],
        require_internal_token=False,
        deps=deps,
        errors=GATEWAY_ERRORS,
    )
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
    return app
