"""Reports auth domain errors as servicekit errors, so they get the one JSON error shape and status; an
unavailable or persistently busy account store is a 503 (with ``Retry-After``), never a 500."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from servicekit.errors import (
    BadRequest,
    Conflict,
    NotFound,
    ServiceError,
    ServiceUnavailable,
    TooManyRequests,
    Unauthorized,
    ValidationFailed,
    error_response,
    internal_error_response,
    log_unexpected_error,
)
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as SQLAlchemyTimeoutError

from auth_service.adapters.unit_of_work import translate_store_error
from auth_service.domain.exceptions import (
    AccountNotFound,
    AuthError,
    CredentialsPolicyViolation,
    EmailAlreadyVerified,
    InvalidCredentials,
    InvalidOtp,
    InvalidToken,
    OtpAttemptsExhausted,
    SignInThrottled,
    WrongCurrentPassword,
)
from auth_service.service_layer.errors import StoreConflictError, StoreUnavailableError

logger = logging.getLogger(__name__)

# Seconds a client (the gateway) should wait before trying again after a 503 for a busy or absent store.
STORE_RETRY_AFTER_SECONDS = 1

REPORTED_AS: dict[type[AuthError], type[ServiceError]] = {
    InvalidCredentials: Unauthorized,
    InvalidOtp: Unauthorized,
    OtpAttemptsExhausted: TooManyRequests,
    SignInThrottled: TooManyRequests,
    InvalidToken: BadRequest,
    CredentialsPolicyViolation: ValidationFailed,
    WrongCurrentPassword: BadRequest,
    EmailAlreadyVerified: Conflict,
    AccountNotFound: NotFound,
}


def as_service_error(error: AuthError) -> ServiceError:
    """The servicekit error for a domain error (the nearest mapped base class decides)."""
    if isinstance(error, SignInThrottled):
        return TooManyRequests(error.message, code=error.code, retry_after=error.retry_after_seconds)
    for cls in type(error).__mro__:
        reported_as = REPORTED_AS.get(cls)
        if reported_as is not None:
            return reported_as(error.message, code=error.code, details=error.details)
    # An unmapped domain error is a bug here, not the caller's fault: a 500 with nothing internal in it.
    return ServiceError(code="internal_error")


async def _handle_auth_error(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, AuthError)
    return error_response(as_service_error(error))


class StoreUnavailableResponse(ServiceUnavailable):
    """503 with ``Retry-After``: the request was fine, the store could not take it just now."""

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(STORE_RETRY_AFTER_SECONDS)}


def store_unavailable(message: str | None = None) -> ServiceError:
    return StoreUnavailableResponse(message or StoreUnavailableError().message)


async def _handle_store_error(_: Request, error: Exception) -> JSONResponse:
    # A conflict that escaped the retry runner is as temporary as an absent store: both are a 503.
    message = error.message if isinstance(error, StoreUnavailableError) else None
    logger.warning("account store unavailable: %r", error)
    return error_response(store_unavailable(message))


async def _handle_driver_error(request: Request, error: Exception) -> JSONResponse:
    """Safety net for a driver error that reached the app outside a unit of work (none should)."""
    if translate_store_error(error) is None:
        log_unexpected_error(request.method, request.url.path, error)
        return internal_error_response()
    logger.warning("account store unavailable outside a unit of work: %r", error)
    return error_response(store_unavailable())


def install_auth_error_handler(app: FastAPI) -> None:
    app.add_exception_handler(AuthError, _handle_auth_error)
    app.add_exception_handler(StoreUnavailableError, _handle_store_error)
    app.add_exception_handler(StoreConflictError, _handle_store_error)
    app.add_exception_handler(DBAPIError, _handle_driver_error)
    app.add_exception_handler(SQLAlchemyTimeoutError, _handle_driver_error)
