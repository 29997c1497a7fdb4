"""X-Correlation-ID: accepted when sane, generated when absent or unsafe, echoed on every response."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from fastapi.responses import JSONResponse
from servicekit.errors import error_body
from servicekit.http import create_service_app
from servicekit.logging import get_correlation_id
from servicekit.settings import ServiceSettings
from starlette.middleware import Middleware
from starlette.types import ASGIApp, Receive, Scope, Send

AppFactory = Callable[..., FastAPI]
ClientFactory = Callable[[FastAPI], httpx.AsyncClient]


@pytest.fixture
def client(build_app: AppFactory, make_client: ClientFactory) -> httpx.AsyncClient:
    router = APIRouter()

    @router.get("/api/v1/echo")
    async def echo() -> dict[str, str | None]:
        return {"seen": get_correlation_id()}

    return make_client(build_app(router, require_internal_token=False))


async def test_incoming_correlation_id_is_used_and_echoed(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/echo", headers={"X-Correlation-ID": "req-123.abc"})
    assert response.headers["X-Correlation-ID"] == "req-123.abc"
    assert response.json() == {"seen": "req-123.abc"}


async def test_missing_correlation_id_is_generated(client: httpx.AsyncClient) -> None:
    first = await client.get("/api/v1/echo")
    second = await client.get("/api/v1/echo")
    assert first.json()["seen"] == first.headers["X-Correlation-ID"]
    assert len(first.headers["X-Correlation-ID"]) == 32
    assert first.headers["X-Correlation-ID"] != second.headers["X-Correlation-ID"]


@pytest.mark.parametrize("unsafe", ['x" injected="1', "a" * 200, "line\tbreak"])
async def test_unsafe_correlation_id_is_replaced(client: httpx.AsyncClient, unsafe: str) -> None:
    response = await client.get("/api/v1/echo", headers={"X-Correlation-ID": unsafe})
    assert response.headers["X-Correlation-ID"] != unsafe
    assert response.json()["seen"] == response.headers["X-Correlation-ID"]


async def test_correlation_id_does_not_leak_out_of_the_request(client: httpx.AsyncClient) -> None:
    await client.get("/api/v1/echo", headers={"X-Correlation-ID": "req-1"})
    assert get_correlation_id() is None


class _RefuseEverything:
    """Stands in for a service's own middleware answering before routing (like the gateway's size limit)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await JSONResponse(error_body("payload_too_large", "Too large"), status_code=413)(
            scope, receive, send
        )


async def test_service_middleware_runs_inside_the_request_context(
    service_settings: ServiceSettings, make_client: ClientFactory
) -> None:
    app = create_service_app(
        service_settings,
        title="t",
        version="1",
        routers=[],
        require_internal_token=False,
        middleware=[Middleware(_RefuseEverything)],
    )
    response = await make_client(app).post("/api/v1/anything", headers={"X-Correlation-ID": "big-upload-1"})
    assert response.status_code == 413
    assert response.headers["X-Correlation-ID"] == "big-upload-1"
    assert response.json()["error"]["correlation_id"] == "big-upload-1"
