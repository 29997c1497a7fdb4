"""Routes registered flat answer exactly as the included routers did (entrypoints/flat_routes.py).

The same requests go to an app with the gateway's routers included as FastAPI includes them and to the same
app flattened; status, body, headers, the call that reached the service, the route label the metrics and the
request log use, the span name OpenTelemetry derives and the OpenAPI document must be identical.
"""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
from fastapi import Depends, FastAPI, Request, WebSocket
from fastapi.routing import APIRoute, APIRouter, _IncludedRouter
from gateway_service.domain.rate_limits import RateLimitPolicy
from gateway_service.entrypoints import auth_routes
from gateway_service.entrypoints.dependencies import enforce_ip_budget
from gateway_service.entrypoints.errors import GATEWAY_ERRORS
from gateway_service.entrypoints.fast_routes import FastProxyRoute
from gateway_service.entrypoints.flat_routes import flatten_included_routers
from gateway_service.entrypoints.proxy_routes import passthrough_router
from gateway_service.entrypoints.public_api import PublicApi
from gateway_service.service_layer.sessions import SessionService
from gateway_service.service_layer.throttling import RequestThrottle
from opentelemetry.instrumentation.fastapi import _get_route_details
from servicekit.errors import ServiceUnavailable, install_error_handlers
from servicekit.health import ServiceLifecycle, health_router
from servicekit.http.middleware import route_template
from starlette.types import ASGIApp, Receive, Scope, Send

from .conftest import InMemoryRateLimiter
from .test_fast_routes import RecordingDownstream

sys.path.insert(0, str(Path(__file__).resolve().parent))

from gateway_public_operations import users_operation

API = PublicApi(
    operations=(
        users_operation("sellers.me", "GET", "/api/v1/gateway/sellers/me", "required"),
        users_operation("sellers.byId", "GET", "/api/v1/gateway/sellers/{seller_id}", "optional"),
        users_operation("sellers.update", "PUT", "/api/v1/gateway/sellers/{seller_id}", "required"),
        users_operation("sellers.search", "GET", "/api/v1/gateway/sellers", "none"),
    ),
    schemas={},
)


async def include_level_dependency(request: Request) -> None:
    """Stands in for what an app adds when it includes a router (servicekit's internal-token check)."""
    request.state.included_dependency_ran = True


class RecordLabels:
    """Keeps, per request, what servicekit's metrics/request log and the server span read from the scope."""

    def __init__(self, app: ASGIApp, labels: list[tuple[str, str | None]]) -> None:
        self.app = app
        self.labels = labels

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        span_route = _get_route_details(scope)  # the instrumentation asks before the app runs
        try:
            await self.app(scope, receive, send)
        finally:
            self.labels.append((route_template(scope), span_route))


def _app(
    session_service: SessionService, *, flat: bool
) -> tuple[FastAPI, RecordingDownstream, list[tuple[str, str | None]]]:
    app = FastAPI(title="gw", version="1")
    install_error_handlers(app)
    GATEWAY_ERRORS.install(app)
    app.include_router(health_router(ServiceLifecycle(), ()))
    for router in (auth_routes.router, passthrough_router(API, handled_elsewhere=())):
        app.include_router(router, dependencies=[Depends(include_level_dependency)])
    downstream = RecordingDownstream()
    app.state.deps = SimpleNamespace(
        sessions=session_service,
        throttle=RequestThrottle(
            InMemoryRateLimiter(),
            RateLimitPolicy.build(
                per_ip_per_minute=40,
                per_account_per_minute=12,
                signin_failures_before_lock=3,
                signin_failure_window_seconds=600,
            ),
        ),
        downstream=downstream,
    )
    labels: list[tuple[str, str | None]] = []
    app.add_middleware(RecordLabels, labels=labels)
    if flat:
        flatten_included_routers(app)
    return app, downstream, labels


def _comparable(response: httpx.Response) -> tuple[int, bytes, dict[str, str]]:
    return response.status_code, response.content, dict(response.headers.items())


async def test_flat_routes_answer_route_and_label_as_the_included_routers(
    session_service: SessionService,
) -> None:
    alice = await session_service.start(user_id="u-alice", device_id="laptop", email_verified=True)
    token = {"Authorization": f"Bearer {alice.access_token}"}
    requests: list[tuple[str, str, dict[str, str]]] = [
        ("GET", "/api/v1/gateway/auth/me", token),
        ("GET", "/api/v1/gateway/auth/me", {}),  # 401
        ("GET", "/api/v1/gateway/sellers/me", token),  # the fixed path, not the template after it
        ("GET", "/api/v1/gateway/sellers/s-1", token),
        ("PUT", "/api/v1/gateway/sellers/s-1", {**token, "Content-Type": "application/json"}),
        ("DELETE", "/api/v1/gateway/sellers/s-1", token),  # 405 from the partial match
        ("POST", "/api/v1/gateway/auth/me", token),  # 405 in the first router
        ("GET", "/api/v1/gateway/sellers", {}),
        ("GET", "/api/v1/gateway/sellers/", {}),  # redirect_slashes
        ("GET", "/api/v1/gateway/nothing-here", {}),  # 404
        ("POST", "/api/v1/gateway/auth/signin", {"Content-Type": "application/json"}),  # body 422
        ("GET", "/health/live", {}),
    ]
    answers: dict[bool, list[Any]] = {}
    calls: dict[bool, list[Any]] = {}
    labels: dict[bool, list[tuple[str, str | None]]] = {}
    for flat in (False, True):
        app, downstream, labels[flat] = _app(session_service, flat=flat)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as client:
            answers[flat] = [
                _comparable(await client.request(method, path, headers=headers, content=b"{}"))
                for method, path, headers in requests
            ]
        calls[flat] = downstream.calls
        if flat:
            assert not any(isinstance(route, _IncludedRouter) for route in app.router.routes)
    assert answers[True] == answers[False]
    assert calls[True] == calls[False]
    assert labels[True] == labels[False]
    statuses = [status for status, _, _ in answers[True]]
    assert statuses == [200, 401, 200, 200, 200, 405, 405, 200, 307, 404, 422, 200]
    assert labels[True][2] == ("/api/v1/gateway/sellers/me", "/api/v1/gateway/sellers/me")
    assert labels[True][3][0] == "/api/v1/gateway/sellers/{seller_id}"


async def test_flat_routes_keep_the_routers_classes_dependencies_and_openapi(
    session_service: SessionService,
) -> None:
    included, _, _ = _app(session_service, flat=False)
    flat, _, _ = _app(session_service, flat=True)
    assert flat.openapi() == included.openapi()
    me = next(r for r in flat.router.routes if isinstance(r, APIRoute) and r.operation_id == "auth.me")
    assert type(me) is FastProxyRoute
    calls = [dependency.dependency for dependency in me.dependencies]
    # The inclusion's dependency first, then the router's own, as FastAPI orders them.
    assert calls == [include_level_dependency, enforce_ip_budget]
    assert me.dependency_overrides_provider is flat


async def test_dependency_overrides_still_reach_flat_routes(session_service: SessionService) -> None:
    app, downstream, _ = _app(session_service, flat=True)

    async def closed() -> None:
        raise ServiceUnavailable("closed for the test")

    app.dependency_overrides[include_level_dependency] = closed
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as client:
        answer = await client.get("/api/v1/gateway/sellers")
    assert answer.status_code == 503
    assert downstream.calls == []


def test_a_router_flat_routes_cannot_copy_stays_included() -> None:
    app = FastAPI()
    sockets = APIRouter()

    @sockets.websocket("/ws")
    async def ws(websocket: WebSocket) -> None:  # pragma: no cover - never connected
        await websocket.close()

    outer = APIRouter()
    outer.include_router(APIRouter())  # nested include
    app.include_router(sockets)
    app.include_router(outer)
    flatten_included_routers(app)
    assert sum(isinstance(route, _IncludedRouter) for route in app.router.routes) == 2
