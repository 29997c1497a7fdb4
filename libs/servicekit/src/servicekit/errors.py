"""The one JSON error shape and the exceptions that map to it.

Every 4xx/5xx of every service has the body
`{"error": {"code", "message", "details", "correlation_id"}}`, so clients and the gateway handle errors one
way. Domain exceptions derive from `ServiceError` (or are mapped to it in the API layer); anything else is an
unexpected failure, logged with its traceback and answered with a 500 that reveals nothing internal.
"""

# The subclass names (NotFound, Conflict, ...) are the HTTP status names fixed in docs/servicekit-api.md and
# read better at raise sites than NotFoundError; pep8-naming's Error-suffix rule is waived for them.
# ruff: noqa: N818

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from servicekit.logging import get_correlation_id

__all__ = [
    "BadGateway",
    "BadRequest",
    "Conflict",
    "Forbidden",
    "GatewayTimeout",
    "NotFound",
    "PayloadTooLarge",
    "ServiceError",
    "ServiceUnavailable",
    "TooManyRequests",
    "Unauthorized",
    "ValidationFailed",
    "error_body",
    "error_response",
    "install_error_handlers",
    "internal_error_response",
    "log_unexpected_error",
]

logger = logging.getLogger(__name__)

# Codes for HTTP errors raised by the framework itself (routing, method, media type), and the default code
# of an error-table entry that names none.
CODES_BY_STATUS = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_failed",
    429: "too_many_requests",
    500: "internal_error",
    502: "bad_gateway",
    503: "unavailable",
    504: "gateway_timeout",
}


class ServiceError(Exception):
    """An expected failure with an HTTP status and a stable machine-readable `code`."""

    status_code: int = 500
    code: str = "internal_error"
    default_message: str = "Internal server error"

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str | None = None,
        details: list[dict[str, Any]] | None = None,
    ) -> None:
        # A per-instance `code` lets a domain name its failure precisely (e.g. "email_taken") while keeping
        # the status of the class it derives from.
        if code is not None:
            self.code = code
        self.message = message or self.default_message
        self.details: list[dict[str, Any]] = list(details or [])
        super().__init__(self.message)

    @property
    def headers(self) -> dict[str, str]:
        """Response headers the error implies (e.g. `Retry-After`)."""
        return {}


class BadRequest(ServiceError):
    status_code = 400
    code = "bad_request"
    default_message = "The request is invalid"


class Unauthorized(ServiceError):
    status_code = 401
    code = "unauthorized"
    default_message = "Authentication is required"

    @property
    def headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": "Bearer"}


class Forbidden(ServiceError):
    status_code = 403
    code = "forbidden"
    default_message = "Not allowed"


class NotFound(ServiceError):
    status_code = 404
    code = "not_found"
    default_message = "Not found"


class Conflict(ServiceError):
    status_code = 409
    code = "conflict"
    default_message = "The request conflicts with the current state"


class PayloadTooLarge(ServiceError):
    status_code = 413
    code = "payload_too_large"
    default_message = "The request body is too large"


class ValidationFailed(ServiceError):
    status_code = 422
    code = "validation_failed"
    default_message = "The request did not pass validation"


class TooManyRequests(ServiceError):
    status_code = 429
    code = "too_many_requests"
    default_message = "Too many requests"

    def __init__(
        self,
        message: str | None = None,
        *,
        retry_after: int | None = None,
        code: str | None = None,
        details: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(message, code=code, details=details)
        self.retry_after = retry_after

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)} if self.retry_after is not None else {}


class BadGateway(ServiceError):
    status_code = 502
    code = "bad_gateway"
    default_message = "An upstream service failed"


class ServiceUnavailable(ServiceError):
    status_code = 503
    code = "unavailable"
    default_message = "The service is temporarily unavailable"


class GatewayTimeout(ServiceError):
    status_code = 504
    code = "gateway_timeout"
    default_message = "An upstream service did not answer in time"


def error_body(
    code: str,
    message: str,
    details: list[dict[str, Any]] | None = None,
    correlation_id: str | None = None,
) -> dict[str, Any]:
    """The one JSON error shape; `correlation_id` defaults to the id of the request being handled."""
    return {
        "error": {
            "code": code,
            "message": message,
            "details": list(details or []),
            "correlation_id": correlation_id if correlation_id is not None else get_correlation_id(),
        }
    }


def error_response(error: ServiceError) -> JSONResponse:
    return JSONResponse(
        error_body(error.code, error.message, error.details),
        status_code=error.status_code,
        headers=error.headers,
    )


def internal_error_response() -> JSONResponse:
    """The 500 for unexpected failures: nothing about the cause, only the id to find it in the logs."""
    return JSONResponse(error_body("internal_error", "Internal server error"), status_code=500)


def _validation_details(error: RequestValidationError) -> list[dict[str, Any]]:
    # The offending input is deliberately left out: it may be a password or a token.
    return [
        {
            "field": ".".join(str(part) for part in item.get("loc", ())),
            "message": item.get("msg", ""),
            "type": item.get("type", ""),
        }
        for item in error.errors()
    ]


async def _handle_service_error(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, ServiceError)
    if error.status_code >= 500:
        logger.warning("request failed", extra={"error_code": error.code, "status": error.status_code})
    return error_response(error)


async def _handle_validation_error(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    return JSONResponse(
        error_body("validation_failed", "The request did not pass validation", _validation_details(error)),
        status_code=422,
    )


async def _handle_http_exception(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)
    status = error.status_code
    code = CODES_BY_STATUS.get(status, "error" if status < 500 else "internal_error")
    try:
        default_message = HTTPStatus(status).phrase
    except ValueError:
        default_message = "Error"
    message = error.detail if isinstance(error.detail, str) and error.detail else default_message
    return JSONResponse(error_body(code, message), status_code=status, headers=dict(error.headers or {}))


async def _handle_unexpected_error(request: Request, error: Exception) -> JSONResponse:
    log_unexpected_error(request.method, request.url.path, error)
    return internal_error_response()


def log_unexpected_error(method: str, path: str, error: BaseException) -> None:
    logger.error(
        "unhandled error",
        exc_info=(type(error), error, error.__traceback__),
        extra={"http_method": method, "http_path": path},
    )


def install_error_handlers(app: FastAPI) -> None:
    """Map ServiceError, request validation errors, HTTP exceptions and everything else to the error shape."""
    app.add_exception_handler(ServiceError, _handle_service_error)
    app.add_exception_handler(RequestValidationError, _handle_validation_error)
    app.add_exception_handler(StarletteHTTPException, _handle_http_exception)
    app.add_exception_handler(Exception, _handle_unexpected_error)
