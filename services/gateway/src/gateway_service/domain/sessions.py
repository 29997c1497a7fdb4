"""Sessions and refresh-token families.

A session is one signed-in device. Its refresh tokens form a *family*: each refresh rotates the token, the old
one is kept as ``ROTATED`` until it expires, and presenting a rotated token again means it leaked (or was
replayed), so the whole family (the session and every access token bound to its id) is revoked. Refresh
tokens are opaque random strings; only their SHA-256 is stored so a store dump cannot be replayed.
"""

from __future__ import annotations

import enum
import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime

# 256 bits of entropy: unguessable, and long enough that hashing without a salt is safe.
_REFRESH_TOKEN_BYTES = 32


class RefreshTokenStatus(enum.StrEnum):
    ACTIVE = "active"
    ROTATED = "rotated"


@dataclass(frozen=True)
class Session:
    session_id: str
    user_id: str
    device_id: str | None
    created_at: datetime


@dataclass(frozen=True)
class RefreshTokenRecord:
    """What the store keeps about one refresh token (never the token itself)."""

    token_hash: str
    session_id: str
    user_id: str
    status: RefreshTokenStatus
    issued_at: datetime


class RefreshVerdict(enum.Enum):
    ROTATE = "rotate"
    UNKNOWN = "unknown"
    SESSION_ENDED = "session_ended"
    REUSED = "reused"


def new_session_id() -> str:
    return uuid.uuid4().hex


def new_refresh_token() -> str:
    return secrets.token_urlsafe(_REFRESH_TOKEN_BYTES)


def hash_refresh_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def judge_refresh(record: RefreshTokenRecord | None, *, session_live: bool) -> RefreshVerdict:
    """Decide what presenting a refresh token means.

    Reuse is checked before liveness so that replaying a rotated token after the family was already revoked
    is still reported as reuse (and the revocation repeated, which is harmless).
    """
    if record is None:
        return RefreshVerdict.UNKNOWN
    if record.status is RefreshTokenStatus.ROTATED:
        return RefreshVerdict.REUSED
    if not session_live:
        return RefreshVerdict.SESSION_ENDED
    return RefreshVerdict.ROTATE


@dataclass(frozen=True)
class AccessClaims:
    """The verified content of a user access token."""

    user_id: str
    session_id: str
    expires_at: datetime


@dataclass(frozen=True)
class IssuedTokens:
    """A fresh access/refresh pair handed to the client."""

    session_id: str
    user_id: str
    access_token: str
    refresh_token: str
    expires_in: int
