"""FastAPI dependencies that check the gateway's internal token and expose who is calling."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from servicekit.errors import Forbidden, Unauthorized
from servicekit.security.tokens import INVALID_TOKEN_MESSAGE, InternalPrincipal, InternalTokenVerifier

__all__ = [
    "CurrentUserIdDep",
    "InternalPrincipalDep",
    "VerifiedUserIdDep",
    "current_user_id",
    "verified_user_id",
    "verify_internal_token",
]

logger = logging.getLogger(__name__)

# auto_error=False: a missing or non-Bearer header must give our error body, not FastAPI's default 403.
_bearer_scheme = HTTPBearer(
    auto_error=False,
    scheme_name="InternalToken",
    description="EdDSA JWT minted by the gateway for this service (aud = service name).",
)


async def verify_internal_token(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer_scheme)],
) -> InternalPrincipal:
    """Verify the bearer token and remember the principal on `request.state.internal_principal`.

    FastAPI caches a dependency per request, so the app-wide check and an endpoint's `InternalPrincipalDep`
    verify the token once.
    """
    existing = getattr(request.state, "internal_principal", None)
    if isinstance(existing, InternalPrincipal):
        return existing
    verifier = getattr(request.app.state, "internal_token_verifier", None)
    if not isinstance(verifier, InternalTokenVerifier):
        # Misconfiguration (e.g. an app built with require_internal_token=False using the dependency):
        # refuse rather than let the request through unauthenticated.
        logger.error("internal token dependency used on an app without a verifier")
        raise Unauthorized(INVALID_TOKEN_MESSAGE)
    if credentials is None:
        raise Unauthorized(INVALID_TOKEN_MESSAGE)
    principal = verifier.verify(credentials.credentials)
    request.state.internal_principal = principal
    return principal


InternalPrincipalDep = Annotated[InternalPrincipal, Depends(verify_internal_token)]


async def current_user_id(principal: InternalPrincipalDep) -> str:
    """The signed-in user's id; anonymous calls (no `sub`) get 401."""
    subject: str | None = principal.subject
    if subject is None:
        raise Unauthorized("Sign-in required")
    return subject


CurrentUserIdDep = Annotated[str, Depends(current_user_id)]


async def verified_user_id(principal: InternalPrincipalDep) -> str:
    """The signed-in user's id when the gateway vouches that the account's email address is verified.

    For operations that put something in front of other people (a seller profile, a gig, an order, a
    message): 401 without a user, 403 `email_not_verified` when the token does not carry
    `email_verified: true`. A missing claim counts as unverified (fail closed).
    """
    subject = await current_user_id(principal)
    if not principal.email_verified:
        raise Forbidden("Verify your email address before doing this", code="email_not_verified")
    return subject


VerifiedUserIdDep = Annotated[str, Depends(verified_user_id)]
