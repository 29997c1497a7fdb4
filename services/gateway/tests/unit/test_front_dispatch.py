"""The front dispatch's table and stack, on the real app (create_app with the generated public API).

- every operation marked `fast_path(...)` is dispatched, and for every path of the route table (and every
  method) the dispatch picks exactly the route FastAPI's own matching picks, or leaves the request to it;
- the fast stack is the built stack's own middleware, in order, without the layers that do nothing here;
- whatever it does not know (a middleware added later) turns it off instead of skipping it.
"""

from __future__ import annotations

import logging
import re

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts
from gateway_service.entrypoints import auth_routes
from gateway_service.entrypoints.app import create_app
from gateway_service.entrypoints.fast_routes import fast_path_of
from gateway_service.entrypoints.front_dispatch import FrontDispatch, GatewayApp
from gateway_service.entrypoints.public_api import load_public_api
from gateway_service.settings import GatewaySettings
from servicekit.security import generate_ed25519_keypair
from starlette.routing import Match
from starlette.types import ASGIApp, Receive, Scope, Send

_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def _settings(**overrides: object) -> GatewaySettings:
    private_pem, public_pem = generate_ed25519_keypair()
    values: dict[str, object] = {
        "environment": "test",
        "redis_url": "redis://127.0.0.1:1/0",  # never reached: nothing here is admitted
        "internal_token_private_key": private_pem,
        "internal_token_public_key": public_pem,
        "access_token_secret": "unit-test-access-token-key-0123456789abcdef",
        "cors_origins": ["https://app.example.com"],
        "log_level": "WARNING",
    }
    values.update(overrides)
    return GatewaySettings(**values)  # type: ignore[arg-type]


def _built(app: FastAPI) -> FrontDispatch:
    assert isinstance(app, GatewayApp)
    front = app._build_front_dispatch()
    assert front is not None
    return front


def _fastapi_pick(contexts: list[RouteContext], method: str, path: str) -> RouteContext | None:
    scope = {"type": "http", "method": method, "path": path, "root_path": ""}
    for context in contexts:
        if context.matches(scope)[0] == Match.FULL:
            return context
    return None


def _sample_paths(path: str) -> list[str]:
    # Each parameter filled with a plain value and with one that looks like a sibling's fixed segment.
    plain = re.sub(r"\{[^}]+\}", "x-1", path)
    fixed_like = re.sub(r"\{[^}]+\}", "me", path)
    random_like = re.sub(r"\{[^}]+\}", "random", path)
    return [plain, fixed_like, random_like, plain + "/", plain + "/extra"]


def test_the_dispatch_picks_what_fastapi_picks_for_every_path_and_method() -> None:
    app = create_app(_settings())
    front = _built(app)
    contexts = list(iter_route_contexts(app.routes))
    paths = {sample for context in contexts if context.path for sample in _sample_paths(context.path)}
    dispatched = 0
    for path in sorted(paths):
        for method in _METHODS:
            scope = {"type": "http", "method": method, "path": path, "root_path": "", "headers": []}
            found = front.match(scope)
            fastapi = _fastapi_pick(contexts, method, path)
            if found is None:
                # Left to FastAPI: then FastAPI must not pick a marked route of the table for it.
                picked = fastapi.original_route if fastapi is not None else None
                assert picked is None or fast_path_of(getattr(picked, "endpoint", None)) is None, (
                    method,
                    path,
                )
                continue
            dispatched += 1
            assert fastapi is not None, (method, path)
            assert found[0].route is fastapi.original_route, (method, path)
            assert found[1] == fastapi.matches(scope)[1]["path_params"], (method, path)
    assert dispatched > 0


def test_every_marked_operation_is_dispatched() -> None:
    app = create_app(_settings())
    front = _built(app)
    real = load_public_api()
    handled = {
        route.operation_id
        for route in auth_routes.router.routes
        if isinstance(route, APIRoute) and route.operation_id
    }
    expected = {
        ("*" if "{" in op.public_path else op.method, op.public_path)
        for op in real.operations
        if op.operation_id not in handled
    } | {("GET", "/api/v1/gateway/auth/me")}
    assert {tuple(entry.split(" ", 1)) for entry in front.routes} == expected


def test_the_fast_stack_is_the_apps_own_middleware_in_order() -> None:
    app = create_app(_settings())
    front = _built(app)
    layers: list[str] = []
    layer: object = front.stack
    while hasattr(layer, "app"):
        layers.append(type(layer).__name__)
        layer = layer.app
    assert layers == [
        "UntrustedTraceContextMiddleware",
        "ServerErrorMiddleware",
        "UnsampledRequestBypass",  # servicekit's: a request not sampled skips OpenTelemetry's middleware
        "OpenTelemetryMiddleware",
        "ServerErrorMiddleware",
        "ExceptionHandlerMiddleware",  # OpenTelemetry's: records what escapes into the span
        "CORSMiddleware",
        "RequestSizeLimitMiddleware",
        "HttpMetricsMiddleware",
        "RequestContextMiddleware",
        "RejectNulCharactersMiddleware",
        "ExceptionMiddleware",
    ]


class _Unknown:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)


async def test_a_middleware_it_does_not_know_turns_the_dispatch_off(caplog: pytest.LogCaptureFixture) -> None:
    app = create_app(_settings())
    app.add_middleware(_Unknown)
    assert isinstance(app, GatewayApp)
    with caplog.at_level(logging.WARNING):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as client:
            answer = await client.get("/health/live")
    assert answer.status_code == 200
    assert app.front_dispatch is None
    assert any("front dispatch off" in record.getMessage() for record in caplog.records)


def test_the_setting_turns_it_off() -> None:
    app = create_app(_settings(front_dispatch=False))
    assert isinstance(app, GatewayApp)
    assert app.front_dispatch_enabled is False
    assert create_app(_settings()).front_dispatch_enabled is True  # type: ignore[attr-defined]


def test_dependency_overrides_leave_every_request_to_fastapi() -> None:
    app = create_app(_settings())
    front = _built(app)
    scope = {
        "type": "http",
        "method": "GET",
        "path": "/api/v1/gateway/auth/me",
        "root_path": "",
        "headers": [],
    }
    assert front.match(scope) is not None
    app.dependency_overrides[_settings] = _settings
    assert front.match(scope) is None
