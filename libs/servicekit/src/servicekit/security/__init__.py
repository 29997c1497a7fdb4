"""The gateway → service internal token: minting, verification and the FastAPI dependencies using it."""

from servicekit.security.dependencies import (
    CurrentUserIdDep,
    InternalPrincipalDep,
    VerifiedUserIdDep,
    current_user_id,
    verified_user_id,
    verify_internal_token,
)
from servicekit.security.tokens import (
    INTERNAL_TOKEN_ALGORITHM,
    MAX_INTERNAL_TOKEN_TTL_SECONDS,
    InternalPrincipal,
    InternalTokenIssuer,
    InternalTokenVerifier,
    generate_ed25519_keypair,
)

__all__ = [
    "INTERNAL_TOKEN_ALGORITHM",
    "MAX_INTERNAL_TOKEN_TTL_SECONDS",
    "CurrentUserIdDep",
    "InternalPrincipal",
    "InternalPrincipalDep",
    "InternalTokenIssuer",
    "InternalTokenVerifier",
    "VerifiedUserIdDep",
    "current_user_id",
    "generate_ed25519_keypair",
    "verified_user_id",
    "verify_internal_token",
]
