"""Pass-through routing where published paths overlap: fixed paths win, and a 405 lists the path's methods."""

from __future__ import annotations

import sys
from pathlib import Path

import httpx
from fastapi import FastAPI
from gateway_service.entrypoints.dependencies import enforce_ip_budget
from gateway_service.entrypoints.proxy_routes import passthrough_router
from gateway_service.entrypoints.public_api import PublicApi

# importlib import mode does not put this folder on sys.path; the helper sits beside the tests.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from gateway_public_operations import users_operation

API = PublicApi(
    operations=(
        users_operation("sellers.byId", "GET", "/api/v1/gateway/sellers/{seller_id}"),
        users_operation("sellers.update", "PUT", "/api/v1/gateway/sellers/{seller_id}"),
        users_operation("sellers.random", "GET", "/api/v1/gateway/sellers/random"),
    ),
    schemas={},
)


async def _no_budget() -> None:
    return None


def _app() -> FastAPI:
    app = FastAPI()
    app.include_router(passthrough_router(API, handled_elsewhere=()))
    app.dependency_overrides[enforce_ip_budget] = _no_budget
    return app


def test_a_fixed_path_is_routed_before_a_template_that_also_matches_it() -> None:
    paths = [getattr(route, "path", "") for route in passthrough_router(API, handled_elsewhere=()).routes]
    assert paths.index("/api/v1/gateway/sellers/random") < paths.index("/api/v1/gateway/sellers/{seller_id}")


async def test_an_unpublished_method_lists_every_method_of_the_path() -> None:
    transport = httpx.ASGITransport(app=_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        templated = await client.request("OPTIONS", "/api/v1/gateway/sellers/s-1")
        fixed = await client.request("DELETE", "/api/v1/gateway/sellers/random")
    assert (templated.status_code, templated.headers["Allow"]) == (405, "GET, PUT")
    assert templated.json()["error"]["code"] == "method_not_allowed"
    assert (fixed.status_code, fixed.headers["Allow"]) == (405, "GET")
