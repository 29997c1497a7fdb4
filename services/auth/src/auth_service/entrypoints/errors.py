"""Reports auth domain errors as servicekit errors, so they get the one JSON error shape and status."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from servicekit.errors import (
    BadRequest,
    Conflict,
    NotFound,
    ServiceError,
    TooManyRequests,
    Unauthorized,
    ValidationFailed,
    error_response,
)

from auth_service.domain.exceptions import (
    AccountNotFound,
    AuthError,
    CredentialsPolicyViolation,
    EmailAlreadyVerified,
    InvalidCredentials,
    InvalidOtp,
    InvalidToken,
    OtpAttemptsExhausted,
    WrongCurrentPassword,
)

REPORTED_AS: dict[type[AuthError], type[ServiceError]] = {
    InvalidCredentials: Unauthorized,
    InvalidOtp: Unauthorized,
    OtpAttemptsExhausted: TooManyRequests,
    InvalidToken: BadRequest,
    CredentialsPolicyViolation: ValidationFailed,
    WrongCurrentPassword: BadRequest,
    EmailAlreadyVerified: Conflict,
    AccountNotFound: NotFound,
}


def as_service_error(error: AuthError) -> ServiceError:
    """The servicekit error for a domain error (the nearest mapped base class decides)."""
    for cls in type(error).__mro__:
        reported_as = REPORTED_AS.get(cls)
        if reported_as is not None:
            return reported_as(error.message, code=error.code, details=error.details)
    # An unmapped domain error is a bug here, not the caller's fault: a 500 with nothing internal in it.
    return ServiceError(code="internal_error")


async def _handle_auth_error(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, AuthError)
    return error_response(as_service_error(error))


def install_auth_error_handler(app: FastAPI) -> None:
    app.add_exception_handler(AuthError, _handle_auth_error)
