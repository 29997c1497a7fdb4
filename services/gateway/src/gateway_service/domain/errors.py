"""Domain errors of the gateway; ``gateway_service.entrypoints.errors`` maps each one to a status and code.

Their messages are for logs (they name sessions and rules), so the error table gives the client its own.
"""

from __future__ import annotations

from servicekit.domain_errors import DomainError


class GatewayDomainError(DomainError):
    """Base of every rule the gateway's domain can refuse with."""


class InvalidAccessTokenError(GatewayDomainError):
    """The bearer token is malformed, tampered with, expired or not an access token."""


class SessionRevokedError(GatewayDomainError):
    """The access token is well formed but its session was signed out or revoked."""


class InvalidRefreshTokenError(GatewayDomainError):
    """The refresh token is unknown, expired, or belongs to a session that has ended."""


class RefreshTokenReusedError(GatewayDomainError):
    """An already-rotated refresh token was presented again; its whole family has been revoked."""

    def __init__(self, session_id: str) -> None:
        super().__init__(f"refresh token of session {session_id} was reused; session revoked")
        self.session_id = session_id


class RateLimitedError(GatewayDomainError):
    """A rate-limit rule refused the request; the caller may retry after ``retry_after_seconds``."""

    def __init__(self, rule_name: str, retry_after_seconds: int) -> None:
        super().__init__(f"rate limit {rule_name!r} exceeded")
        self.rule_name = rule_name
        self.retry_after_seconds = retry_after_seconds
