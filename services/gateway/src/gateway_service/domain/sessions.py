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
    # What auth said about the account's mailbox when the session started; it travels in every access
    # token and internal token of the session (services refuse some operations without it).
    email_verified: bool = False


@dataclass(frozen=True)
class RefreshTokenRecord:
    """What the store keeps about one refresh token (never the token itself)."""

    token_hash: str
    session_id: str
    user_id: str
    status: RefreshTokenStatus
    issued_at: datetime
    rotated_at: datetime | None = None


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


def judge_refresh(
    record: RefreshTokenRecord | None,
    *,
    session_live: bool,
    now: datetime | None = None,
    reuse_grace_seconds: float = 0.0,
) -> RefreshVerdict:
    """Decide what presenting a refresh token means.

    Reuse is checked before liveness so that replaying a rotated token after the family was already revoked
    is still reported as reuse (and the revocation repeated, which is harmless). A token rotated less than
    ``reuse_grace_seconds`` ago is not reuse but a second tab refreshing with the same token: it gets a
    sibling token of the same family (the window is seconds, far shorter than any replay of a stolen token).
    """
    if record is None:
        return RefreshVerdict.UNKNOWN
    if record.status is RefreshTokenStatus.ROTATED:
        if not (session_live and _within_grace(record.rotated_at, now, reuse_grace_seconds)):
            return RefreshVerdict.REUSED
        return RefreshVerdict.ROTATE
    if not session_live:
        return RefreshVerdict.SESSION_ENDED
    return RefreshVerdict.ROTATE


def _within_grace(rotated_at: datetime | None, now: datetime | None, grace_seconds: float) -> bool:
    if rotated_at is None or now is None or grace_seconds <= 0:
        return False
    return (now - rotated_at).total_seconds() <= grace_seconds


@dataclass(frozen=True)
class AccessClaims:
    """The verified content of a user access token."""

    user_id: str
    session_id: str
    expires_at: datetime
    email_verified: bool = False


@dataclass(frozen=True)
class IssuedTokens:
    """A fresh access/refresh pair handed to the client."""

    session_id: str
    user_id: str
    access_token: str
    refresh_token: str
    expires_in: int
