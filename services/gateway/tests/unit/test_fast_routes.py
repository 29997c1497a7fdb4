"""The fast path of proxied operations: the same answers as FastAPI's dependency solving, without it.

Each request is sent twice, to an app whose proxied routes take the fast path and to the same app forced
onto FastAPI's own handlers (a dependency override makes `FastProxyRoute` defer), with the same fakes of the
gateway's ports behind both; status, body, headers and what reached the service must be identical.
"""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import fastapi.dependencies.utils
import httpx
import pytest
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from gateway_service.adapters.downstream import DownstreamResponse
from gateway_service.domain.rate_limits import RateLimitPolicy
from gateway_service.entrypoints import auth_routes
from gateway_service.entrypoints.dependencies import current_session, optional_session
from gateway_service.entrypoints.errors import GATEWAY_ERRORS
from gateway_service.entrypoints.fast_routes import FastProxyRoute, fast_path_of
from gateway_service.entrypoints.proxy_routes import passthrough_router
from gateway_service.entrypoints.public_api import PublicApi, load_public_api
from gateway_service.service_layer.sessions import SessionService
from gateway_service.service_layer.throttling import RequestThrottle
from servicekit.errors import install_error_handlers

from .conftest import InMemoryRateLimiter

# importlib import mode does not put this folder on sys.path; the helper sits beside the tests.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from gateway_public_operations import users_operation


class RecordingDownstream:
    """Records every call the gateway makes to a service and answers it like a service would."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    async def request(self, service: str, method: str, path: str, **kwargs: Any) -> DownstreamResponse:
        self.calls.append({"service": service, "method": method, "path": path, **kwargs})
        return DownstreamResponse(
            status_code=200,
            content=b'{"ok":true}',
            headers={"content-type": "application/json", "etag": '"v1"'},
        )


API = PublicApi(
    operations=(
        users_operation("sellers.me", "GET", "/api/v1/gateway/sellers/me", "required"),
        users_operation("sellers.byId", "GET", "/api/v1/gateway/sellers/{seller_id}", "optional"),
        users_operation("sellers.update", "PUT", "/api/v1/gateway/sellers/{seller_id}", "required"),
        users_operation("sellers.search", "GET", "/api/v1/gateway/sellers", "none"),
    ),
    schemas={},
)


def _app(session_service: SessionService, *, fast: bool) -> tuple[FastAPI, RecordingDownstream]:
    app = FastAPI()
    install_error_handlers(app)
    GATEWAY_ERRORS.install(app)
    app.include_router(auth_routes.router)
    app.include_router(passthrough_router(API, handled_elsewhere=()))
    policy = RateLimitPolicy.build(
        per_ip_per_minute=40,
        per_account_per_minute=12,
        signin_failures_before_lock=3,
        signin_failure_window_seconds=600,
    )
    downstream = RecordingDownstream()
    app.state.deps = SimpleNamespace(
        sessions=session_service,
        throttle=RequestThrottle(InMemoryRateLimiter(), policy),
        downstream=downstream,
    )
    if not fast:
        # Any override sends FastProxyRoute to FastAPI's handler (the direct calls would not see overrides).
        app.dependency_overrides[_unused] = _unused
    return app, downstream


async def _unused() -> None:
    return None


@pytest.fixture
def solved(monkeypatch: pytest.MonkeyPatch) -> list[Dependant]:
    """Every dependency graph FastAPI solves for a request."""
    calls: list[Dependant] = []
    original = fastapi.dependencies.utils.solve_dependencies

    async def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append(kwargs["dependant"])
        return await original(*args, **kwargs)

    monkeypatch.setattr("fastapi.routing.solve_dependencies", counting)
    return calls


def _comparable(response: httpx.Response) -> tuple[int, Any, dict[str, str]]:
    headers = {name: value for name, value in response.headers.items() if name != "date"}
    return response.status_code, response.json(), headers


async def _send_both(
    session_service: SessionService, requests: list[tuple[str, str, dict[str, str]]]
) -> list[tuple[Any, Any, list[dict[str, Any]], list[dict[str, Any]]]]:
    fast_app, fast_downstream = _app(session_service, fast=True)
    slow_app, slow_downstream = _app(session_service, fast=False)
    outcomes = []
    async with (
        httpx.AsyncClient(transport=httpx.ASGITransport(app=fast_app), base_url="http://gw") as fast,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=slow_app), base_url="http://gw") as slow,
    ):
        for method, path, headers in requests:
            fast_before, slow_before = len(fast_downstream.calls), len(slow_downstream.calls)
            fast_answer = await fast.request(method, path, headers=headers)
            slow_answer = await slow.request(method, path, headers=headers)
            outcomes.append(
                (
                    _comparable(fast_answer),
                    _comparable(slow_answer),
                    fast_downstream.calls[fast_before:],
                    slow_downstream.calls[slow_before:],
                )
            )
    return outcomes


async def test_proxied_operations_answer_as_fastapi_would_without_solving_dependencies(
    session_service: SessionService, solved: list[Dependant]
) -> None:
    alice = await session_service.start(user_id="u-alice", device_id="laptop", email_verified=True)
    revoked = await session_service.start(user_id="u-bob", device_id=None)
    await session_service.end(revoked.session_id)
    token = {"Authorization": f"Bearer {alice.access_token}"}
    requests = [
        ("GET", "/api/v1/gateway/sellers/me", token),
        ("GET", "/api/v1/gateway/sellers/me", {**token, "X-Device-Id": "laptop-1"}),
        ("GET", "/api/v1/gateway/sellers/me?a=1&a=2&b=%20x", token),
        ("GET", "/api/v1/gateway/sellers/me", {}),  # 401 missing_token
        ("GET", "/api/v1/gateway/sellers/me", {"Authorization": "Bearer not-a-token"}),  # 401 invalid
        ("GET", "/api/v1/gateway/sellers/me", {"Authorization": f"Basic {alice.access_token}"}),
        ("GET", "/api/v1/gateway/sellers/me", {"Authorization": f"Bearer {revoked.access_token}"}),
        ("GET", "/api/v1/gateway/sellers/s%20one", {}),  # optional: anonymous, escapes kept
        ("GET", "/api/v1/gateway/sellers/s-1", token),  # optional: with the session
        ("GET", "/api/v1/gateway/sellers/s-1", {"Authorization": "Bearer not-a-token"}),
        ("PUT", "/api/v1/gateway/sellers/s-1", {**token, "Content-Type": "application/json"}),
        ("GET", "/api/v1/gateway/sellers", token),  # no session taken: the account is still counted
        ("GET", "/api/v1/gateway/auth/me", token),
        ("GET", "/api/v1/gateway/auth/me", {"Authorization": f"Bearer {revoked.access_token}"}),
    ]
    # Past the account's budget (12 a minute; 7 used above): 429s with Retry-After.
    requests += [("GET", "/api/v1/gateway/sellers/me", token)] * 6
    outcomes = await _send_both(session_service, requests)

    for (method, path, _), (fast, slow, fast_calls, slow_calls) in zip(requests, outcomes, strict=True):
        assert fast == slow, (method, path)
        assert fast_calls == slow_calls, (method, path)
    statuses = [fast[0] for fast, _, _, _ in outcomes]
    assert statuses[:14] == [200, 200, 200, 401, 401, 401, 401, 200, 200, 401, 200, 200, 200, 401]
    assert 429 in statuses[14:]
    assert outcomes[1][2][0]["forward_headers"] == {"X-Device-Id": "laptop-1", "accept": "*/*"}
    assert outcomes[12][2][0]["subject"] == "u-alice"
    # Only the app forced onto FastAPI's handlers solved dependency graphs: one per request.
    assert len(solved) == len(requests)


@pytest.mark.parametrize(
    "device_headers",
    [
        {"X-Device-Id": "has space"},
        {"X-Device-Id": "x" * 129},
        {"X-Device-Id": ""},
        [("X-Device-Id", "one"), ("X-Device-Id", "two")],
    ],
)
async def test_a_device_id_fastapi_would_judge_takes_fastapis_handler(
    session_service: SessionService, solved: list[Dependant], device_headers: Any
) -> None:
    app, downstream = _app(session_service, fast=True)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as client:
        answer = await client.get("/api/v1/gateway/sellers", headers=device_headers)
    assert len(solved) == 1
    if isinstance(device_headers, dict):
        assert answer.status_code == 422
        assert answer.json()["error"]["code"] == "validation_failed"
        assert downstream.calls == []


def test_every_marked_route_states_its_endpoints_own_session_rule_and_device_header() -> None:
    """The fast path runs what the mark says; the documented signature must say the same."""
    real = load_public_api()
    handled = {
        route.operation_id
        for route in auth_routes.router.routes
        if isinstance(route, APIRoute) and route.operation_id
    }
    routers = [auth_routes.router, passthrough_router(real, handled_elsewhere=handled)]
    marked = 0
    for router in routers:
        for route in router.routes:
            if not isinstance(route, FastProxyRoute) or (spec := fast_path_of(route.endpoint)) is None:
                continue
            marked += 1
            calls = _calls(route.dependant)
            session = (
                "required"
                if current_session in calls
                else "optional"
                if optional_session in calls
                else "none"
            )
            headers = {param.alias.lower() for param in route.dependant.header_params}
            assert (spec.session, spec.takes_device_id) == (session, "x-device-id" in headers), route.path
            assert not route.dependant.body_params, route.path  # the fast path reads no body model
    passed_through = [op for op in real.operations if op.operation_id not in handled]
    assert marked == len(passed_through) + 1  # every pass-through operation and `auth.me`


def _calls(dependant: Dependant) -> set[Any]:
    calls = {dependant.call}
    for child in dependant.dependencies:
        calls |= _calls(child)
    return calls
