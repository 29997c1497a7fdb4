"""`ErrorTable`: one table from exception type to status and code, applied by one handler."""

# Domain-style names, as in the services' domain/errors.py.
# ruff: noqa: N818

from __future__ import annotations

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from servicekit.domain_errors import DomainError
from servicekit.error_table import ErrorReport, ErrorTable
from servicekit.http import create_service_app
from servicekit.settings import ServiceSettings


class ShopError(DomainError):
    code = "shop_error"


class OutOfStock(ShopError):
    code = "out_of_stock"
    default_message = "That item is sold out"


class OutOfStockToday(OutOfStock):
    pass


class Throttled(ShopError):
    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__("internal: bucket 42 of tenant acme")
        self.retry_after_seconds = retry_after_seconds


class Unmapped(ShopError):
    code = "leaks_if_reported"


class StoreDown(Exception):
    pass


TABLE = ErrorTable(
    {
        OutOfStock: ErrorReport(409),
        Throttled: ErrorReport(429, code="too_many_requests", message="Slow down"),
        StoreDown: ErrorReport(503, retry_after_seconds=1, log=True, when=lambda e: "transient" in str(e)),
    }
)


def test_the_nearest_mapped_class_decides_and_the_domain_error_keeps_its_code_and_message() -> None:
    reported = TABLE.as_service_error(OutOfStockToday(details=[{"field": "sku"}]))
    assert (reported.status_code, reported.code) == (409, "out_of_stock")
    assert reported.message == "That item is sold out"
    assert reported.details == [{"field": "sku"}]


def test_the_table_message_hides_an_internal_one_and_retry_after_comes_from_the_error() -> None:
    reported = TABLE.as_service_error(Throttled(7))
    assert (reported.status_code, reported.code, reported.message) == (429, "too_many_requests", "Slow down")
    assert reported.headers == {"Retry-After": "7"}


def test_a_non_domain_error_gets_the_status_defaults_never_its_text() -> None:
    reported = TABLE.as_service_error(StoreDown("transient: db at 10.0.0.3 refused"))
    assert (reported.status_code, reported.code) == (503, "unavailable")
    assert reported.message == "Service Unavailable"
    assert reported.headers == {"Retry-After": "1"}


@pytest.mark.parametrize("error", [Unmapped("secret"), StoreDown("permanent")])
def test_unmapped_or_refused_by_when_is_an_opaque_500(error: Exception) -> None:
    reported = TABLE.as_service_error(error)
    assert (reported.status_code, reported.code) == (500, "internal_error")
    assert "secret" not in reported.message


async def test_create_service_app_installs_the_table_and_keeps_deps(
    service_settings: ServiceSettings,
) -> None:
    router = APIRouter()

    @router.get("/stock")
    async def stock() -> None:
        raise OutOfStockToday()

    @router.get("/bug")
    async def bug() -> None:
        raise Unmapped("secret")

    deps = object()
    app: FastAPI = create_service_app(
        service_settings,
        title="t",
        version="1",
        routers=[router],
        require_internal_token=False,
        deps=deps,
        errors=TABLE,
    )
    assert app.state.deps is deps
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        stock_response = await client.get("/stock")
        bug_response = await client.get("/bug")
    assert stock_response.status_code == 409
    assert stock_response.json()["error"]["code"] == "out_of_stock"
    assert bug_response.status_code == 500
    assert "secret" not in bug_response.text
