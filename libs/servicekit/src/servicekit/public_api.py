"""Declaring a route as part of the public API that the gateway publishes.

A service marks an operation public with ``**public_operation("gigs.byId", session="optional")`` on its route:
the contract id becomes the ``operationId`` and the session rule travels in the service's own OpenAPI as
``x-gateway-session``. The gateway's route table and public OpenAPI are generated from these documents
(``scripts/generate_public_api.py``), so an operation is declared once, where it is implemented.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, Field, Strict

__all__ = [
    "COUNTER_MAX",
    "GATEWAY_SESSION_KEY",
    "NO_CONTROL_CHARACTERS",
    "ErrorBody",
    "ErrorDetail",
    "ErrorInfo",
    "JsonCounter",
    "JsonInteger",
    "SessionRule",
    "error_responses",
    "public_operation",
    "whole_number",
]

GATEWAY_SESSION_KEY = "x-gateway-session"
# The largest version, revision or sequence number a request may name. Every integer a client sends has an
# upper bound in the published schema: an unbounded one reaches a driver and overflows there (PyMongo refuses
# ints beyond 64 bits, OpenSearch `long` fields and 32-bit SQL columns likewise), which is a 500 for what is
# a client's mistake. Versions live in 32-bit columns (order's SQL store), so this is the bound for all.
COUNTER_MAX = 2_147_483_647
# The pattern of a free-form identifier a client names in a path (a username, a gig or seller id): any text
# but control characters. PostgreSQL, and FerretDB on it, refuse a NUL inside a string outright, so without
# it `/gigs/%00` reached the store and came back as a 500 (a 502 at the gateway) for a client's typo.
NO_CONTROL_CHARACTERS = r"^[^\x00-\x1f\x7f]+$"


def whole_number(value: object) -> object:
    """JSON Schema's `integer` includes 3.0, so the published schema allows it (strings and booleans not)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


# An `integer` of the published schema as a request field: pydantic's lax `int` also takes `true` and `"3"`,
# which the schema refuses (the fuzzer found `{"up_to_seq": true}` accepted by chat.markRead). Bounds inside
# an `Annotated` (a field of a union) go before these two, or pydantic leaves them out of the JSON schema.
JsonInteger = Annotated[int, BeforeValidator(whole_number), Strict()]
# A version, revision or sequence number a client sends back: a JsonInteger in 1..COUNTER_MAX, the bounds
# first so that `JsonCounter | None` still publishes them.
JsonCounter = Annotated[int, Field(ge=1, le=COUNTER_MAX), BeforeValidator(whole_number), Strict()]
# "required": the gateway answers 401 without a valid session; "optional": a session is used when sent (and
# must then be valid); "none": the gateway never reads one.
SessionRule = Literal["required", "optional", "none"]


class ErrorDetail(BaseModel):
    field: str | None = None
    message: str
    type: str | None = None


class ErrorInfo(BaseModel):
    code: str = Field(description="Stable machine-readable error code, e.g. `not_found`")
    message: str
    details: list[ErrorDetail]
    correlation_id: str | None


class ErrorBody(BaseModel):
    """The one JSON error shape of every 4xx/5xx (servicekit.errors.error_body)."""

    error: ErrorInfo


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` entries documenting each status with the shared error body."""
    return {status: {"model": ErrorBody, "description": HTTPStatus(status).phrase} for status in statuses}


def public_operation(operation_id: str, *, session: SessionRule) -> dict[str, Any]:
    """Route keyword arguments that publish the operation through the gateway under ``operation_id``."""
    return {"operation_id": operation_id, "openapi_extra": {GATEWAY_SESSION_KEY: session}}
