"""The gateway error table: its domain errors and session-store outages in the shared error shape."""

from __future__ import annotations

from redis.exceptions import RedisError
from servicekit.error_table import ErrorReport, ErrorTable

from gateway_service.domain.errors import (
    InvalidAccessTokenError,
    InvalidRefreshTokenError,
    RateLimitedError,
    RefreshTokenReusedError,
    SessionRevokedError,
)

# Token failures say which rule refused (so clients know to sign in again) but never why a token failed to
# verify: "bad signature" versus "expired" would help someone forging tokens.
GATEWAY_ERRORS = ErrorTable(
    {
        InvalidAccessTokenError: ErrorReport(
            401, code="invalid_token", message="The access token is invalid or expired"
        ),
        SessionRevokedError: ErrorReport(
            401, code="session_revoked", message="The session has ended; sign in again"
        ),
        RefreshTokenReusedError: ErrorReport(
            401, code="token_reused", message="The refresh token was already used; the session was revoked"
        ),
        InvalidRefreshTokenError: ErrorReport(
            401, code="invalid_refresh_token", message="The refresh token is invalid or expired"
        ),
        # Retry-After comes from the error's retry_after_seconds.
        RateLimitedError: ErrorReport(
            429, code="too_many_requests", message="Too many requests; retry later"
        ),
        RedisError: ErrorReport(
            503, code="unavailable", message="The session store is unavailable", log=True
        ),
    }
)
