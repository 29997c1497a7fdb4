"""The one error shape for ServiceError, validation failures, framework HTTP errors and unexpected crashes."""

from __future__ import annotations

import logging
from collections.abc import Callable

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from pydantic import BaseModel
from servicekit.errors import Conflict, NotFound, ServiceError, TooManyRequests, error_body

AppFactory = Callable[..., FastAPI]
ClientFactory = Callable[[FastAPI], httpx.AsyncClient]


class SignUp(BaseModel):
    email: str
    password: str
    age: int


def _router() -> APIRouter:
    router = APIRouter(prefix="/api/v1/things")

    @router.get("/missing/{thing_id}")
    async def missing(thing_id: int) -> None:
        raise NotFound(f"Thing {thing_id} does not exist", details=[{"thing_id": thing_id}])

    @router.get("/taken")
    async def taken() -> None:
        raise Conflict("Email already registered", code="email_taken")

    @router.get("/slow-down")
    async def slow_down() -> None:
        raise TooManyRequests(retry_after=17)

    @router.post("/signup")
    async def signup(body: SignUp) -> dict[str, str]:
        return {"email": body.email}

    @router.get("/crash")
    async def crash() -> None:
        raise RuntimeError("db password is hunter2 at 10.0.0.7")

    return router


@pytest.fixture
def client(build_app: AppFactory, make_client: ClientFactory) -> httpx.AsyncClient:
    return make_client(build_app(_router(), require_internal_token=False))


def _assert_error_shape(response: httpx.Response, status: int, code: str) -> dict[str, object]:
    assert response.status_code == status
    body = response.json()
    assert set(body) == {"error"}
    error = body["error"]
    assert set(error) == {"code", "message", "details", "correlation_id"}
    assert error["code"] == code
    # The body's correlation id is the one echoed in the response header.
    assert error["correlation_id"] == response.headers["X-Correlation-ID"]
    assert isinstance(error, dict)
    return error


async def test_service_error_maps_to_its_status_code_and_details(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/things/missing/42")
    error = _assert_error_shape(response, 404, "not_found")
    assert error["message"] == "Thing 42 does not exist"
    assert error["details"] == [{"thing_id": 42}]


async def test_service_error_may_carry_a_specific_code(client: httpx.AsyncClient) -> None:
    error = _assert_error_shape(await client.get("/api/v1/things/taken"), 409, "email_taken")
    assert error["message"] == "Email already registered"


async def test_too_many_requests_sets_retry_after(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/things/slow-down")
    _assert_error_shape(response, 429, "too_many_requests")
    assert response.headers["Retry-After"] == "17"


async def test_validation_failure_is_422_with_field_details_and_no_input_echo(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        "/api/v1/things/signup",
        json={"email": "a@example.com", "password": "s3cr3t-Value!", "age": "XYZZY-not-a-number"},
    )
    error = _assert_error_shape(response, 422, "validation_failed")
    details = error["details"]
    assert isinstance(details, list)
    assert [(d["field"], d["type"]) for d in details] == [("body.age", "int_parsing")]
    assert set(details[0]) == {"field", "message", "type"}
    assert "s3cr3t-Value!" not in response.text
    assert "XYZZY" not in response.text


async def test_unknown_route_and_wrong_method_use_the_error_shape(client: httpx.AsyncClient) -> None:
    _assert_error_shape(await client.get("/api/v1/nothing-here"), 404, "not_found")
    _assert_error_shape(await client.delete("/api/v1/things/taken"), 405, "method_not_allowed")


async def test_unexpected_exception_is_a_logged_500_without_internals(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR):
        response = await client.get("/api/v1/things/crash")

    error = _assert_error_shape(response, 500, "internal_error")
    assert error["message"] == "Internal server error"
    assert "hunter2" not in response.text
    assert "RuntimeError" not in response.text
    crash_records = [record for record in caplog.records if record.getMessage() == "unhandled error"]
    assert len(crash_records) == 1
    assert crash_records[0].exc_info is not None
    assert crash_records[0].exc_info[0] is RuntimeError


def test_error_body_has_the_contract_shape() -> None:
    assert error_body("not_found", "Gig 42 does not exist", correlation_id="c-1") == {
        "error": {
            "code": "not_found",
            "message": "Gig 42 does not exist",
            "details": [],
            "correlation_id": "c-1",
        }
    }


def test_service_error_subclasses_have_contract_status_and_codes() -> None:
    from servicekit import errors

    expected = {
        errors.BadRequest: (400, "bad_request"),
        errors.Unauthorized: (401, "unauthorized"),
        errors.Forbidden: (403, "forbidden"),
        errors.NotFound: (404, "not_found"),
        errors.Conflict: (409, "conflict"),
        errors.PayloadTooLarge: (413, "payload_too_large"),
        errors.ValidationFailed: (422, "validation_failed"),
        errors.TooManyRequests: (429, "too_many_requests"),
        errors.BadGateway: (502, "bad_gateway"),
        errors.ServiceUnavailable: (503, "unavailable"),
        errors.GatewayTimeout: (504, "gateway_timeout"),
    }
    for error_class, (status, code) in expected.items():
        instance = error_class()
        assert isinstance(instance, ServiceError)
        assert (instance.status_code, instance.code) == (status, code), error_class.__name__
        assert instance.message
