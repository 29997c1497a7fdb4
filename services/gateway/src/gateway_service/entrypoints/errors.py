"""Maps the gateway's domain exceptions and store outages to the shared error shape."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from redis.exceptions import RedisError
from servicekit.errors import ServiceError, ServiceUnavailable, TooManyRequests, Unauthorized, error_response

from gateway_service.domain.exceptions import (
    GatewayDomainError,
    InvalidAccessTokenError,
    InvalidRefreshTokenError,
    RateLimitedError,
    RefreshTokenReusedError,
    SessionRevokedError,
)

logger = logging.getLogger(__name__)


def to_service_error(error: GatewayDomainError) -> ServiceError:
    # Token failures say which rule refused (so clients know to sign in again) but never why a token
    # failed to verify: "bad signature" versus "expired" would help someone forging tokens.
    if isinstance(error, InvalidAccessTokenError):
        return Unauthorized("The access token is invalid or expired", code="invalid_token")
    if isinstance(error, SessionRevokedError):
        return Unauthorized("The session has ended; sign in again", code="session_revoked")
    if isinstance(error, RefreshTokenReusedError):
        return Unauthorized(
            "The refresh token was already used; the session was revoked", code="token_reused"
        )
    if isinstance(error, InvalidRefreshTokenError):
        return Unauthorized("The refresh token is invalid or expired", code="invalid_refresh_token")
    if isinstance(error, RateLimitedError):
        return TooManyRequests("Too many requests; retry later", retry_after=error.retry_after_seconds)
    return ServiceError()


async def _handle_domain_error(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, GatewayDomainError)
    return error_response(to_service_error(error))


async def _handle_store_error(_: Request, error: Exception) -> JSONResponse:
    logger.warning("session store unavailable", extra={"error_class": type(error).__name__})
    return error_response(ServiceUnavailable("The session store is unavailable"))


def install_gateway_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(GatewayDomainError, _handle_domain_error)
    app.add_exception_handler(RedisError, _handle_store_error)
