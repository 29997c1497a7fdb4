"""The auth error table: each domain error's HTTP status; an unavailable or persistently busy account store
is a 503 with ``Retry-After``, never a 500."""

from __future__ import annotations

from servicekit.error_table import ErrorReport, ErrorTable
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as SQLAlchemyTimeoutError

from auth_service.adapters.unit_of_work import translate_store_error
from auth_service.domain.errors import (
    AccountNotFound,
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

# Seconds a client (the gateway) should wait before trying again after a 503 for a busy or absent store.
STORE_RETRY_AFTER_SECONDS = 1
STORE_UNAVAILABLE = StoreUnavailableError().message


def _store_unavailable(message: str | None = None) -> ErrorReport:
    return ErrorReport(
        503, code="unavailable", message=message, retry_after_seconds=STORE_RETRY_AFTER_SECONDS, log=True
    )


AUTH_ERRORS = ErrorTable(
    {
        # Domain errors keep their own code and message (see auth_service.domain.errors).
        InvalidCredentials: ErrorReport(401),
        InvalidOtp: ErrorReport(401),
        OtpAttemptsExhausted: ErrorReport(429),
        # Retry-After comes from the error's own retry_after_seconds (the account's delay).
        SignInThrottled: ErrorReport(429),
        InvalidToken: ErrorReport(400),
        CredentialsPolicyViolation: ErrorReport(422),
        WrongCurrentPassword: ErrorReport(400),
        EmailAlreadyVerified: ErrorReport(409),
        AccountNotFound: ErrorReport(404),
        StoreUnavailableError: ErrorReport(
            503,
            code="unavailable",
            message=lambda error: error.message,
            retry_after_seconds=STORE_RETRY_AFTER_SECONDS,
            log=True,
        ),
        # A conflict that escaped the retry runner is as temporary as an absent store.
        StoreConflictError: _store_unavailable(STORE_UNAVAILABLE),
        # Safety net for a driver error that reached the app outside a unit of work (none should): only the
        # ones that mean "store unavailable" are a 503; anything else stays an unexpected 500.
        DBAPIError: ErrorReport(
            503,
            code="unavailable",
            message=STORE_UNAVAILABLE,
            retry_after_seconds=STORE_RETRY_AFTER_SECONDS,
            log=True,
            when=lambda error: translate_store_error(error) is not None,
        ),
        SQLAlchemyTimeoutError: _store_unavailable(STORE_UNAVAILABLE),
    }
)
