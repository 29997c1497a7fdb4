"""`create_service_app`: one FastAPI app with every cross-cutting concern a Gigstack service needs.

A service passes its routers, readiness checks and lifespan hooks; this module wires logging, the correlation
id, RED metrics on a registry of the app's own, tracing, the error shape, the probes, `/metrics` and the
internal-token check, so none of that is repeated (or forgotten) per service.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager

from fastapi import APIRouter, Depends, FastAPI, Request, Response
from starlette.middleware import Middleware

from servicekit.error_table import ErrorTable
from servicekit.errors import install_error_handlers
from servicekit.health import ReadinessCheck, ServiceLifecycle, health_router
from servicekit.http.middleware import HttpMetricsMiddleware, RequestContextMiddleware
from servicekit.http.nul_guard import RejectNulCharactersMiddleware
from servicekit.logging import configure_logging
from servicekit.metrics import CONTENT_TYPE_LATEST, HttpMetrics, create_registry, render_metrics
from servicekit.security.dependencies import verify_internal_token
from servicekit.security.tokens import InternalTokenVerifier
from servicekit.settings import ServiceSettings
from servicekit.tracing import configure_tracing, flush_traces, instrument_app

__all__ = ["LifespanHook", "create_service_app"]

logger = logging.getLogger(__name__)

LifespanHook = Callable[[FastAPI], AbstractAsyncContextManager[None]]
"""Entered in order at startup, exited in reverse at shutdown (connect stores, start consumers, drain)."""


def create_service_app(
    settings: ServiceSettings,
    *,
    title: str,
    version: str,
    routers: Sequence[APIRouter],
    readiness: Sequence[ReadinessCheck] = (),
    lifespan_hooks: Sequence[LifespanHook] = (),
    require_internal_token: bool = True,
    middleware: Sequence[Middleware] = (),
    deps: object = None,
    errors: ErrorTable | None = None,
    public_edge: bool = False,
    app_class: type[FastAPI] = FastAPI,
) -> FastAPI:
    """Build the service's app; nothing connects until the lifespan starts.

    `middleware` (outermost first) runs inside the correlation-id/metrics middleware, so responses it makes
    itself (a 413, a CORS preflight) still carry the correlation id and are counted; middleware added later
    with `app.add_middleware` runs outside them.

    `deps` is the service's dependencies object from its `entrypoints/bootstrap.py`, kept as `app.state.deps`
    and read by routes through `servicekit.http.app_deps`; `errors` is its error table (`ErrorTable`).

    `public_edge` is for the one app clients reach directly: it starts a trace of its own for every request
    instead of continuing the client's (`servicekit.tracing`).

    `app_class` is the FastAPI subclass to build (the gateway's serves some requests before FastAPI routes).

    `app.state` carries `settings`, `deps`, `lifecycle` (shutdown flag), `metrics_registry` and, when the
    internal token is required, `internal_token_verifier`.
    """
    configure_logging(settings.service_name, settings.log_level)
    configure_tracing(settings)

    lifecycle = ServiceLifecycle()
    registry = create_registry()
    http_metrics = HttpMetrics(registry, service=settings.service_name)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            async with AsyncExitStack() as hooks:
                for hook in lifespan_hooks:
                    await hooks.enter_async_context(hook(app))
                logger.info(
                    "service started", extra={"version": version, "environment": settings.environment}
                )
                try:
                    yield
                finally:
                    # Probes turn 503 before hooks drain consumers and close stores.
                    lifecycle.begin_shutdown()
                    logger.info("service shutting down")
        finally:
            # The exporter's flush blocks on network I/O; keep it off the event loop.
            await asyncio.to_thread(flush_traces)

    app = app_class(
        title=title,
        version=version,
        lifespan=lifespan,
        # Listed outermost first. Metrics sit outside the request context so they also count the 500s it
        # produces for unexpected errors; tracing wraps everything (see servicekit.tracing.instrument_app).
        middleware=[
            Middleware(HttpMetricsMiddleware, metrics=http_metrics),
            Middleware(RequestContextMiddleware),
            *middleware,
            # Innermost: it reads a body whole, so a service's own limits (the gateway's 413) run before it.
            Middleware(RejectNulCharactersMiddleware),
        ],
    )
    app.state.settings = settings
    app.state.lifecycle = lifecycle
    app.state.metrics_registry = registry
    app.state.deps = deps

    install_error_handlers(app)
    if errors is not None:
        errors.install(app)
    app.include_router(health_router(lifecycle, readiness))

    async def metrics_endpoint(_: Request) -> Response:
        return Response(render_metrics(registry), media_type=CONTENT_TYPE_LATEST)

    app.add_route("/metrics", metrics_endpoint, methods=["GET"], include_in_schema=False)

    # The token check is attached to the service's routers, not to the app: probes, /metrics and the docs
    # must answer without one.
    route_dependencies = []
    if require_internal_token:
        app.state.internal_token_verifier = InternalTokenVerifier(
            settings.internal_token_public_key.get_secret_value(), audience=settings.service_name
        )
        route_dependencies.append(Depends(verify_internal_token))
    for router in routers:
        app.include_router(router, dependencies=route_dependencies)

    instrument_app(app, public_edge=public_edge)
    return app
